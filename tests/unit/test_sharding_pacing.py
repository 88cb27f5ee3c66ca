"""API economy and per-cluster turns of a reset, on fake clients (no network).

How many calls a reset makes when its task ends at once, after 2 s and after 30 s, how soon
it returns after the task's end; resets of one cluster taking turns within a process; the
jittered retry of a busy cluster.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from dataclasses import dataclass, field

import pytest
import tenacity
from conftest import FakeClock

from pulumi_polardb_reset.cloud._client import AccountInfo, ClusterInfo
from pulumi_polardb_reset.cloud._clusterqueue import ClusterQueue
from pulumi_polardb_reset.cloud._operations import Resetter, Target
from pulumi_polardb_reset.cloud._pacing import RESET_BACKOFF, SETTLE_BACKOFF, SettleBackoff
from pulumi_polardb_reset.cloud._retry import Deadline
from pulumi_polardb_reset.core._errors import ApiError, ApiFailure, ErrorCode, ResetTimeoutError


@dataclass
class TaskClient:
    """A cluster whose ResetAccount task takes ``task_seconds`` on ``clock``; counts calls."""

    clock: FakeClock
    task_seconds: float
    calls: list[tuple[str, float]] = field(default_factory=list)
    task_ends: float | None = None

    def describe_cluster(self, cluster_id: str) -> ClusterInfo:
        self.calls.append(("DescribeDBClusterAttribute", self.clock.now))
        return ClusterInfo(cluster_id, "Running", "MySQL", "cn-hangzhou")

    def describe_accounts(
        self, cluster_id: str, account_name: str | None = None
    ) -> list[AccountInfo]:
        self.calls.append(("DescribeAccounts", self.clock.now))
        busy = self.task_ends is not None and self.clock.now < self.task_ends
        return [AccountInfo("dbadmin", "Creating" if busy else "Available", "Super", "UnLock")]

    def reset_account(self, cluster_id: str, account_name: str, password: str | None) -> str:
        self.calls.append(("ResetAccount", self.clock.now))
        self.task_ends = self.clock.now + self.task_seconds
        return "request-1"


def run_reset(task_seconds: float, timeout: float = 900) -> tuple[TaskClient, FakeClock]:
    clock = FakeClock()
    client = TaskClient(clock, task_seconds)
    target = Target("pc-abc123", "dbadmin", "cn-hangzhou", timeout)
    deadline = Deadline(timeout, clock=clock, sleep=clock.sleep)
    Resetter(client, target, deadline=deadline, queue=ClusterQueue()).run(None)  # type: ignore[arg-type]
    return client, clock


def polls(client: TaskClient) -> list[float]:
    """The times of the DescribeAccounts calls after ResetAccount (the settle polls)."""
    actions = [action for action, _ in client.calls]
    after = actions.index("ResetAccount") + 1
    return [t for action, t in client.calls[after:] if action == "DescribeAccounts"]


def test_a_task_that_ends_at_once_costs_four_calls() -> None:
    client, clock = run_reset(0)
    assert [a for a, _ in client.calls] == [
        "DescribeDBClusterAttribute",
        "DescribeAccounts",
        "ResetAccount",
        "DescribeAccounts",
    ]
    assert clock.now == 0


@pytest.mark.parametrize("task", [0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 2.9])
def test_a_short_task_returns_within_half_a_second_of_its_end(task: float) -> None:
    for _ in range(20):  # the jitter is random: every draw keeps the bound
        _, clock = run_reset(task)
        assert task <= clock.now <= task + 0.5, clock.now


def test_polls_for_two_and_thirty_second_tasks() -> None:
    """Counted here (no request time) and by the benchmark (real emulator): 7 and 17."""
    two = [len(polls(run_reset(2.0)[0])) for _ in range(20)]
    thirty = [len(polls(run_reset(30.0)[0])) for _ in range(20)]
    assert max(two) <= 8 and statistics.median(two) == 7, two
    assert max(thirty) <= 18, thirty
    # The old policy (0.2 s x 1.5, at most 5 s) took 6 polls and up to 0.64 s too long
    # for 2 s, 13 polls and up to 5 s too long for 30 s.


def test_a_long_task_is_polled_less_and_less() -> None:
    client, clock = run_reset(300.0)
    times = polls(client)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) <= 5.0 * 1.1
    assert len(times) <= 75  # 300 s at one poll per 0.4 s would be 750
    assert clock.now - 300.0 <= 5.5


def test_settle_schedule_shape() -> None:
    delays = SETTLE_BACKOFF.schedule()
    assert delays[:4] == pytest.approx([0.2, 0.3, 0.4, 0.4])
    waited = 0.0
    for delay in delays:
        if waited < 3.0:
            assert delay <= 0.4
        else:
            assert delay == pytest.approx(min(5.0, max(0.4, waited * 0.5)))
        waited += delay
    assert SettleBackoff(initial=0.2, maximum=5.0, multiplier=1.5).schedule() == delays


def test_reset_retries_spread_out() -> None:
    """ConcurrentTaskExceeded retries: base 1, 2, 4 ... s, each within +-50 %, not in lockstep."""
    wait = RESET_BACKOFF.waiter()
    for attempt, base in ((1, 1.0), (2, 2.0), (3, 4.0), (6, 20.0), (9, 20.0)):
        draws = [wait(_state(attempt)) for _ in range(200)]
        assert all(base * 0.5 <= d <= base * 1.5 for d in draws)
        assert max(draws) - min(draws) > base * 0.5  # spread, not a fixed delay


def _state(attempt: int) -> tenacity.RetryCallState:
    state = tenacity.RetryCallState(tenacity.Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    return state


# -- resets of one cluster take turns -------------------------------------------------


class OneTaskCluster:
    """A real-time cluster with one task at a time, shared by several resets (threads)."""

    def __init__(self, task_seconds: float) -> None:
        self.task_seconds = task_seconds
        self.lock = threading.Lock()
        self.task_ends = 0.0
        self.busy_answers = 0
        self.accepted = 0

    def describe_cluster(self, cluster_id: str) -> ClusterInfo:
        return ClusterInfo(cluster_id, "Running", "MySQL", "cn-hangzhou")

    def describe_accounts(
        self, cluster_id: str, account_name: str | None = None
    ) -> list[AccountInfo]:
        with self.lock:
            busy = time.monotonic() < self.task_ends
        return [AccountInfo("dbadmin", "Creating" if busy else "Available", "Super", "UnLock")]

    def reset_account(self, cluster_id: str, account_name: str, password: str | None) -> str:
        with self.lock:
            if time.monotonic() < self.task_ends:
                self.busy_answers += 1
                raise ApiError(ApiFailure("ConcurrentTaskExceeded", "busy", status=403))
            self.task_ends = time.monotonic() + self.task_seconds
            self.accepted += 1
        return f"request-{self.accepted}"


def reset_concurrently(
    client: OneTaskCluster, queue: ClusterQueue, clusters: list[str], timeout: float = 30
) -> list[BaseException]:
    errors: list[BaseException] = []

    def one(cluster: str) -> None:
        target = Target(cluster, "dbadmin", "cn-hangzhou", timeout)
        try:
            Resetter(client, target, queue=queue).run(None)  # type: ignore[arg-type]
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(c,)) for c in clusters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_resets_of_one_cluster_queue_in_a_process() -> None:
    client = OneTaskCluster(task_seconds=0.3)
    start = time.monotonic()
    errors = reset_concurrently(client, ClusterQueue(), ["pc-abc123"] * 4)
    assert errors == []
    assert client.accepted == 4 and client.busy_answers == 0
    assert time.monotonic() - start >= 4 * 0.3


class HeldClusters:
    """Clusters whose tasks run until released: how many resets hold a task at once."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.release = threading.Event()
        self.accepted: list[str] = []

    def describe_cluster(self, cluster_id: str) -> ClusterInfo:
        return ClusterInfo(cluster_id, "Running", "MySQL", "cn-hangzhou")

    def describe_accounts(
        self, cluster_id: str, account_name: str | None = None
    ) -> list[AccountInfo]:
        with self.changed:
            running = cluster_id in self.accepted and not self.release.is_set()
        return [AccountInfo("dbadmin", "Creating" if running else "Available", "Super", "UnLock")]

    def reset_account(self, cluster_id: str, account_name: str, password: str | None) -> str:
        with self.changed:
            self.accepted.append(cluster_id)
            self.changed.notify_all()
        return f"request-{cluster_id}"


