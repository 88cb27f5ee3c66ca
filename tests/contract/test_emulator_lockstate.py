"""ModifyAccountLockState and the account's health fields, through the real SDK over HTTP;
on the mariadb backend, what MySQL clients then see (PyMySQL logins).

The MariaDB part is skipped (one reason) when ``mariadbd`` is absent, except with
``CI=true``, where a missing server is a failure.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pymysql  # type: ignore[import-untyped]
import pytest
from alibabacloud_polardb20170801 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException
from emulator_harness import (
    ACCESS_KEY_ID,
    DEFAULT_SEED,
    EmulatorError,
    EmulatorProcess,
    SdkClientFactory,
)

MYSQL = "pc-mysql00000001"
PASSWORD = "Adm1n!pass"
#: MariaDB's answers: a locked account's login; a statement with an expired password.
ER_ACCOUNT_HAS_BEEN_LOCKED = 4151
ER_MUST_CHANGE_PASSWORD = 1820
FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _at(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime(FORMAT)


# Validity times years ahead of the run, never of a calendar date: none of them ages.
LOCK_UNTIL, KEPT_UNTIL, PATCHED_UNTIL, SEEDED_UNTIL = (_at(d) for d in (1800, 1500, 1400, 2000))


def _lock(client: Any, state: str = "Lock", valid: str | None = None, name: str = "dbadmin") -> Any:
    return client.modify_account_lock_state(
        m.ModifyAccountLockStateRequest(
            dbcluster_id=MYSQL,
            account_name=name,
            account_lock_state=state,
            account_password_valid_time=valid,
        )
    )


def _account(client: Any, name: str = "dbadmin") -> Any:
    request = m.DescribeAccountsRequest(dbcluster_id=MYSQL, account_name=name)
    [account] = client.describe_accounts(request).body.accounts
    return account


def _error(fn: Callable[[], Any]) -> ClientException:
    with pytest.raises(ClientException) as info:
        fn()
    return info.value


# --- the API (memory backend) -----------------------------------------------------------


def test_lock_and_unlock_go_through_a_task_that_holds_and_releases(
    emu: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    client = sdk_client()
    before = _account(client)
    assert (before.account_lock_state, before.account_password_valid_time) == ("UnLock", "")
    with emu.tasks_held():
        response = _lock(client, "Lock", LOCK_UNTIL)
        assert response.status_code == 200 and response.body.request_id
        during = _account(client)
        # Until the task ends, the API shows the old values and a transitional status.
        assert during.account_status == "Creating"
        assert (during.account_lock_state, during.account_password_valid_time) == ("UnLock", "")
        [task] = emu.state()["tasks"]
        assert task["action"] == "ModifyAccountLockState"
        # The account is busy: the quota (1) refuses a second write.
        assert _error(lambda: _lock(client, "UnLock")).code == "ConcurrentTaskExceeded"
    after = _account(client)
    assert after.account_status == "Available"
    assert (after.account_lock_state, after.account_password_valid_time) == (
        "Lock",
        LOCK_UNTIL,
    )
    view = emu.account(MYSQL, "dbadmin")
    assert view is not None
    assert (view["lock_state"], view["password_valid_time"]) == ("Lock", LOCK_UNTIL)
    # Unlocking without a validity time keeps the one the account has.
    with emu.tasks_held():
        _lock(client, "UnLock")
    unlocked = _account(client)
    assert (unlocked.account_lock_state, unlocked.account_password_valid_time) == (
        "UnLock",
        LOCK_UNTIL,
    )
    [logged, _refused, _unlock] = emu.requests("ModifyAccountLockState")
    assert logged["params"]["AccountLockState"] == "Lock" and logged["status"] == 200


def test_a_reset_touches_neither_the_lock_nor_the_validity_time(
    emu: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    client = sdk_client()
    emu.patch_account(MYSQL, "dbadmin", lock_state="Lock", password_valid_time=KEPT_UNTIL)
    with emu.tasks_held():
        client.reset_account(
            m.ResetAccountRequest(
                dbcluster_id=MYSQL, account_name="dbadmin", account_password="N3w!passw0rd"
            )
        )
    account = _account(client)
    assert (account.account_lock_state, account.account_password_valid_time) == (
        "Lock",
        KEPT_UNTIL,
    )


@pytest.mark.parametrize(
    ("params", "code", "status", "names"),
    [
        ({"account_lock_state": "Locked"}, "InvalidParameter", 400, "AccountLockState"),
        ({"account_lock_state": "lock"}, "InvalidParameter", 400, "AccountLockState"),
        ({"account_lock_state": None}, "MissingParameter", 400, "AccountLockState"),
        ({"account_name": None}, "MissingParameter", 400, "AccountName"),
        ({"dbcluster_id": None}, "MissingParameter", 400, "DBClusterId"),
        (
            {"account_password_valid_time": "2031-01-02 03:04:05"},
            "InvalidParameter",
            400,
            "AccountPasswordValidTime",
        ),
        (
            {"account_password_valid_time": "2031-02-30T00:00:00Z"},
            "InvalidParameter",
            400,
            "AccountPasswordValidTime",
        ),
        ({"account_name": "Bad-Name"}, "InvalidAccountName.Malformed", 400, "AccountName"),
        ({"account_name": "nobody"}, "InvalidAccountName.NotFound", 404, "nobody"),
        ({"dbcluster_id": "pc-unknown000001"}, "InvalidDBCluster.NotFound", 404, "DBClusterId"),
        ({"dbcluster_id": "bad"}, "InvalidDBClusterId.Malformed", 404, "DBClusterId"),
        (
            {"dbcluster_id": "pc-maint0000001"},
            "OperationDenied.DBClusterStatus",
            400,
            "Maintaining",
        ),
    ],
)
def test_documented_parameters_and_errors(
    emu: EmulatorProcess,
    sdk_client: SdkClientFactory,
    params: dict[str, Any],
    code: str,
    status: int,
    names: str,
) -> None:
    request: dict[str, Any] = {
        "dbcluster_id": MYSQL,
        "account_name": "dbadmin",
        "account_lock_state": "Lock",
        **params,
    }
    client = sdk_client()
    error = _error(
        lambda: client.modify_account_lock_state(m.ModifyAccountLockStateRequest(**request))
    )
    assert (error.code, error.status_code) == (code, status)
    assert names in error.message
    assert emu.state()["tasks"] == []
    view = emu.account(MYSQL, "dbadmin")
    assert view is not None and view["lock_state"] == "UnLock"


def test_ram_policies_cover_the_action(emu: EmulatorProcess, sdk_client: SdkClientFactory) -> None:
    arn = f"acs:polardb:cn-hangzhou:*:dbcluster/{MYSQL}"
    reader: dict[str, Any] = {
        "Version": "1",
        "Statement": [{"Effect": "Allow", "Action": ["polardb:Describe*"], "Resource": arn}],
    }
    emu.set_policy(ACCESS_KEY_ID, reader)
    client = sdk_client()
    error = _error(lambda: _lock(client))
    assert (error.code, error.status_code) == ("Forbidden.RAM", 403)
    assert "Action: polardb:ModifyAccountLockState" in error.message
    assert emu.state()["tasks"] == []
    reader["Statement"][0]["Action"].append("polardb:ModifyAccountLockState")
    emu.set_policy(ACCESS_KEY_ID, reader)
    assert _lock(client).status_code == 200


def test_admin_api_and_seed_set_both_fields(
    emu: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    client = sdk_client()
    view = emu.patch_account(MYSQL, "app_rw", password_valid_time=PATCHED_UNTIL)
    assert view["password_valid_time"] == PATCHED_UNTIL
    assert _account(client, "app_rw").account_password_valid_time == PATCHED_UNTIL
    emu.patch_account(MYSQL, "app_rw", password_valid_time="")
    assert _account(client, "app_rw").account_password_valid_time == ""
    for bad in ("tomorrow", "2029-12-31T23:59:59", 5):
        with pytest.raises(EmulatorError, match=r"400 .*password_valid_time must be"):
            emu.patch_account(MYSQL, "app_rw", password_valid_time=bad)
    seed = copy.deepcopy(DEFAULT_SEED)
    seed["clusters"][0]["accounts"][0].update(lock_state="Lock", password_valid_time=SEEDED_UNTIL)
    with EmulatorProcess(seed) as other:
        account = _account(sdk_client(target=other))
        assert (account.account_lock_state, account.account_password_valid_time) == (
            "Lock",
            SEEDED_UNTIL,
        )


# --- what MySQL clients see (mariadb backend) ------------------------------------------


#: The ``maria_emulator`` fixture's seed (tests/conftest.py): one cluster, one mariadbd.
MARIADB_SEED = {**DEFAULT_SEED, "clusters": DEFAULT_SEED["clusters"][:1]}


def _login_error(emu: EmulatorProcess, password: str = PASSWORD) -> int | None:
    """None when ``dbadmin`` logs in and runs a statement, else MariaDB's error number."""
    sql = emu.sql_login(MYSQL)
    try:
        conn = pymysql.connect(
            host=sql["host"], port=sql["port"], user="dbadmin", password=password
        )
    except pymysql.err.OperationalError as exc:
        return int(exc.args[0])
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
    except pymysql.MySQLError as exc:
        return int(exc.args[0])
    finally:
        conn.close()
    return None


