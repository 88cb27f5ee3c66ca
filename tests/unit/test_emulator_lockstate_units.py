"""The emulator's account health rules on a fake clock: lock state and password validity
reach the account backend when they should, time passing expires a password, and the
state file keeps a ModifyAccountLockState task in flight."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import FakeClock
from emulator_harness import DEFAULT_SEED

from polardb_emulator import Model, parse_seed
from polardb_emulator._requestlog import redact
from polardb_emulator._state import StateError, check_state, load_state
from polardb_emulator.polardb.backend import InMemoryAccountBackend, InMemoryDatabases

MYSQL = "pc-mysql00000001"
#: 2030-01-01T00:00:00Z
NOW = datetime(2030, 1, 1, tzinfo=UTC).timestamp()


class Recording(InMemoryAccountBackend):
    """Records what reaches the database: ``(call, name, value)``."""

    def __init__(self, calls: list[tuple[str, str, bool]]) -> None:
        super().__init__()
        self.calls = calls

    def set_account_locked(self, name: str, locked: bool) -> None:
        self.calls.append(("locked", name, locked))
        super().set_account_locked(name, locked)

    def set_password_expired(self, name: str, expired: bool) -> None:
        self.calls.append(("expired", name, expired))
        super().set_password_expired(name, expired)


def _model(
    seed_doc: dict[str, Any] = DEFAULT_SEED, **kw: Any
) -> tuple[Model, FakeClock, list[tuple[str, str, bool]]]:
    calls: list[tuple[str, str, bool]] = []

    class Fleet(InMemoryDatabases):
        def open(self, clusters: Any, *, existing: bool) -> dict[str, Any]:
            for cid, _engine in clusters:
                self.backends[cid] = Recording(calls)
            return {cid: self.backends[cid] for cid, _ in clusters}

    clock = FakeClock(NOW)
    return Model(parse_seed(seed_doc), clock=clock, databases=Fleet(), **kw), clock, calls


def test_the_change_reaches_the_database_when_the_task_ends() -> None:
    model, clock, calls = _model(task_seconds=1)
    model.service.modify_account_lock_state(MYSQL, "dbadmin", "Lock", "2030-01-03T00:00:00Z")
    account = model.clusters[MYSQL].accounts["dbadmin"]
    assert calls == [] and account.lock_state == "UnLock" and account.status == "Creating"
    clock.now += 1
    assert model.tick()
    assert calls == [("locked", "dbadmin", True), ("expired", "dbadmin", False)]
    assert (account.lock_state, account.password_valid_time, account.status) == (
        "Lock",
        "2030-01-03T00:00:00Z",
        "Available",
    )


def test_a_validity_time_that_passes_expires_the_password_once() -> None:
    model, clock, calls = _model(task_seconds=0)
    model.service.modify_account_lock_state(MYSQL, "dbadmin", "UnLock", "2030-01-01T00:00:10Z")
    model.tick()
    calls.clear()
    clock.now += 9
    assert not model.due() and not model.tick() and calls == []
    clock.now += 1
    assert model.due() and model.tick()
    assert calls == [("locked", "dbadmin", False), ("expired", "dbadmin", True)]
    calls.clear()
    clock.now += 100
    assert not model.due() and not model.tick() and calls == []


def test_a_password_write_keeps_the_lock_and_the_expiry() -> None:
    model, _clock, calls = _model(task_seconds=0)
    model.admin.patch_account(
        MYSQL, "dbadmin", {"lock_state": "Lock", "password_valid_time": "2029-12-31T00:00:00Z"}
    )
    assert calls == [("locked", "dbadmin", True), ("expired", "dbadmin", True)]
    calls.clear()
    model.service.reset_account(MYSQL, "dbadmin", "N3w!passw0rd")
    assert calls == [("locked", "dbadmin", True), ("expired", "dbadmin", True)]
    model.tick()
    calls.clear()
    # An account with neither is left as the database made it.
    model.service.modify_account_password(MYSQL, "app_rw", "N3w!passw0rd")
    assert calls == []


def test_the_seed_sets_both_and_a_reset_restores_them() -> None:
    doc = {**DEFAULT_SEED, "clusters": [dict(c) for c in DEFAULT_SEED["clusters"]]}
    doc["clusters"][0]["accounts"] = [
        {**doc["clusters"][0]["accounts"][0], "lock_state": "Lock"},
        {**doc["clusters"][0]["accounts"][1], "password_valid_time": "2029-06-01T00:00:00Z"},
    ]
    model, _clock, calls = _model(doc)
    assert calls == [
        ("locked", "dbadmin", True),
        ("expired", "dbadmin", False),
        ("locked", "app_rw", False),
        ("expired", "app_rw", True),
    ]
    calls.clear()
    model.reset()
    assert len(calls) == 4


def test_a_task_in_flight_survives_the_state_file() -> None:
    model, clock, _calls = _model(task_seconds=5)
    model.service.modify_account_lock_state(MYSQL, "dbadmin", "Lock", None)
    state = model.dump_state()
    check_state(state)
    assert state["tasks"][0]["changes"] == {"lock_state": "Lock"}
    other, other_clock, calls = _model(state=state)
    other_clock.now = clock.now + 5
    assert other.tick()
    assert other.clusters[MYSQL].accounts["dbadmin"].lock_state == "Lock"
    assert ("locked", "dbadmin", True) in calls


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("account", "2030-01-01"),
        ("account", "2030-13-01T00:00:00Z"),
        ("task", {"lock_state": "Locked"}),
        ("task", {"password_valid_time": "soon"}),
        ("task", {"status": "Available"}),
    ],
)
def test_the_state_file_checks_both_fields(where: str, value: Any, tmp_path: Any) -> None:
    model, _clock, _calls = _model(task_seconds=5)
    model.service.modify_account_lock_state(MYSQL, "dbadmin", "Lock", None)
    state = model.dump_state()
    if where == "account":
        state["clusters"][0]["accounts"][0]["password_valid_time"] = value
    else:
        state["tasks"][0]["changes"] = value
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"format": 2, **state}))
    with pytest.raises(StateError, match=r"password_valid_time|lock_state|status"):
        load_state(path)


def test_the_request_log_keeps_the_validity_time_and_still_redacts_passwords() -> None:
    params = {
        "AccountPasswordValidTime": "2031-01-01T00:00:00Z",
        "AccountPassword": "x",
        "NewAccountPassword": "y",
    }
    assert redact(params) == {
        "AccountPasswordValidTime": "2031-01-01T00:00:00Z",
        "AccountPassword": "***REDACTED***",
        "NewAccountPassword": "***REDACTED***",
    }