def test_different_clusters_do_not_wait_for_each_other() -> None:
    """Three clusters' tasks held: all three are accepted before any ends (no clock involved)."""
    clusters = HeldClusters()
    errors: list[list[BaseException]] = []
    runner = threading.Thread(
        target=lambda: errors.append(
            reset_concurrently(clusters, ClusterQueue(), ["pc-a1", "pc-a2", "pc-a3"])  # type: ignore[arg-type]
        )
    )
    runner.start()
    try:
        with clusters.changed:
            all_in_flight = clusters.changed.wait_for(lambda: len(clusters.accepted) == 3, 60)
    finally:
        clusters.release.set()
        runner.join(120)
    assert all_in_flight, clusters.accepted
    assert errors == [[]]
    assert sorted(clusters.accepted) == ["pc-a1", "pc-a2", "pc-a3"]


def test_waiting_for_a_turn_counts_against_the_deadline() -> None:
    queue = ClusterQueue()
    client = OneTaskCluster(task_seconds=0.2)
    target = Target("pc-abc123", "dbadmin", "cn-hangzhou", 0.3)
    with (
        queue.turn(("cn-hangzhou", "pc-abc123"), timeout=1),
        pytest.raises(ResetTimeoutError) as info,
    ):
        Resetter(client, target, queue=queue).run(None)  # type: ignore[arg-type]
    assert info.value.code == ErrorCode.TIMEOUT
    assert "other resets of this cluster in this provider process" in str(info.value)
    assert client.accepted == 0


def test_without_the_queue_resets_of_one_cluster_collide() -> None:
    """What the queue prevents: each reset with its own queue (as in separate processes)."""
    client = OneTaskCluster(task_seconds=0.3)
    errors: list[BaseException] = []

    def one() -> None:
        target = Target("pc-abc123", "dbadmin", "cn-hangzhou", 30)
        try:
            Resetter(client, target, queue=ClusterQueue()).run(None)  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and client.accepted == 3
    assert client.busy_answers >= 2  # they met the busy cluster and backed off
