"""How often a reset asks PolarDB: the settle polls after ResetAccount, and ResetAccount's retries.

Both plug into the one retry policy of :mod:`._retry` as :class:`~._retry.Backoff` values, so
the deadline rules (a sleep is cut to what remains, the last attempt starts at the deadline,
``x-acs-retry-after`` is honoured) stay in one place.

* :data:`SETTLE_BACKOFF`: most resets end within seconds, so the first polls come fast and
  never more than ``fast_cap`` apart while ``fast_for`` seconds of waiting have not passed: a
  reset returns within about half a second of the task's end. After that the interval grows
  with the time already waited (half of it, at most ``maximum``): a long task costs a
  logarithmic number of polls, not one every half second.
* :data:`RESET_BACKOFF`: ``ConcurrentTaskExceeded`` means another task runs on the cluster,
  often a reset of the same cluster from another provider process. Exponential backoff whose
  every delay is scaled by a random factor in ``[1 - spread, 1 + spread]``: processes that
  collided once do not retry in lockstep (the thundering herd of a small additive jitter).
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Final

import tenacity

from ._retry import Backoff


@functools.lru_cache(maxsize=8)
def _settle_schedule(
    initial: float,
    multiplier: float,
    fast_cap: float,
    fast_for: float,
    growth: float,
    maximum: float,
) -> tuple[float, ...]:
    """The sleeps before polls 2, 3, ... (without jitter), up to one day of waiting."""
    delays: list[float] = []
    waited = 0.0
    fast = initial
    while waited < 86_400.0:
        if waited < fast_for:
            delay = min(fast, fast_cap)
            fast *= multiplier
        else:
            delay = min(maximum, max(fast_cap, waited * growth))
        delays.append(delay)
        waited += delay
    return tuple(delays)


class _ScheduleWait(tenacity.wait.wait_base):
    """A tenacity wait that takes the n-th delay of a fixed schedule, with relative jitter."""

    def __init__(self, delays: tuple[float, ...], jitter: float) -> None:
        self.delays = delays
        self.jitter = jitter

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        index = min(retry_state.attempt_number, len(self.delays)) - 1
        return self.delays[index] * random.uniform(1.0 - self.jitter, 1.0 + self.jitter)  # noqa: S311


@dataclass(frozen=True)
class SettleBackoff(Backoff):
    """Fast polls (at most ``fast_cap`` apart) for ``fast_for`` seconds, then ``growth`` x waited.

    ``jitter`` is relative here (0.1: each sleep within 10 % of the schedule).
    """

    fast_cap: float = 0.4
    fast_for: float = 3.0
    growth: float = 0.5

    def schedule(self) -> tuple[float, ...]:
        """The sleeps between polls, without jitter."""
        return _settle_schedule(
            self.initial, self.multiplier, self.fast_cap, self.fast_for, self.growth, self.maximum
        )

    def waiter(self) -> tenacity.wait.wait_base:
        """The tenacity wait strategy: the schedule with relative jitter."""
        return _ScheduleWait(self.schedule(), self.jitter)


class _SpreadWait(tenacity.wait.wait_base):
    """Capped exponential backoff, each delay times a random factor in [1 - spread, 1 + spread]."""

    def __init__(self, initial: float, multiplier: float, maximum: float, spread: float) -> None:
        self.initial = initial
        self.multiplier = multiplier
        self.maximum = maximum
        self.spread = spread

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exponent = max(0, retry_state.attempt_number - 1)
        base = min(self.maximum, self.initial * self.multiplier**exponent)
        return base * random.uniform(1.0 - self.spread, 1.0 + self.spread)  # noqa: S311


@dataclass(frozen=True)
class SpreadBackoff(Backoff):
    """Capped exponential backoff with proportional jitter (``jitter`` is the spread, 0 to 1)."""

    def waiter(self) -> tenacity.wait.wait_base:
        """The tenacity wait strategy."""
        return _SpreadWait(self.initial, self.multiplier, self.maximum, self.jitter)


#: Polls while the account settles after ResetAccount (0.2, 0.3, 0.4, 0.4, ... s; after 3 s
#: of waiting, half the time waited, at most 5 s).
SETTLE_BACKOFF: Final = SettleBackoff(initial=0.2, maximum=5.0, multiplier=1.5, jitter=0.1)
#: Retries of ResetAccount (busy cluster, throttling, 5xx, network): 1, 2, 4, 8, 16, 20 s, each
#: between half and one and a half times that.
RESET_BACKOFF: Final = SpreadBackoff(initial=1.0, maximum=20.0, multiplier=2.0, jitter=0.5)

__all__ = ["RESET_BACKOFF", "SETTLE_BACKOFF", "SettleBackoff", "SpreadBackoff"]
