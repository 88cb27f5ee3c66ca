"""Account health beyond grants (issue 20), pure rules: the lock state and the password's
expiry as recorded outputs, their warnings, the diff decision and the new inputs."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from pulumi_polardb_reset.core import _convert as c
from pulumi_polardb_reset.core import _health as h
from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.core._diff import decide
from pulumi_polardb_reset.core._state import ResetInputs, ResetState

NOW = dt.datetime(2030, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
CLUSTER, ACCOUNT = "pc-abc123", "dbadmin"


def state(**kw: object) -> ResetState:
    return replace(ResetState(CLUSTER, ACCOUNT, reset_nonce="1"), **kw)  # type: ignore[arg-type]


def inputs(**kw: object) -> ResetInputs:
    return replace(ResetInputs(CLUSTER, ACCOUNT, reset_nonce="1"), **kw)  # type: ignore[arg-type]


# -- outputs and warnings ------------------------------------------------------------------


def test_lock_state_and_validity_time_become_outputs() -> None:
    assert (h.is_locked("Lock"), h.is_locked("UnLock"), h.is_locked(None)) == (True, False, None)
    assert h.expires_at("2030-01-04T12:00:00Z") == "2030-01-04T12:00:00Z"
    assert h.expires_at("2030-01-04T20:00:00+08:00") == "2030-01-04T12:00:00Z"  # UTC, always
    assert h.expires_at("") is None and h.expires_at(None) is None
    assert h.expires_at("next week") is None


@pytest.mark.parametrize(
    ("expires", "days"),
    [
        ("2030-01-04T12:00:00Z", 3),
        ("2030-01-04T11:59:59Z", 3),  # rounded up: part of a day is a day
        ("2030-01-01T12:00:01Z", 1),
        ("2030-01-01T12:00:00Z", 0),
        ("2029-12-25T00:00:00Z", -7),
        (None, None),
    ],
)
def test_days_left(expires: str | None, days: int | None) -> None:
    assert h.days_left(expires, NOW) == days


def test_an_expiry_within_the_warning_days_is_one_warning_naming_the_date() -> None:
    message = h.expiry_warning(CLUSTER, ACCOUNT, "2030-01-04T12:00:00Z", warning_days=14, now=NOW)
    assert message is not None
    assert "2030-01-04T12:00:00Z" in message and "in 3 days" in message
    assert f"account '{ACCOUNT}' on PolarDB cluster '{CLUSTER}'" in message
    assert (
        h.expiry_warning(CLUSTER, ACCOUNT, "2030-01-04T12:00:00Z", warning_days=2, now=NOW) is None
    )
    assert h.expiry_warning(CLUSTER, ACCOUNT, None, warning_days=14, now=NOW) is None
    expired = h.expiry_warning(CLUSTER, ACCOUNT, "2029-12-31T00:00:00Z", warning_days=0, now=NOW)
    assert expired is not None and "expired at 2029-12-31T00:00:00Z" in expired
    one = h.expiry_warning(CLUSTER, ACCOUNT, "2030-01-02T00:00:00Z", warning_days=14, now=NOW)
    assert one is not None and "(in 1 day)" in one


def test_the_lock_warning_says_what_to_do() -> None:
    assert "Set unlock: true" in h.lock_warning(CLUSTER, ACCOUNT, unlock=False)
    assert "`pulumi up` unlocks it" in h.lock_warning(CLUSTER, ACCOUNT, unlock=True)


# -- the diff ------------------------------------------------------------------------------


def test_a_locked_account_is_drift_only_with_unlock_and_is_no_reset() -> None:
    locked = state(account_locked=True, account_lock_state="Lock", unlock=True)
    decision = decide(locked, inputs(unlock=True))
    assert decision.changes and decision.unlock and not decision.reset
    assert decision.reasons[0].startswith("account locked")
    # Without unlock: reported (refresh), never changed.
    quiet = decide(replace(locked, unlock=False), inputs())
    assert not quiet.changes and not quiet.unlock


def test_unlock_and_a_reset_together() -> None:
    locked = state(account_locked=True, unlock=True)
    decision = decide(locked, inputs(unlock=True, reset_nonce="2"))
    assert decision.reset and decision.unlock
    assert "reset_nonce changed" in decision.reasons


def test_a_state_from_before_account_locked_tells_the_lock_by_its_lock_state() -> None:
    old = state(account_lock_state="Lock")  # account_locked None: written before issue 20
    assert old.locked
    assert decide(old, inputs(unlock=True)).unlock
    assert not decide(state(account_lock_state="UnLock"), inputs(unlock=True)).unlock


def test_an_unknown_unlock_at_preview_may_unlock() -> None:
    locked = state(account_locked=True)
    decision = decide(locked, inputs(unknown=frozenset({p.UNLOCK})))
    assert decision.unlock and decision.changes


def test_new_settings_are_recorded_without_a_reset() -> None:
    decision = decide(state(), inputs(unlock=True))
    assert decision.changes and not decision.reset and not decision.unlock
    assert decision.reasons == ["unlock changed (no reset)"]
    decision = decide(state(), inputs(password_expiry_warning_days=30))
    assert decision.reasons == ["password_expiry_warning_days changed (no reset)"]


def test_an_old_state_without_the_new_outputs_stays_a_no_op() -> None:
    old_props = {
        p.DB_CLUSTER_ID: CLUSTER,
        p.ACCOUNT_NAME: ACCOUNT,
        p.RESET_NONCE: "1",
        p.TIMEOUT_SECONDS: 900,
        p.CHECK_PRIVILEGES: True,
        p.ACCOUNT_LOCK_STATE: "UnLock",
    }
    old = c.state_from_props(old_props)
    assert (old.unlock, old.password_expiry_warning_days, old.account_locked) == (False, 14, None)
    new = c.inputs_from_props({p.DB_CLUSTER_ID: CLUSTER, p.ACCOUNT_NAME: ACCOUNT, p.RESET_NONCE: 1})
    assert not decide(old, new).changes


# -- inputs and state ----------------------------------------------------------------------


def test_the_new_fields_round_trip_through_the_property_maps() -> None:
    recorded = state(
        unlock=True,
        password_expiry_warning_days=3,
        account_locked=False,
        password_expires_at="2030-01-04T12:00:00Z",
    )
    props = c.state_to_props(recorded)
    assert props[p.ACCOUNT_LOCKED] is False
    assert props[p.PASSWORD_EXPIRES_AT] == "2030-01-04T12:00:00Z"
    assert (props[p.UNLOCK], props[p.PASSWORD_EXPIRY_WARNING_DAYS]) == (True, 3)
    assert c.state_from_props(props) == recorded
    given = c.inputs_from_props(
        {
            p.DB_CLUSTER_ID: CLUSTER,
            p.ACCOUNT_NAME: ACCOUNT,
            p.UNLOCK: True,
            p.PASSWORD_EXPIRY_WARNING_DAYS: 7.0,  # the engine's numbers are floats
        }
    )
    assert (given.unlock, given.password_expiry_warning_days) == (True, 7)


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        (p.UNLOCK, "yes", "unlock must be true or false"),
        (p.UNLOCK, 1, "unlock must be true or false"),
        (p.PASSWORD_EXPIRY_WARNING_DAYS, -1, "password_expiry_warning_days must be"),
        (p.PASSWORD_EXPIRY_WARNING_DAYS, 1.5, "password_expiry_warning_days must be"),
        (p.PASSWORD_EXPIRY_WARNING_DAYS, True, "password_expiry_warning_days must be"),
        (p.PASSWORD_EXPIRY_WARNING_DAYS, 3651, "password_expiry_warning_days must be"),
    ],
)
def test_bad_values_name_the_input(name: str, value: object, needle: str) -> None:
    props = {p.DB_CLUSTER_ID: CLUSTER, p.ACCOUNT_NAME: ACCOUNT, name: value}
    [failure] = c.validate_inputs(props)
    assert failure.property == name and needle in failure.reason


def test_good_values_pass() -> None:
    props = {
        p.DB_CLUSTER_ID: CLUSTER,
        p.ACCOUNT_NAME: ACCOUNT,
        p.UNLOCK: False,
        p.PASSWORD_EXPIRY_WARNING_DAYS: 0,
    }
    assert c.validate_inputs(props) == []
