"""Widening the dynamic provider host's worker pool (``_workers``), on real thread pools."""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import types

import pytest

from pulumi_polardb_reset.dynamic import _host, _workers
from pulumi_polardb_reset.dynamic._workers import (
    HOST_WORKERS,
    WORKERS,
    Widening,
    current_executor,
    requested_workers,
    widen_current_pool,
    widen_running_host,
)


def run_in_pool(pool: concurrent.futures.ThreadPoolExecutor, workers: int) -> Widening:
    return pool.submit(widen_current_pool, workers).result(timeout=10)


def concurrent_tasks(pool: concurrent.futures.ThreadPoolExecutor, tasks: int) -> bool:
    """Whether ``tasks`` tasks can all run at once in ``pool`` (a barrier they all reach)."""
    barrier = threading.Barrier(tasks, timeout=2)

    def wait() -> bool:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return False
        return True

    results = [pool.submit(wait) for _ in range(tasks)]
    return all(f.result(timeout=10) for f in results)


def test_the_host_pool_is_widened_from_inside_one_of_its_threads() -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=HOST_WORKERS) as pool:
        assert not concurrent_tasks(pool, HOST_WORKERS + 1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=HOST_WORKERS) as pool:
        assert pool.submit(current_executor).result() is pool
        assert run_in_pool(pool, 16) is Widening.WIDENED
        assert concurrent_tasks(pool, 16)
        assert run_in_pool(pool, 16) is Widening.ALREADY


def test_an_unknown_pool_is_left_alone_and_said_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_workers, "_warned", False)
    caplog.set_level(logging.WARNING, logger="pulumi_polardb_reset")
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        assert run_in_pool(pool, 16) is Widening.UNKNOWN_SHAPE
        assert pool._max_workers == 3
    assert widen_current_pool(16) is Widening.NOT_A_POOL_THREAD  # silent: tried again later
    assert current_executor() is None
    assert len(caplog.records) == 1 and "keeps its size" in caplog.records[0].getMessage()


def test_only_inside_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    assert widen_running_host() is Widening.NOT_A_HOST  # pytest is not the host
    host = types.ModuleType("pulumi.dynamic.__main__")
    monkeypatch.setattr(_host, "running_host", lambda: host)
    monkeypatch.setenv(_workers.WORKERS_ENV, "4")
    assert widen_running_host() is Widening.DISABLED
    monkeypatch.delenv(_workers.WORKERS_ENV)
    with concurrent.futures.ThreadPoolExecutor(max_workers=HOST_WORKERS) as pool:
        assert pool.submit(widen_running_host).result(timeout=10) is Widening.WIDENED
        assert pool._max_workers == WORKERS


@pytest.mark.parametrize(
    ("raw", "workers"), [("", WORKERS), ("8", 8), ("1024", 1024), ("0", WORKERS), ("x", WORKERS)]
)
def test_requested_workers(raw: str, workers: int) -> None:
    assert requested_workers({_workers.WORKERS_ENV: raw} if raw else {}) == workers


def test_the_dynamic_host_still_has_the_shape_it_relies_on() -> None:
    """pulumi 3.260.0's host: ThreadPoolExecutor(max_workers=4) for the gRPC server."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("pulumi.dynamic")
    assert spec is not None and spec.origin is not None
    source = (Path(spec.origin).parent / "__main__.py").read_text()
    assert "futures.ThreadPoolExecutor(max_workers=4)" in source