def test_a_locked_account_cannot_log_in_until_unlocked(
    maria: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    client = sdk_client(target=maria)
    assert _login_error(maria) is None
    with maria.tasks_held():
        _lock(client, "Lock")
        # The database changes when the task ends, as the service does.
        assert _login_error(maria) is None
    assert _login_error(maria) == ER_ACCOUNT_HAS_BEEN_LOCKED
    # The password still matches (MariaDB checks the lock after it).
    assert maria.verify_password(MYSQL, "dbadmin", PASSWORD)
    assert not maria.verify_password(MYSQL, "dbadmin", "Wr0ng!pass")
    # A reset re-grants and sets a password, but does not unlock.
    client.reset_account(
        m.ResetAccountRequest(dbcluster_id=MYSQL, account_name="dbadmin", account_password=PASSWORD)
    )
    maria.wait_idle()
    assert _login_error(maria) == ER_ACCOUNT_HAS_BEEN_LOCKED
    _lock(client, "UnLock")
    maria.wait_idle()
    assert _login_error(maria) is None


def test_an_out_of_band_lock_and_the_seed_lock_the_sql_login(
    maria: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    maria.patch_account(MYSQL, "dbadmin", lock_state="Lock")
    assert _login_error(maria) == ER_ACCOUNT_HAS_BEEN_LOCKED
    assert _account(sdk_client(target=maria)).account_lock_state == "Lock"
    maria.patch_account(MYSQL, "dbadmin", lock_state="UnLock")
    assert _login_error(maria) is None
    seed = copy.deepcopy(DEFAULT_SEED)
    seed["clusters"] = seed["clusters"][:1]
    seed["clusters"][0]["accounts"][0]["lock_state"] = "Lock"
    with EmulatorProcess(seed, backend="mariadb") as locked:
        assert _login_error(locked) == ER_ACCOUNT_HAS_BEEN_LOCKED
        locked.reset()  # back to the seed: locked again after a reset too
        assert _login_error(locked) == ER_ACCOUNT_HAS_BEEN_LOCKED


def test_a_passed_validity_time_expires_the_password_and_a_later_one_renews_it(
    maria: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    client = sdk_client(target=maria)
    _lock(client, "UnLock", _at(3))
    maria.wait_idle()
    assert _login_error(maria) is None  # 3 days ahead: not expired yet
    past = _at(-1)
    _lock(client, "UnLock", past)
    maria.wait_idle()
    # The login works, but only to change the password.
    assert _login_error(maria) == ER_MUST_CHANGE_PASSWORD
    assert _account(client).account_password_valid_time == past
    # A new password does not lift an expiry the validity time still calls for.
    client.modify_account_password(
        m.ModifyAccountPasswordRequest(
            dbcluster_id=MYSQL, account_name="dbadmin", new_account_password=PASSWORD
        )
    )
    maria.wait_idle()
    assert _login_error(maria) == ER_MUST_CHANGE_PASSWORD
    # A validity time ahead again renews the same password.
    _lock(client, "UnLock", _at(30))
    maria.wait_idle()
    assert _login_error(maria) is None
    # Out of band, and back to no validity time at all.
    maria.patch_account(MYSQL, "dbadmin", password_valid_time=_at(-2))
    assert _login_error(maria) == ER_MUST_CHANGE_PASSWORD
    maria.patch_account(MYSQL, "dbadmin", password_valid_time="")
    assert _login_error(maria) is None
