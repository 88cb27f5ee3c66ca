"""The password from a KMS secret (issue 26 #1) through the lifecycle, against the emulator
over HTTP with MariaDB behind it: the reset sets the secret's value (the SQL login proves
it), a rotation is found by refresh and applied by the next update, errors name the secret
and the permission, and nothing of the value reaches the state, a warning or an error.
The emulator's request log is the witness of every call."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

import pymysql  # type: ignore[import-untyped]
import pytest
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess

from pulumi_polardb_reset import lifecycle
from pulumi_polardb_reset.core import _convert, _verdicts
from pulumi_polardb_reset.core._errors import ErrorCode, ResetError
from pulumi_polardb_reset.core._state import ROTATION_DRIFT, ResetInputs

CLUSTER, ACCOUNT = "pc-kmsmaria00001", "dbadmin"
SECRET = "polardb/dbadmin"
FIRST, SECOND = "Kms!Secret-001", "Kms!Secret-002"
LIMITED_ID, LIMITED_SECRET = "LTAI5tKmsLimited01", "kms-limited-secret"
#: A key allowed everything on PolarDB but no KMS action.
NO_KMS = {
    "Version": "1",
    "Statement": [{"Effect": "Allow", "Action": "polardb:*", "Resource": "*"}],
}

MARIADB_SEED: dict[str, Any] = {
    "access_keys": [
        {"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET},
        {"id": LIMITED_ID, "secret": LIMITED_SECRET, "policy": NO_KMS},
    ],
    "settings": {"task_seconds": 0.2},
    "clusters": [
        {
            "id": CLUSTER,
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "accounts": [{"name": ACCOUNT, "type": "Super", "password": "Seed!Pass-000"}],
        }
    ],
    "secrets": [{"name": SECRET, "value": FIRST, "version_id": "v1"}],
}


def config(emu: EmulatorProcess, key: str = ACCESS_KEY_ID, secret: str = ACCESS_KEY_SECRET) -> Any:
    return lifecycle.ProviderConfig(
        values={
            "alicloud:accessKey": key,
            "alicloud:secretKey": secret,
            "alicloud:region": "cn-hangzhou",
            "alicloud:endpoints": json.dumps([{"polardb": emu.base_url, "kms": emu.base_url}]),
        },
        env={},
    )


def given(**kw: Any) -> ResetInputs:
    return replace(
        ResetInputs(CLUSTER, ACCOUNT, reset_nonce="1", timeout_seconds=60),
        **{"account_password_secret": SECRET, **kw},
    )


def logs_in(emu: EmulatorProcess, password: str) -> bool:
    """A real SQL login as the account with ``password``."""
    sql = emu.sql_login(CLUSTER)
    try:
        pymysql.connect(
            host=sql["host"], port=sql["port"], user=ACCOUNT, password=password, connect_timeout=5
        ).close()
    except pymysql.err.OperationalError:
        return False
    return True


def calls(emu: EmulatorProcess) -> list[str]:
    return [e["action"] for e in emu.requests()]


def written(state: Any, warnings: list[str]) -> str:
    """Everything the provider hands the engine: outputs (secrets unwrapped) and warnings."""
    props = _convert.state_to_props(state)
    return json.dumps({k: _convert.plain(v) for k, v in props.items()}) + "\n".join(warnings)


@pytest.fixture
def emu(maria: EmulatorProcess) -> EmulatorProcess:
    return maria


def test_reset_sets_the_secret_value_and_stores_only_its_version(emu: EmulatorProcess) -> None:
    warnings: list[str] = []
    state = lifecycle.create(given(), config(emu), lifecycle.Call(warn=warnings.append))
    assert calls(emu).count("GetSecretValue") == 1
    assert calls(emu).count("ResetAccount") == 1
    assert logs_in(emu, FIRST)
    assert state.account_password_secret == SECRET
    assert state.account_password_secret_version == "v1"
    assert state.account_password_secret_latest_version == "v1"
    # The check after the reset logged in with the secret's value: the managed password works.
    assert state.check.privileges_ok is True and state.check.password_ok is True
    assert state.sql_check_password is None and state.password_fingerprint is None
    assert FIRST not in written(state, warnings)
    # Nothing changed: no diff, so no call at all.
    emu.clear_requests()
    assert not lifecycle.diff(state, given()).changes
    assert calls(emu) == []


def test_rotation_is_found_by_refresh_and_applied_by_the_update(emu: EmulatorProcess) -> None:
    state = lifecycle.create(given(), config(emu))
    new_version = emu.rotate_secret(SECRET, SECOND)
    emu.clear_requests()
    warnings: list[str] = []
    refreshed = lifecycle.read(state.id, state, config(emu), lifecycle.Call(warn=warnings.append))
    assert refreshed is not None and refreshed.rotated
    assert refreshed.account_password_secret_latest_version == new_version
    assert calls(emu).count("GetSecretValue") == 1 and "ResetAccount" not in calls(emu)
    [warning] = warnings
    assert ROTATION_DRIFT in warning and new_version in warning and SECRET in warning
    verdict = _verdicts.classify(_convert.state_to_props(refreshed), now=dt.datetime.now(dt.UTC))
    assert verdict.status == "drift" and ROTATION_DRIFT in verdict.findings
    decision = lifecycle.diff(refreshed, given())
    assert decision.reset and ROTATION_DRIFT in decision.reasons
    # The update: one GetSecretValue, one ResetAccount with the new value.
    emu.clear_requests()
    updated = lifecycle.update(
        refreshed, given(), config(emu), lifecycle.Call(warn=warnings.append)
    )
    assert calls(emu).count("ResetAccount") == 1
    assert calls(emu).count("GetSecretValue") == 1
    assert logs_in(emu, SECOND) and not logs_in(emu, FIRST)
    assert updated.account_password_secret_version == new_version and not updated.rotated
    assert updated.check.password_ok is True
    assert not lifecycle.diff(updated, given()).changes
    for value in (FIRST, SECOND):
        assert value not in written(updated, warnings) + written(refreshed, [])
    # The request log never shows the value either.
    assert FIRST not in json.dumps(emu.requests()) and SECOND not in json.dumps(emu.requests())


def test_a_missing_secret_is_one_line_naming_it_and_the_permission(emu: EmulatorProcess) -> None:
    with pytest.raises(ResetError) as caught:
        lifecycle.create(given(account_password_secret="no/such"), config(emu))
    message = str(caught.value)
    assert "\n" not in message
    assert "'no/such'" in message and "kms:GetSecretValue" in message
    assert "acs:kms:cn-hangzhou:*:secret/no/such" in message
    assert caught.value.code == ErrorCode.INVALID_INPUT
    assert "ResetAccount" not in calls(emu)


def test_an_unreadable_secret_names_the_permission(emu: EmulatorProcess) -> None:
    with pytest.raises(ResetError) as caught:
        lifecycle.create(given(), config(emu, LIMITED_ID, LIMITED_SECRET))
    message = str(caught.value)
    assert caught.value.code == ErrorCode.PERMISSION_DENIED
    assert "cannot be read with these credentials" in message
    assert "kms:GetSecretValue" in message and SECRET in message and "\n" not in message
    assert FIRST not in message
    assert "ResetAccount" not in calls(emu)


def test_a_deleted_secret_fails_the_refresh_in_one_line(emu: EmulatorProcess) -> None:
    state = lifecycle.create(given(), config(emu))
    from alibabacloud_kms20160120 import models
    from alibabacloud_kms20160120.client import Client
    from alibabacloud_tea_openapi.models import Config

    kms = Client(
        Config(
            **emu.sdk_config(
                access_key_id=ACCESS_KEY_ID,
                access_key_secret=ACCESS_KEY_SECRET,
                region_id="cn-hangzhou",
            )
        )
    )
    kms.delete_secret(models.DeleteSecretRequest(secret_name=SECRET))
    with pytest.raises(ResetError) as caught:
        lifecycle.read(state.id, state, config(emu))
    assert "missing, deleted" in str(caught.value) and "kms:GetSecretValue" in str(caught.value)


def test_both_password_sources_are_refused_naming_both(emu: EmulatorProcess) -> None:
    props = {
        "db_cluster_id": CLUSTER,
        "account_name": ACCOUNT,
        "account_password": _convert.secret("Some!Pass-123"),
        "account_password_secret": SECRET,
    }
    outcome = lifecycle.check(props, config(emu))
    [failure] = outcome.failures
    assert failure.property == "account_password_secret"
    assert "account_password and account_password_secret are mutually exclusive" in failure.reason
    stage_only = {"db_cluster_id": CLUSTER, "account_name": ACCOUNT}
    stage_only["account_password_secret_stage"] = "ACSPrevious"
    [failure] = lifecycle.check(stage_only, config(emu)).failures
    assert "needs account_password_secret" in failure.reason
    assert calls(emu) == []


def test_a_stage_picks_the_version(emu: EmulatorProcess) -> None:
    emu.rotate_secret(SECRET, SECOND, version_id="v2")
    state = lifecycle.create(given(account_password_secret_stage="ACSPrevious"), config(emu))
    assert state.account_password_secret_version == "v1" and logs_in(emu, FIRST)
    # Moving to ACSCurrent is a changed stage: a reset.
    decision = lifecycle.diff(state, given())
    assert decision.reset and "account_password_secret_stage changed" in decision.reasons
