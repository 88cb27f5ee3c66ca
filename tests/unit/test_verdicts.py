"""The one classification of refreshed outputs into verdicts (core/_verdicts, pure)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pulumi_polardb_reset.core import _verdicts as v

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
HEALTHY: dict[str, Any] = {
    "account_status": "Available",
    "account_type": "Super",
    "account_lock_state": "UnLock",
    "privileges_ok": True,
    "missing_privileges": [],
    "password_ok": True,
}


def verdict(**changes: Any) -> v.Verdict:
    return v.classify({**HEALTHY, **changes}, now=NOW)


def test_healthy_is_ok() -> None:
    assert verdict() == v.Verdict("ok", ("ok",))
    assert verdict().text == "ok"


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        (
            {"privileges_ok": False, "missing_privileges": ["PROCESS", "RELOAD"]},
            "missing: PROCESS, RELOAD",
        ),
        ({"privileges_ok": False, "missing_privileges": ["GRANT OPTION"]}, "missing: GRANT OPTION"),
        ({"password_ok": False}, "password refused"),
        ({"account_lock_state": "Lock"}, "locked"),
        ({"account_locked": True}, "locked"),
        ({"account_type": "Normal"}, "not a Super account (Normal)"),
        ({"account_status": "Creating"}, "status Creating"),
        ({"password_expires_at": "2026-12-01T00:00:00Z"}, "password expired"),
        (
            {"password_ok": False, "privileges_ok": False, "missing_privileges": ["EVENT"]},
            "missing: EVENT; password refused",
        ),
    ],
)
def test_drift(changes: dict[str, Any], text: str) -> None:
    found = verdict(**changes)
    assert (found.status, found.text) == ("drift", text)


def test_missing_privileges_are_kept_for_reports() -> None:
    found = verdict(privileges_ok=False, missing_privileges=["PROCESS", "RELOAD"])
    assert found.missing_privileges == ("PROCESS", "RELOAD")


def test_gone() -> None:
    assert v.classify(None, now=NOW) == v.Verdict("drift", ("gone",))


def test_unknown_names_the_cause() -> None:
    # The cause is the recorded output, not a warning's text parsed back.
    found = v.classify(
        {
            **HEALTHY,
            "privileges_ok": None,
            "missing_privileges": None,
            "password_ok": None,
            "privileges_check_cause": "the SQL endpoint 127.0.0.1:1 refused the connection.",
        },
        now=NOW,
    )
    assert found.status == "unknown"
    assert found.text == "unknown: the SQL endpoint 127.0.0.1:1 refused the connection"
    # A state written before the check existed: unknown, never drift.
    legacy = {k: HEALTHY[k] for k in ("account_status", "account_type", "account_lock_state")}
    assert v.classify(legacy, now=NOW).text == "unknown: privileges not checked"


def test_disabled_check_is_ok_with_a_note() -> None:
    found = v.classify(
        {**HEALTHY, "check_privileges": False, "privileges_ok": None, "password_ok": None},
        now=NOW,
    )
    assert found.status == "ok"
    assert found.text == "ok; privileges not checked: check_privileges is false"


def test_password_expiry_warns_within_the_window_without_changing_the_status() -> None:
    soon = verdict(password_expires_at="2026-12-06T11:00:00Z")
    assert (soon.status, soon.text) == ("ok", "ok; password expires in 3 days")
    assert verdict(password_expires_at="2026-12-04T00:00:00Z").notes == (
        "password expires in 1 day",
    )
    assert verdict(password_expires_at="2027-06-01T00:00:00Z").text == "ok"
    wide = verdict(password_expires_at="2027-01-01T00:00:00Z", password_expiry_warning_days=60)
    assert wide.notes == ("password expires in 29 days",)
    assert verdict(password_expires_at="not a date").text == "ok"
    locked_and_soon = verdict(account_locked=True, password_expires_at="2026-12-05T12:00:00Z")
    assert locked_and_soon.text == "locked; password expires in 2 days"


def test_worst() -> None:
    assert v.worst(["ok", "drift", "ok"]) == "drift"
    assert v.worst(["drift", "unknown"]) == "unknown"
    assert v.worst([]) == "ok"
