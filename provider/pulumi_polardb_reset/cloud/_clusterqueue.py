"""Resets of one cluster take turns within a provider process.

PolarDB runs one task per cluster at a time: a second ``ResetAccount`` while the first
one's task runs fails with ``ConcurrentTaskExceeded``. Several targets on one cluster (or
one account reset by several resources) would otherwise all call at once and burn their
retries against each other. Within a process they queue here instead: one reset of a
cluster runs from its pre-checks until its account is ``Available`` again (its task has
ended), then the next one starts and finds the cluster free. Across provider processes
nothing can be shared, so there the retry's jittered backoff
(:data:`~._pacing.RESET_BACKOFF`) keeps them from retrying in lockstep.

Waiting for a turn counts against the reset's own deadline (``timeout_seconds``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator

log = logging.getLogger("pulumi_polardb_reset")

#: How often a wait for a turn looks for an engine's cancellation.
CANCEL_POLL_SECONDS = 0.2
#: (region, cluster ID): the same cluster whatever endpoint reaches it.
ClusterKey = tuple[str, str]


class TurnTimeoutError(Exception):
    """The cluster's turn did not come before the deadline."""


class ClusterQueue:
    """One lock per cluster, created on first use (a stack has a bounded set of clusters)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[ClusterKey, threading.Lock] = {}

    def _lock(self, key: ClusterKey) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    @contextlib.contextmanager
    def turn(
        self,
        key: ClusterKey,
        *,
        timeout: float,
        on_wait: Callable[[], None] | None = None,
        cancelled: Callable[[], None] | None = None,
    ) -> Iterator[bool]:
        """Hold the cluster's turn inside the block; yields whether it had to wait.

        Raises :class:`TurnTimeoutError` when the turn did not come within ``timeout`` seconds.
        ``on_wait`` runs once, before waiting, when another reset holds the turn.
        ``cancelled`` runs while waiting (every :data:`CANCEL_POLL_SECONDS`) and raises to
        stop waiting (an engine's cancellation).
        """
        lock = self._lock(key)
        waited = False
        if not lock.acquire(blocking=False):
            waited = True
            if on_wait is not None:
                on_wait()
            if not self._acquire(lock, max(0.0, timeout), cancelled):
                raise TurnTimeoutError(f"cluster {key[1]} stayed busy for {timeout:.1f} s")
        try:
            yield waited
        finally:
            lock.release()

    @staticmethod
    def _acquire(
        lock: threading.Lock, timeout: float, cancelled: Callable[[], None] | None
    ) -> bool:
        if cancelled is None:
            return lock.acquire(timeout=timeout)
        end = time.monotonic() + timeout
        while True:
            cancelled()
            left = end - time.monotonic()
            if left <= 0:
                return lock.acquire(blocking=False)
            if lock.acquire(timeout=min(left, CANCEL_POLL_SECONDS)):
                return True


#: The provider process's queue (one per process: resets run on the host's worker threads).
QUEUE = ClusterQueue()

__all__ = ["QUEUE", "ClusterKey", "ClusterQueue", "TurnTimeoutError"]
