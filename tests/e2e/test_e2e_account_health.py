"""End to end (issue 20): a locked account and an expiring password, with the real CLI in a
shell, the root stack, and a MariaDB-backed emulator (a locked account really refuses SQL
logins: ``ACCOUNT LOCK``). The emulator's request log witnesses every API call.

* Locked out of band, without ``unlock``: refresh reports it (one warning, the outputs
  ``account_locked: true``) and ``pulumi up`` leaves it alone (no write).
* With ``unlock: true``: ``pulumi up --refresh`` makes exactly one ModifyAccountLockState
  (no ResetAccount), after which the managed password logs in; with grants revoked too,
  the same ``pulumi up --refresh`` also makes one ResetAccount.
* A password that expires in 3 days: one warning naming the date, and the output
  ``password_expires_at``.

Skipped when MariaDB is not installed, except with ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pymysql  # type: ignore[import-untyped]
import pytest
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess
from pulumi_harness import REPO, PulumiProject, emulator_config, pulumi_bin, set_secret_key

pytestmark = pytest.mark.e2e

NAMESPACE = "polardb-reset"
CLUSTER, ACCOUNT = "pc-health0000001", "dbadmin"
SEED_PASSWORD, MANAGED = "Seed!Passw0rd", "Health!Managed1"
ER_ACCOUNT_HAS_BEEN_LOCKED = 4151
SEED: dict[str, Any] = {
    "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
    "settings": {"task_seconds": 0.3},
    "clusters": [
        {
            "id": CLUSTER,
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "accounts": [{"name": ACCOUNT, "type": "Super", "password": SEED_PASSWORD}],
        }
    ],
}
MARIADB_SEED = SEED  # the maria fixtures' (tests/conftest.py)


def make_project(maria: EmulatorProcess, tmp_path: Path, **target: Any) -> PulumiProject:
    proj = PulumiProject(REPO, tmp_path, bin_dir=pulumi_bin(), only=["Pulumi.yaml", "__main__.py"])
    targets = [
        {"name": "main", "dbClusterId": CLUSTER, "accountName": ACCOUNT, "resetNonce": 1, **target}
    ]
    proj.write_config(emulator_config(maria, targets, namespace=NAMESPACE))
    set_secret_key(proj)
    proj.set_secret(f"{NAMESPACE}:passwords.main", MANAGED, path=True)
    return proj


def login_error(maria: EmulatorProcess, password: str = MANAGED) -> int | None:
    """None when the account logs in with ``password``, else MariaDB's error number."""
    sql = maria.sql_login(CLUSTER)
    try:
        pymysql.connect(
            host=sql["host"], port=sql["port"], user=ACCOUNT, password=password, connect_timeout=10
        ).close()
    except pymysql.err.OperationalError as exc:
        return int(exc.args[0])
    return None


def diagnostics(text: str) -> str:
    """The ``Diagnostics:`` sections of CLI output (progress lines repeat each message)."""
    sections = [part.split("\nOutputs:", 1)[0] for part in text.split("Diagnostics:")[1:]]
    return "\n".join(part.split("\nResources:", 1)[0] for part in sections)


def outputs(proj: PulumiProject) -> dict[str, Any]:
    [resource] = proj.resources()
    found: dict[str, Any] = resource["outputs"]
    return found


def test_a_locked_account_is_reported_and_left_alone_without_unlock(
    maria: EmulatorProcess, tmp_path: Path
) -> None:
    proj = make_project(maria, tmp_path)
    assert proj.up() == {"create": 2}
    assert login_error(maria) is None
    maria.patch_account(CLUSTER, ACCOUNT, lock_state="Lock")
    assert login_error(maria) == ER_ACCOUNT_HAS_BEEN_LOCKED
    maria.clear_requests()
    proj.log.clear()

    assert proj.refresh() == {"same": 2}
    text = diagnostics(proj.output_text())
    assert text.count("warning:") == 1, text
    assert f"account '{ACCOUNT}' on PolarDB cluster '{CLUSTER}' is locked" in text, text
    assert "Set unlock: true" in text, text
    assert outputs(proj)["account_locked"] is True
    # What a drift job runs: the same warning, and no change planned.
    preview = proj.preview_text("--refresh")
    assert "to update" not in preview and "2 unchanged" in preview, preview
    text = proj.log[-1]  # with the engine's diagnostics (stderr in --diff mode)
    assert f"account '{ACCOUNT}' on PolarDB cluster '{CLUSTER}' is locked" in text, text
    assert proj.up() == {"same": 2}
    exported = proj.outputs()["main"]
    assert exported["account_locked"] is True and exported["account_lock_state"] == "Lock"
    assert maria.writes() == []
    assert login_error(maria) == ER_ACCOUNT_HAS_BEEN_LOCKED


def test_unlock_true_makes_one_modify_account_lock_state_and_the_login_works(
    maria: EmulatorProcess, tmp_path: Path
) -> None:
    proj = make_project(maria, tmp_path, unlock=True)
    assert proj.up() == {"create": 2}
    maria.patch_account(CLUSTER, ACCOUNT, lock_state="Lock")
    maria.clear_requests()

    assert proj.up("--refresh") == {"update": 1, "same": 1}
    assert [w["action"] for w in maria.writes()] == ["ModifyAccountLockState"]
    assert maria.resets() == []
    assert login_error(maria) is None
    state = outputs(proj)
    assert state["account_locked"] is False and state["privileges_ok"] is True
    assert proj.outputs()["main"]["account_locked"] is False
    maria.clear_requests()
    assert proj.up("--refresh") == {"same": 2}
    assert maria.writes() == []


def test_unlock_true_with_revoked_grants_also_resets(
    maria: EmulatorProcess, tmp_path: Path
) -> None:
    proj = make_project(maria, tmp_path, unlock=True)
    assert proj.up() == {"create": 2}
    maria.patch_account(CLUSTER, ACCOUNT, lock_state="Lock")
    conn = pymysql.connect(**maria.sql_login(CLUSTER), autocommit=True)
    with conn, conn.cursor() as cursor:
        cursor.execute(f"REVOKE PROCESS, RELOAD ON *.* FROM '{ACCOUNT}'@'%'")
    maria.clear_requests()

    assert proj.up("--refresh") == {"update": 1, "same": 1}
    assert [w["action"] for w in maria.writes()] == ["ModifyAccountLockState", "ResetAccount"]
    assert login_error(maria) is None
    state = outputs(proj)
    assert state["privileges_ok"] is True and state["account_locked"] is False


def test_an_expiry_three_days_away_gives_one_warning_naming_the_date(
    maria: EmulatorProcess, tmp_path: Path
) -> None:
    proj = make_project(maria, tmp_path)
    assert proj.up() == {"create": 2}
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    maria.patch_account(CLUSTER, ACCOUNT, password_valid_time=soon)
    maria.clear_requests()
    proj.log.clear()

    assert proj.up("--refresh") == {"same": 2}
    text = diagnostics(proj.output_text())
    assert text.count("warning:") == 1, text
    assert f"expires at {soon} (in 3 days)" in text, text
    assert outputs(proj)["password_expires_at"] == soon
    proj.preview_text("--refresh")
    assert f"expires at {soon} (in 3 days)" in proj.log[-1], proj.log[-1]
    assert proj.outputs()["main"]["password_expires_at"] == soon
    assert maria.writes() == []
    assert login_error(maria) is None  # not expired yet
