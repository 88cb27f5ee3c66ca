"""More worker threads in the dynamic provider host, so resets in flight never block the engine.

The host (``python -m pulumi.dynamic``, pulumi 3.260.0) serves every call of a provider
process on a ``ThreadPoolExecutor(max_workers=4)``. A reset holds its worker for its whole
task. Worse, the engine generates steps one resource at a time and calls ``Check`` on the
resource's provider *synchronously* while doing so (``pkg/resource/deploy/step_generator.go``):
once a provider process has 4 resets in flight, the ``Check`` of the next resource of that
process waits in its queue, and so does the registration of every other resource of the
stack, whatever process it belongs to: more provider processes barely help (the figures are in
benchmarks/results/code_figures.md).

So, when the provider module is imported inside the host (on one of the pool's threads,
while the host unpickles the provider) and again in ``configure``, :func:`widen_running_host`
raises that pool's ``max_workers`` to :data:`WORKERS`. ``ThreadPoolExecutor`` starts threads only as work
arrives, so idle capacity costs nothing. It checks the shape it relies on first (the
current thread is a ``concurrent.futures`` pool worker of an executor with the host's 4
workers) and changes nothing otherwise, logging why once. ``POLARDB_RESET_HOST_WORKERS``
overrides the number (4 keeps the host as it is).
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.thread
import enum
import logging
import os
import threading
from typing import Final

from . import _host

log = logging.getLogger("pulumi_polardb_reset")

#: Workers of the host's pool as pulumi 3.260.0 starts it.
HOST_WORKERS: Final = 4
#: Workers after widening: more than the resets one process ever runs at once with the
#: CLI's --parallel up to 64 (its default is 4 x CPU cores).
WORKERS: Final = 64
#: Environment variable that overrides WORKERS (4: leave the host alone).
WORKERS_ENV: Final = "POLARDB_RESET_HOST_WORKERS"

_warned = False
_lock = threading.Lock()


class Widening(enum.Enum):
    """What :func:`widen_running_host` did."""

    NOT_A_HOST = "not running in the dynamic provider host"
    WIDENED = "worker pool widened"
    ALREADY = "worker pool already as wide"
    DISABLED = "left as it is (POLARDB_RESET_HOST_WORKERS)"
    NOT_A_POOL_THREAD = "not called on a worker thread; the next call tries again"
    UNKNOWN_SHAPE = "worker pool not recognised; left as it is"


def current_executor() -> concurrent.futures.ThreadPoolExecutor | None:
    """The ``ThreadPoolExecutor`` whose worker thread runs this code, or None.

    A pool thread runs ``concurrent.futures.thread._worker`` with a weak reference to its
    executor as first argument (CPython 3.8 to 3.14).
    """
    thread = threading.current_thread()
    if getattr(thread, "_target", None) is not getattr(concurrent.futures.thread, "_worker", 0):
        return None
    args = getattr(thread, "_args", ())
    reference = args[0] if args else None
    executor = reference() if callable(reference) else None
    return executor if isinstance(executor, concurrent.futures.ThreadPoolExecutor) else None


def requested_workers(env: dict[str, str] | os._Environ[str] = os.environ) -> int:
    """WORKERS, or the whole number from 1 to 1024 in POLARDB_RESET_HOST_WORKERS."""
    raw = env.get(WORKERS_ENV, "").strip()
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 1024:
        return int(raw)
    if raw:
        log.warning(
            "%s=%r is not a whole number from 1 to 1024; using %d", WORKERS_ENV, raw, WORKERS
        )
    return WORKERS


def widen_current_pool(workers: int) -> Widening:
    """Raise the max_workers of the pool running this thread to ``workers`` (exact shape only)."""
    global _warned
    executor = current_executor()
    if executor is None:
        return Widening.NOT_A_POOL_THREAD
    current = getattr(executor, "_max_workers", None)
    if not isinstance(current, int):
        reason = Widening.UNKNOWN_SHAPE
    elif current >= workers:
        return Widening.ALREADY
    elif current != HOST_WORKERS:
        reason = Widening.UNKNOWN_SHAPE
    else:
        with _lock:
            executor._max_workers = workers
        log.debug("provider host: %d worker threads (was %d)", workers, current)
        return Widening.WIDENED
    if not _warned:
        _warned = True
        log.warning(
            "the dynamic provider host's worker pool is not the one pulumi-polardb-reset knows; "
            "it keeps its size, so a provider process runs at most its own number of resets at once"
        )
    return reason


def widen_running_host() -> Widening:
    """At import of the provider module: widen the host's pool, if this is the host."""
    if _host.running_host() is None:
        return Widening.NOT_A_HOST
    workers = requested_workers()
    if workers <= HOST_WORKERS:
        return Widening.DISABLED
    return widen_current_pool(workers)


__all__ = [
    "HOST_WORKERS",
    "WORKERS",
    "WORKERS_ENV",
    "Widening",
    "current_executor",
    "requested_workers",
    "widen_current_pool",
    "widen_running_host",
]
