"""The cloud layer's account health against the emulator, through the real SDK over HTTP:
DescribeAccounts' lock state and password validity time, and the unlock workflow
(ModifyAccountLockState, then the wait for the account to settle unlocked)."""

from __future__ import annotations

import threading

import pytest
from conftest import FakeClock
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess

from pulumi_polardb_reset.cloud._client import PolarDBClient
from pulumi_polardb_reset.cloud._operations import Resetter, Target, UnlockOutcome
from pulumi_polardb_reset.cloud._settings import ConnectionSettings, StaticCredentials
from pulumi_polardb_reset.core._errors import ErrorCode, ResetError

MYSQL = "pc-mysql00000001"
#: A validity time years after the run (never a calendar date: it would age).
VALID = FakeClock().utc_in(days=1500)


def _client(emu: EmulatorProcess) -> PolarDBClient:
    settings = ConnectionSettings(
        region="cn-hangzhou",
        credentials=StaticCredentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET),
        endpoint=emu.endpoint,
        protocol=emu.protocol,
    )
    return PolarDBClient(settings)


def _resetter(emu: EmulatorProcess, account: str = "dbadmin") -> Resetter:
    return Resetter(_client(emu), Target(MYSQL, account, "cn-hangzhou", 30))


def test_describe_accounts_reads_the_lock_state_and_the_validity_time(
    emu: EmulatorProcess,
) -> None:
    emu.patch_account(MYSQL, "dbadmin", lock_state="Lock", password_valid_time=VALID)
    [account] = _client(emu).describe_accounts(MYSQL, "dbadmin")
    assert (account.lock_state, account.password_valid_time) == ("Lock", VALID)
    [other] = _client(emu).describe_accounts(MYSQL, "app_rw")
    assert (other.lock_state, other.password_valid_time) == ("UnLock", "")


def test_unlock_makes_one_call_keeps_the_validity_time_and_waits_for_its_task(
    emu: EmulatorProcess,
) -> None:
    emu.patch_account(MYSQL, "dbadmin", lock_state="Lock", password_valid_time=VALID)
    emu.hold_tasks()
    outcome: list[UnlockOutcome] = []
    worker = threading.Thread(target=lambda: outcome.append(_resetter(emu).unlock()))
    worker.start()
    emu.wait_for(lambda: bool(emu.state()["tasks"]), what="the unlock task")
    # The workflow waits while the task holds the account.
    assert worker.is_alive() and outcome == []
    emu.release_tasks()
    worker.join(30)
    [result] = outcome
    [call] = emu.requests("ModifyAccountLockState")
    assert call["params"]["AccountLockState"] == "UnLock"
    assert call["params"]["AccountPasswordValidTime"] == VALID
    assert result.request_id == call["request_id"]
    account = result.account
    assert (account.lock_state, account.status, account.password_valid_time) == (
        "UnLock",
        "Available",
        VALID,
    )
    assert emu.resets() == []


def test_unlock_of_an_unlocked_account_makes_no_write(emu: EmulatorProcess) -> None:
    outcome = _resetter(emu).unlock()
    assert outcome.request_id is None and outcome.account.lock_state == "UnLock"
    assert emu.writes() == []


def test_unlock_without_a_validity_time_sends_none(emu: EmulatorProcess) -> None:
    emu.patch_account(MYSQL, "dbadmin", lock_state="Lock")
    assert _resetter(emu).unlock().account.lock_state == "UnLock"
    [call] = emu.requests("ModifyAccountLockState")
    assert "AccountPasswordValidTime" not in call["params"]


def test_unlock_refused_by_ram_names_the_action_and_the_second_policy(
    emu: EmulatorProcess,
) -> None:
    emu.patch_account(MYSQL, "dbadmin", lock_state="Lock")
    emu.set_policy(
        ACCESS_KEY_ID,
        {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": "polardb:Describe*", "Resource": "*"},
            ],
        },
    )
    with pytest.raises(ResetError) as info:
        _resetter(emu).unlock()
    assert info.value.code == ErrorCode.PERMISSION_DENIED
    message = str(info.value)
    assert '"polardb:ModifyAccountLockState"' in message
    assert "docs/ram-policy-unlock.json" in message
