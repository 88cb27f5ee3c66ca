"""The lifecycle's account health (issue 20) against the emulator over HTTP, the emulator's
request log as witness: a locked account reported by refresh and left alone, unlocked
(one ModifyAccountLockState, no ResetAccount) with ``unlock``, and the expiry warning.

The emulator runs its memory backend here (the privilege check is off: no SQL server);
the end-to-end tests run the same flows with the real CLI against MariaDB.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from conftest import FakeClock
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess

from pulumi_polardb_reset import lifecycle
from pulumi_polardb_reset.core._errors import ErrorCode, ResetError
from pulumi_polardb_reset.core._state import ResetInputs

CLUSTER, ACCOUNT = "pc-mysql00000001", "dbadmin"


def config(emu: EmulatorProcess) -> lifecycle.ProviderConfig:
    return lifecycle.ProviderConfig(
        values={
            "alicloud:accessKey": ACCESS_KEY_ID,
            "alicloud:secretKey": ACCESS_KEY_SECRET,
            "alicloud:region": "cn-hangzhou",
            "alicloud:endpoints": json.dumps([{"polardb": emu.base_url}]),
        },
        env={},
    )


def given(**kw: Any) -> ResetInputs:
    base = ResetInputs(CLUSTER, ACCOUNT, reset_nonce="1", timeout_seconds=30)
    return replace(base, check_privileges=False, **kw)


def writes(emu: EmulatorProcess) -> list[str]:
    return [w["action"] for w in emu.writes()]


@pytest.fixture
def created(emu: EmulatorProcess) -> Any:
    """A resource created (one ResetAccount) with the request log cleared afterwards."""
    state = lifecycle.create(given(), config(emu))
    assert state.account_locked is False and state.password_expires_at is None
    emu.clear_requests()
    return state


def hooks(clock: FakeClock, warnings: list[str]) -> lifecycle.Call:
    """An operation's hooks whose health warnings count days on ``clock``."""
    return lifecycle.Call(warn=warnings.append, now=clock.utc)


def test_refresh_reports_a_locked_account_and_nothing_changes_it(
    emu: EmulatorProcess, created: Any, clock: FakeClock
) -> None:
    emu.patch_account(CLUSTER, ACCOUNT, lock_state="Lock")
    warnings: list[str] = []
    state = lifecycle.read(created.id, created, config(emu), hooks(clock, warnings))
    assert state is not None and state.account_locked is True
    assert state.account_lock_state == "Lock"
    [warning] = warnings
    assert "is locked" in warning and "Set unlock: true" in warning
    # Without unlock: no diff, so no update; the account stays locked.
    assert not lifecycle.diff(state, given()).changes
    assert writes(emu) == []
    assert emu.account(CLUSTER, ACCOUNT)["lock_state"] == "Lock"  # type: ignore[index]


def test_unlock_makes_one_modify_account_lock_state_and_no_reset(
    emu: EmulatorProcess, created: Any, clock: FakeClock
) -> None:
    # Far beyond the warning days (14 by default): only the lock is worth a warning.
    valid = clock.utc_in(days=400)
    emu.patch_account(CLUSTER, ACCOUNT, lock_state="Lock", password_valid_time=valid)
    inputs = given(unlock=True)
    warnings: list[str] = []
    refreshed = lifecycle.read(created.id, created, config(emu), hooks(clock, warnings))
    assert len(warnings) == 1 and "`pulumi up` unlocks it" not in warnings[0]
    assert refreshed is not None and refreshed.account_locked is True
    decision = lifecycle.diff(refreshed, inputs)
    assert decision.unlock and not decision.reset
    assert decision.reasons[0].startswith("account locked")
    emu.clear_requests()
    state = lifecycle.update(refreshed, inputs, config(emu))
    assert writes(emu) == ["ModifyAccountLockState"]
    [call] = emu.requests("ModifyAccountLockState")
    assert call["params"]["AccountLockState"] == "UnLock"
    assert call["params"]["AccountPasswordValidTime"] == valid  # kept
    assert state.account_locked is False and state.unlock is True
    assert state.password_expires_at == valid
    assert state.reset_count == created.reset_count  # no reset
    assert not lifecycle.diff(state, inputs).changes


def test_create_with_unlock_unlocks_before_the_reset(emu: EmulatorProcess) -> None:
    emu.patch_account(CLUSTER, ACCOUNT, lock_state="Lock")
    state = lifecycle.create(given(unlock=True), config(emu))
    assert writes(emu) == ["ModifyAccountLockState", "ResetAccount"]
    assert state.account_locked is False and state.reset_count == 1


def test_a_reset_without_unlock_names_the_way_out(emu: EmulatorProcess) -> None:
    emu.patch_account(CLUSTER, ACCOUNT, lock_state="Lock")
    with pytest.raises(ResetError) as info:
        lifecycle.create(given(), config(emu))
    assert info.value.code == ErrorCode.ACCOUNT_LOCKED
    assert "unlock: true" in str(info.value)
    assert "ModifyAccountLockState" not in writes(emu)


def test_an_expiry_three_days_away_is_one_warning_naming_the_date(
    emu: EmulatorProcess, created: Any, clock: FakeClock
) -> None:
    soon = clock.utc_in(days=3)
    emu.patch_account(CLUSTER, ACCOUNT, password_valid_time=soon)
    warnings: list[str] = []
    state = lifecycle.read(created.id, created, config(emu), hooks(clock, warnings))
    assert state is not None and state.password_expires_at == soon
    [warning] = warnings
    assert soon in warning and "in 3 days" in warning
    # Beyond the warning days: nothing to say.
    warnings.clear()
    quiet = replace(state, password_expiry_warning_days=2)
    lifecycle.read(created.id, quiet, config(emu), hooks(clock, warnings))
    assert warnings == []
    # The same account a week later on the clock: expired, said once.
    clock.advance(7 * 86400)
    lifecycle.read(created.id, state, config(emu), hooks(clock, warnings))
    [expired] = warnings
    assert f"expired at {soon}" in expired
    assert writes(emu) == []
