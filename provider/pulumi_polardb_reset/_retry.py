"""One retry/wait policy for every API call and every wait (tenacity underneath).

Dynamic providers get no custom timeouts from the engine and cannot be
cancelled, so each operation carries its own :class:`Deadline`
(``timeout_seconds``); retries and waits stop when it runs out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from ._errors import ApiFailure

T = TypeVar("T")


class ApiError(Exception):
    """Raised by the client wrapper for every failed call; carries the SDK-free failure."""

    def __init__(self, failure: ApiFailure):
        super().__init__(f"{failure.code}: {failure.message}")
        self.failure = failure


class Deadline:
    """A point in (monotonic) time after which an operation gives up."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._end - self._clock())

    @property
    def expired(self) -> bool:
        """Tell whether no time is left."""
        return self.remaining() <= 0


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with jitter: ``initial * multiplier**n``, at most ``maximum``."""

    initial: float
    maximum: float
    multiplier: float = 2.0
    jitter: float = 0.25

    def waiter(self) -> tenacity.wait.wait_base:
        """The tenacity wait strategy for this backoff."""
        return tenacity.wait_exponential_jitter(
            multiplier=self.initial, max=self.maximum, exp_base=self.multiplier, jitter=self.jitter
        )


#: Backoff between retries of a failed call (busy cluster, throttling, 5xx, network).
CALL_BACKOFF = Backoff(initial=1.0, maximum=20.0)
#: Backoff between polls while waiting for an account to settle: fast first, then slower.
POLL_BACKOFF = Backoff(initial=0.2, maximum=5.0, multiplier=1.5, jitter=0.1)


def _sleep_for(backoff: Backoff, deadline: Deadline) -> Callable[[tenacity.RetryCallState], float]:
    base = backoff.waiter()

    def wait(state: tenacity.RetryCallState) -> float:
        delay = base(state)
        outcome = state.outcome
        if outcome is not None and outcome.failed:
            exc = outcome.exception()
            if isinstance(exc, ApiError) and exc.failure.retry_after_seconds:
                # The server said when to come back: never earlier than that.
                delay = max(delay, exc.failure.retry_after_seconds)
        return min(delay, deadline.remaining())

    return wait


def _stop_at(deadline: Deadline) -> Callable[[tenacity.RetryCallState], bool]:
    def stop(state: tenacity.RetryCallState) -> bool:
        upcoming = state.upcoming_sleep or 0.0
        return deadline.expired or deadline.remaining() <= upcoming

    return stop


def call_with_retries(
    call: Callable[[], T],
    *,
    deadline: Deadline,
    backoff: Backoff = CALL_BACKOFF,
    on_retry: Callable[[ApiFailure, float], None] | None = None,
) -> T:
    """Run ``call``; retry retryable :class:`ApiError` until it succeeds or ``deadline`` passes.

    The last error is re-raised unchanged when the policy gives up or the
    error is terminal.
    """

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_retry is None or state.outcome is None:
            return
        exc = state.outcome.exception()
        if isinstance(exc, ApiError):
            on_retry(exc.failure, state.upcoming_sleep or 0.0)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(
            lambda e: isinstance(e, ApiError) and e.failure.retryable
        ),
        wait=_sleep_for(backoff, deadline),
        stop=_stop_at(deadline),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(call)


class WaitTimeoutError(Exception):
    """The awaited condition did not hold before the deadline; carries the last observation."""

    def __init__(self, last: object):
        super().__init__("deadline passed while waiting")
        self.last = last


def wait_until(
    probe: Callable[[], T],
    done: Callable[[T], bool],
    *,
    deadline: Deadline,
    backoff: Backoff = POLL_BACKOFF,
) -> T:
    """Poll ``probe`` until ``done(result)``; ``probe`` raises to stop at once (failed, locked).

    Raises :class:`WaitTimeoutError` with the last result when the deadline passes.
    """
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_result(lambda result: not done(result)),
        wait=_sleep_for(backoff, deadline),
        stop=_stop_at(deadline),
        retry_error_callback=lambda state: _raise_timeout(state),
    )
    return retrying(probe)


def _raise_timeout(state: tenacity.RetryCallState) -> None:
    last = state.outcome.result() if state.outcome is not None else None
    raise WaitTimeoutError(last)
