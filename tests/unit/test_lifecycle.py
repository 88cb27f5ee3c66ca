"""The engine-agnostic lifecycle: typed check, warning sink, engine deadline, cancellation."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from pulumi_polardb_reset import lifecycle
from pulumi_polardb_reset.cloud._client import AccountInfo, ClusterInfo
from pulumi_polardb_reset.cloud._clusterqueue import ClusterQueue
from pulumi_polardb_reset.cloud._operations import Resetter, Target
from pulumi_polardb_reset.cloud._retry import Deadline
from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.core._errors import ErrorCode, OperationCancelledError
from pulumi_polardb_reset.lifecycle import _crud

CONFIG = lifecycle.ProviderConfig(
    {
        "alicloud:accessKey": "LTAI5tUnitKey",
        "alicloud:secretKey": "unit-secret",
        "alicloud:region": "cn-hangzhou",
    },
    {},
)


@dataclass
class BusyCluster:
    """A cluster whose reset task never ends; ``polled`` is set at each settle poll, which
    then answers only once ``hold_polls_until`` (when given) is set."""

    polled: threading.Event = field(default_factory=threading.Event)
    calls: list[str] = field(default_factory=list)
    reset: bool = False
    hold_polls_until: threading.Event | None = None

    def describe_cluster(self, cluster_id: str) -> ClusterInfo:
        self.calls.append("DescribeDBClusterAttribute")
        return ClusterInfo(cluster_id, "Running", "MySQL", "cn-hangzhou")

    def describe_accounts(
        self, cluster_id: str, account_name: str | None = None
    ) -> list[AccountInfo]:
        self.calls.append("DescribeAccounts")
        if self.reset:
            self.polled.set()
            if self.hold_polls_until is not None:
                self.hold_polls_until.wait()
        status = "Creating" if self.reset else "Available"
        return [AccountInfo("dbadmin", status, "Super", "UnLock")]

    def reset_account(self, cluster_id: str, account_name: str, password: str | None) -> str:
        self.calls.append("ResetAccount")
        self.reset = True
        return "request-1"


def test_check_gives_typed_inputs_or_the_same_failures() -> None:
    outcome = lifecycle.check(
        {p.DB_CLUSTER_ID: "pc-abc123", p.ACCOUNT_NAME: "dbadmin", p.RESET_NONCE: 2.0}, CONFIG
    )
    assert outcome.failures == ()
    assert outcome.inputs == lifecycle.ResetInputs("pc-abc123", "dbadmin", reset_nonce="2")
    assert outcome.props[p.RESET_NONCE] == "2"
    bad = lifecycle.check({p.DB_CLUSTER_ID: "rm-nope", p.ACCOUNT_NAME: "dbadmin"}, CONFIG)
    assert bad.inputs is None
    assert [f.property for f in bad.failures] == [p.DB_CLUSTER_ID]
    assert "is not a PolarDB cluster ID" in bad.failures[0].reason
    with pytest.raises(lifecycle.ResetError, match="is not a PolarDB cluster ID") as info:
        lifecycle.require_inputs({p.DB_CLUSTER_ID: "rm-nope", p.ACCOUNT_NAME: "dbadmin"}, CONFIG)
    assert info.value.code == ErrorCode.INVALID_INPUT


def test_read_by_id_alone_adopts_with_no_write_and_warns_through_the_sink(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What ``pulumi import <type> <name> pc-abc123:dbadmin`` asks of a native engine."""
    cluster = BusyCluster()
    monkeypatch.setattr(_crud, "PolarDBClient", lambda *a, **k: cluster)
    warnings: list[str] = []
    state = lifecycle.read("pc-abc123:dbadmin", None, CONFIG, lifecycle.Call(warn=warnings.append))
    assert state is not None
    assert (state.db_cluster_id, state.account_name, state.account_status) == (
        "pc-abc123",
        "dbadmin",
        "Available",
    )
    assert cluster.calls == ["DescribeAccounts"]
    (warning,) = warnings
    assert "account 'dbadmin' on PolarDB cluster 'pc-abc123' not checked" in warning
    assert "no password to log in with" in warning


def test_the_engine_deadline_replaces_timeout_seconds() -> None:
    call = lifecycle.Call(timeout_seconds=5)
    assert call.seconds(900) == 5.0
    assert lifecycle.Call().seconds(900) == 900.0
    resetter = call.resetter(BusyCluster(), Target("pc-a", "dbadmin", "cn-hangzhou", 5.0))  # type: ignore[arg-type]
    assert resetter.deadline.seconds == 5.0 and resetter.deadline.cancel is None


@pytest.mark.timeout(120)  # without cancellation the wait would last its hour
def test_cancel_stops_the_settle_wait() -> None:
    cancel = threading.Event()
    # The engine cancels (another thread) while the first settle poll is in flight.
    cluster = BusyCluster(hold_polls_until=cancel)
    target = Target("pc-abc123", "dbadmin", "cn-hangzhou", 3600)
    resetter = Resetter(
        cluster,  # type: ignore[arg-type]
        target,
        deadline=Deadline(3600, cancel=cancel),
        queue=ClusterQueue(),
    )

    def cancel_once_polled() -> None:
        cluster.polled.wait()
        cancel.set()

    thread = threading.Thread(target=cancel_once_polled)
    thread.start()
    with pytest.raises(OperationCancelledError, match="cancelled after") as info:
        resetter.run(None)
    thread.join()
    assert info.value.code == ErrorCode.CANCELLED
    assert str(info.value).endswith("[Cancelled]")
    # The poll in flight when the engine cancelled is the last call: no further poll, no
    # second reset.
    after_reset = cluster.calls[cluster.calls.index("ResetAccount") :]
    assert after_reset == ["ResetAccount", "DescribeAccounts"]


@pytest.mark.timeout(120)
def test_cancel_stops_waiting_for_the_clusters_turn() -> None:
    queue = ClusterQueue()
    cancel = threading.Event()
    deadline = Deadline(3600, cancel=cancel)
    waiting = threading.Event()
    outcome: list[Any] = []

    def second() -> None:
        try:
            with queue.turn(
                ("cn-hangzhou", "pc-a"),
                timeout=3600,
                on_wait=waiting.set,
                cancelled=deadline.raise_if_cancelled,
            ):
                outcome.append("turn")
        except OperationCancelledError as exc:
            outcome.append(exc)

    with queue.turn(("cn-hangzhou", "pc-a"), timeout=1):
        thread = threading.Thread(target=second)
        thread.start()
        waiting.wait()
        cancel.set()
        thread.join()
    (result,) = outcome
    assert isinstance(result, OperationCancelledError)
