"""One retry/wait policy for every API call and every wait (tenacity underneath).

Dynamic providers get no custom timeouts from the engine and cannot be
cancelled, so each operation carries its own :class:`Deadline`
(``timeout_seconds``). Retries and polls use all of it: a sleep is cut to what
remains, so the last attempt starts at the deadline, and the policy gives up
only once the deadline has passed. While a call runs under the policy, its
deadline is the :func:`current_deadline`, which the client uses to bound the
call itself (connect, read, body): an attempt ends by the deadline, and the
last one, which starts there, shortly after.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

import tenacity

from ..core._errors import ApiError, ApiFailure, OperationCancelledError, WaitTimeoutError

T = TypeVar("T")

# A deadline closer than this counts as passed: an attempt that would start a
# millisecond before it cannot do better than the one that just failed.
_TOLERANCE_SECONDS: Final = 1e-3


class Deadline:
    """A point in time after which an operation gives up, with the clock and sleep it runs on.

    ``clock`` and ``sleep`` are injectable so the policy can be tested on a fake clock.
    ``cancel``, set by an engine that can cancel (the native plugin's ``Cancel``), ends
    every sleep at once with :class:`OperationCancelledError`; the deadline's sleeps then
    wait on it instead of ``sleep``.
    """

    def __init__(
        self,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        cancel: threading.Event | None = None,
    ):
        self.seconds = seconds
        self.cancel = cancel
        self._clock = clock
        self._sleep = sleep
        self._start = clock()
        self._end = self._start + seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._end - self._clock())

    def elapsed(self) -> float:
        """Seconds since the deadline was set."""
        return self._clock() - self._start

    @property
    def expired(self) -> bool:
        """Tell whether the deadline has passed."""
        return self.remaining() <= _TOLERANCE_SECONDS

    @property
    def cancelled(self) -> bool:
        """Tell whether the engine cancelled the operation."""
        return self.cancel is not None and self.cancel.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`OperationCancelledError` once the engine cancelled the operation."""
        if self.cancelled:
            raise OperationCancelledError(
                f"cancelled after {self.elapsed():.1f} s: the engine asked the provider to stop "
                "(Ctrl-C). A reset already accepted by PolarDB still completes; the next "
                "`pulumi up` checks the account again."
            )

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` on this deadline's clock; stop at once when cancelled."""
        if self.cancel is None:
            self._sleep(seconds)
            return
        self.raise_if_cancelled()
        self.cancel.wait(seconds)
        self.raise_if_cancelled()


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


#: An attempt that starts at (or just before) the deadline still gets this long, so that the
#: last retry and the last poll, which run at the deadline, can complete: an operation ends
#: at most this long after its deadline (plus bookkeeping).
LAST_ATTEMPT_SECONDS: Final = 1.0

_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "pulumi_polardb_reset_deadline", default=None
)


def current_deadline() -> Deadline | None:
    """The deadline of the :func:`call_with_retries` running in this thread, if any."""
    return _CURRENT.get()


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
        # The last sleep ends at the deadline, where one more attempt runs.
        return min(delay, deadline.remaining())

    return wait


def _stop_at(deadline: Deadline) -> Callable[[tenacity.RetryCallState], bool]:
    def stop(_state: tenacity.RetryCallState) -> bool:
        # Only once the deadline has passed: never because the next sleep would reach it.
        return deadline.expired

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
    error is terminal. Any other exception propagates at once: it is a bug,
    not a reason to try again.
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
        sleep=deadline.sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    token = _CURRENT.set(deadline)
    try:
        return retrying(call)
    finally:
        _CURRENT.reset(token)


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
        sleep=deadline.sleep,
        retry_error_callback=_raise_timeout,
    )
    return retrying(probe)


def _raise_timeout(state: tenacity.RetryCallState) -> None:
    last = state.outcome.result() if state.outcome is not None else None
    raise WaitTimeoutError(last)


__all__ = [
    "CALL_BACKOFF",
    "LAST_ATTEMPT_SECONDS",
    "POLL_BACKOFF",
    "Backoff",
    "Deadline",
    "call_with_retries",
    "current_deadline",
    "wait_until",
]
