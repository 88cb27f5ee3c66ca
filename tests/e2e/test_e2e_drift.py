"""End to end: permission and password drift, with the real CLI in a shell and real MariaDB.

The emulator runs its ``mariadb`` backend: each MySQL cluster is a real ``mariadbd``, so a
``REVOKE`` through the emulator's admin SQL login is real drift, and the provider's check
logs in over SQL exactly as it does against PolarDB. The project is
``examples/drift-remediation`` (three targets). The emulator's request log witnesses every
API call; ``ResetAccount`` is the only write.

Skipped when MariaDB is not installed, except with ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import documented
import pymysql  # type: ignore[import-untyped]
import pytest
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess, refusing_port
from pulumi_harness import (
    REPO,
    PulumiProject,
    emulator_config,
    pulumi_bin,
    run_cli,
    set_secret_key,
)

pytestmark = pytest.mark.e2e

NAMESPACE = "polardb-drift"
CLUSTERS = ("pc-drift00000001", "pc-drift00000002", "pc-drift00000003")
SEED_PASSWORDS = {"orders": "0rders!Seed1", "billing": "B1lling!Seed2", "audit": "Aud1t!Seed3"}
MANAGED = {"orders": "0rders!Managed1", "billing": "B1lling!Managed2", "audit": "Aud1t!Managed3"}
TARGETS = [
    {"name": "orders", "dbClusterId": CLUSTERS[0], "accountName": "dbadmin"},
    {"name": "billing", "dbClusterId": CLUSTERS[1], "accountName": "polar_super"},
    {"name": "audit", "dbClusterId": CLUSTERS[2], "accountName": "ops_admin"},
]
BY_NAME = {t["name"]: t for t in TARGETS}
SEED: dict[str, Any] = {
    "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
    "settings": {"task_seconds": 0.3, "concurrent_tasks_per_cluster": 1},
    "clusters": [
        {
            "id": t["dbClusterId"],
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "accounts": [
                {"name": t["accountName"], "type": "Super", "password": SEED_PASSWORDS[t["name"]]}
            ],
        }
        for t in TARGETS
    ],
}
MARIADB_SEED = SEED  # the maria fixtures' (tests/conftest.py)
MakeProject = Callable[..., PulumiProject]


def native_hash(password: str) -> str:
    """``mysql_native_password`` hash as SHOW GRANTS prints it (must never be written anywhere)."""
    import hashlib

    inner = hashlib.sha1(password.encode()).digest()  # noqa: S324 - MySQL's own scheme
    return "*" + hashlib.sha1(inner).hexdigest().upper()  # noqa: S324


@pytest.fixture(scope="session")
def bin_dir() -> str:
    return pulumi_bin()


@pytest.fixture
def project(tmp_path: Path, bin_dir: str, maria: EmulatorProcess) -> MakeProject:
    """Factory: examples/drift-remediation configured for the emulator with ``targets``."""

    def make(targets: list[dict[str, Any]] | None = None, *, managed: bool = True) -> PulumiProject:
        proj = PulumiProject(REPO / "examples" / "drift-remediation", tmp_path, bin_dir=bin_dir)
        proj.write_config(emulator_config(maria, targets or TARGETS, namespace=NAMESPACE))
        set_secret_key(proj)
        if managed:
            for t in targets or TARGETS:
                proj.set_secret(f"{NAMESPACE}:passwords.{t['name']}", MANAGED[t["name"]], path=True)
        return proj

    return make


# -- SQL helpers (the emulator's administrative login) -----------------------------------


def admin_sql(
    emu: EmulatorProcess, target: str, statement: str, args: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    """Run a statement with the cluster's admin login (as a DBA would); return its rows."""
    conn = pymysql.connect(**emu.sql_login(BY_NAME[target]["dbClusterId"]), autocommit=True)
    with conn, conn.cursor() as cursor:
        cursor.execute(statement, args or None)
        return list(cursor.fetchall())


def account_of(target: str) -> str:
    return f"'{BY_NAME[target]['accountName']}'@'%'"


def global_privileges(emu: EmulatorProcess, target: str) -> dict[str, bool]:
    """``{privilege: grantable}`` of the target's account on ``*.*``, aliases folded."""
    rows = admin_sql(
        emu,
        target,
        "SELECT PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES "
        "WHERE GRANTEE = %s",
        (account_of(target),),
    )
    aliases = {"BINLOG MONITOR": "REPLICATION CLIENT"}
    return {aliases.get(p, p): g == "YES" for p, g in rows}


def restored(emu: EmulatorProcess, target: str) -> bool:
    """Whether the account holds every documented privilege with GRANT OPTION (over SQL)."""
    held = global_privileges(emu, target)
    return all(held.get(p) is True for p in documented.DOCUMENTED_PRIVILEGES)


def can_login(emu: EmulatorProcess, target: str, password: str) -> bool:
    login = emu.sql_login(BY_NAME[target]["dbClusterId"])
    try:
        pymysql.connect(
            host=login["host"],
            port=login["port"],
            user=BY_NAME[target]["accountName"],
            password=password,
            connect_timeout=10,
        ).close()
    except pymysql.err.OperationalError:
        return False
    return True


def diagnostics(text: str) -> str:
    """The ``Diagnostics:`` sections of CLI output (progress lines repeat each message)."""
    sections = [part.split("\nOutputs:", 1)[0] for part in text.split("Diagnostics:")[1:]]
    return "\n".join(part.split("\nResources:", 1)[0] for part in sections)


def reset_targets(emu: EmulatorProcess) -> list[str]:
    """Account names of the ResetAccount calls in the request log."""
    return sorted(r["params"]["AccountName"] for r in emu.resets())


def state_outputs(proj: PulumiProject) -> dict[str, dict[str, Any]]:
    """The resources' outputs in state, by target name."""
    return {r["urn"].rsplit("::", 1)[-1]: r["outputs"] for r in proj.resources()}


def assert_no_secret_written(proj: PulumiProject, emu: EmulatorProcess, *passwords: str) -> None:
    """No password and no password hash in state, engine output, logs or emulator output."""
    # The example's own documentation (copied with it) quotes the emulator's well-known key.
    copied_docs = ("README.md", ".example")
    written = {
        **{k: v for k, v in proj.written().items() if not k.endswith(copied_docs)},
        "stack export": json.dumps(proj.export()),
        "emulator request log": json.dumps(emu.requests()),
        "emulator state": json.dumps(emu.state()),
        "emulator stderr": emu.stderr_text(),
    }
    for secret in (*passwords, ACCESS_KEY_SECRET):
        variants = {
            secret,
            secret.replace("!", "%21"),
            native_hash(secret),
            native_hash(secret)[1:],
        }
        for variant in variants:
            leaks = [where for where, text in written.items() if variant in text]
            assert leaks == [], f"a form of {secret!r} was written to {leaks}"
    for resource in proj.resources():
        for section in ("inputs", "outputs"):
            for key in ("account_password", "check_password", "sql_check_password"):
                if key in resource[section]:
                    assert "ciphertext" in json.dumps(resource[section][key]), (section, key)


# -- the tests -----------------------------------------------------------------------------


def test_revoke_is_drift_and_up_refresh_resets_exactly_that_account(
    maria: EmulatorProcess, project: MakeProject
) -> None:
    proj = project()
    assert proj.up() == {"create": 4}
    assert reset_targets(maria) == ["dbadmin", "ops_admin", "polar_super"]
    outputs = proj.outputs()
    for name in MANAGED:
        assert outputs[name]["privileges_ok"] is True, outputs[name]
        assert outputs[name]["missing_privileges"] == []
        assert outputs[name]["password_ok"] is True
    maria.clear_requests()

    admin_sql(maria, "billing", f"REVOKE RELOAD ON *.* FROM {account_of('billing')}")
    assert not restored(maria, "billing")

    diff = proj.preview_text("--refresh")
    assert "1 to update" in diff and "3 unchanged" in diff, diff
    assert "privileges_ok               : true => false" in diff, diff
    text = proj.log[-1]  # with the engine's diagnostics (stderr in --diff mode)
    assert "diff pc-drift00000002:polar_super: permission drift: missing RELOAD" in text, text
    assert "warning: permission drift: account 'polar_super'" in text, text
    assert maria.writes() == []  # a preview reads, never writes

    assert proj.up("--refresh") == {"update": 1, "same": 3}
    (call,) = maria.resets()
    assert (call["params"]["DBClusterId"], call["params"]["AccountName"]) == (
        CLUSTERS[1],
        "polar_super",
    )
    assert "AccountPassword" in call["params"]  # the managed password goes with it
    assert restored(maria, "billing")
    billing = state_outputs(proj)["billing"]
    assert billing["privileges_ok"] is True and billing["missing_privileges"] == []

    maria.clear_requests()
    assert proj.up("--refresh") == {"same": 4}
    assert maria.writes() == []
    assert_no_secret_written(proj, maria, *MANAGED.values(), *SEED_PASSWORDS.values())


def test_lost_grant_option_alone_and_changed_password_are_drift(
    maria: EmulatorProcess, project: MakeProject
) -> None:
    proj = project()
    proj.up()
    maria.clear_requests()

    admin_sql(maria, "orders", f"REVOKE GRANT OPTION ON *.* FROM {account_of('orders')}")
    out_of_band = "Ch4nged!ByHand"
    admin_sql(maria, "audit", f"ALTER USER {account_of('audit')} IDENTIFIED BY '{out_of_band}'")
    assert can_login(maria, "audit", out_of_band)

    proj.refresh()
    outputs = state_outputs(proj)
    assert outputs["orders"]["privileges_ok"] is False
    assert outputs["orders"]["missing_privileges"] == ["GRANT OPTION"]
    assert outputs["audit"]["password_ok"] is False
    assert outputs["billing"]["privileges_ok"] is True
    assert maria.writes() == []

    assert proj.up("--refresh") == {"update": 2, "same": 2}
    assert reset_targets(maria) == ["dbadmin", "ops_admin"]
    assert restored(maria, "orders")
    assert can_login(maria, "audit", MANAGED["audit"])
    assert not can_login(maria, "audit", out_of_band)
    text = proj.output_text()
    assert "missing GRANT OPTION" in text and "password drift" in text

    maria.clear_requests()
    assert proj.up("--refresh") == {"same": 4}
    assert maria.writes() == []
    assert_no_secret_written(proj, maria, out_of_band, *MANAGED.values(), *SEED_PASSWORDS.values())


def test_unreachable_sql_endpoint_is_a_warning_not_drift(
    maria: EmulatorProcess, project: MakeProject
) -> None:
    with refusing_port() as port:
        endpoint = f"127.0.0.1:{port}"
        targets = [TARGETS[0], {**TARGETS[1], "sqlEndpoint": endpoint}]
        proj = project(targets)
        assert proj.up() == {"create": 3}
    warning = f"the SQL endpoint {endpoint} refused the connection"
    assert warning in proj.output_text()
    billing = state_outputs(proj)["billing"]
    # null outputs are not written to state
    assert billing.get("privileges_ok") is None and billing.get("missing_privileges") is None
    assert billing["privileges_checked_at"]

    maria.clear_requests()
    proj.log.clear()
    assert proj.refresh() == {"same": 3}
    text = diagnostics(proj.output_text())
    # One engine warning, naming the account, the endpoint and the cause.
    assert text.count("warning:") == 1, text
    assert "warning: privileges of account 'polar_super' on PolarDB cluster" in text, text
    assert f"not checked (not drift): {warning}" in text, text
    assert proj.up("--refresh") == {"same": 3}
    assert maria.writes() == []


def test_login_without_a_managed_password(maria: EmulatorProcess, project: MakeProject) -> None:
    """No password: skipped with a warning; a check_password (secret) enables the check."""
    proj = project(TARGETS[:2], managed=False)
    assert proj.up() == {"create": 3}
    text = diagnostics(proj.output_text())
    assert text.count("warning:") == text.count("no password to log in with") == 2, text
    assert all(o.get("privileges_ok") is None for o in state_outputs(proj).values())

    proj.set_secret(f"{NAMESPACE}:checkPasswords.orders", SEED_PASSWORDS["orders"], path=True)
    maria.clear_requests()
    assert proj.up() == {"update": 1, "same": 2}  # records the login, no reset
    assert maria.resets() == []
    orders = state_outputs(proj)["orders"]
    assert orders["privileges_ok"] is True and orders.get("password_ok") is None

    admin_sql(maria, "orders", f"REVOKE EVENT, SHOW VIEW ON *.* FROM {account_of('orders')}")
    assert proj.up("--refresh") == {"update": 1, "same": 2}
    (call,) = maria.resets()
    assert call["params"]["AccountName"] == "dbadmin" and "AccountPassword" not in call["params"]
    assert restored(maria, "orders")
    assert can_login(maria, "orders", SEED_PASSWORDS["orders"])  # the password was kept
    assert "missing EVENT, SHOW VIEW" in proj.output_text()
    assert_no_secret_written(proj, maria, *SEED_PASSWORDS.values())


def test_state_from_before_the_check_is_no_change(
    maria: EmulatorProcess, project: MakeProject
) -> None:
    proj = project(TARGETS[:1])
    proj.up()
    new_outputs = (
        "check_privileges",
        "sql_endpoint",
        "privileges_ok",
        "missing_privileges",
        "privileges_checked_at",
        "password_ok",
        "sql_check_password",
    )
    state = proj.export()
    for resource in state["resources"]:
        if resource["type"].endswith("PrivilegedAccountReset"):
            for key in new_outputs:
                resource["outputs"].pop(key, None)
                resource["inputs"].pop(key, None)
    proj.import_state(state)
    maria.clear_requests()
    assert proj.preview() == {"same": 2}
    assert proj.up() == {"same": 2}
    assert maria.requests() == []


def test_remediate_resets_only_the_drifted_target_and_names_the_privileges(
    maria: EmulatorProcess, project: MakeProject
) -> None:
    proj = project()
    proj.up()
    maria.clear_requests()
    admin_sql(
        maria,
        "audit",
        f"REVOKE PROCESS, CREATE USER, GRANT OPTION ON *.* FROM {account_of('audit')}",
    )
    done = run_cli(proj, "remediate", "--stack", proj.stack_name, "--json")
    assert done.returncode == 0, proj.log[-1]
    assert "Traceback" not in done.stderr
    targets = {t["name"]: t for t in json.loads(done.stdout)["targets"]}
    assert targets["audit"]["before"] == "missing: CREATE USER, GRANT OPTION, PROCESS"
    assert targets["audit"]["action"] == "reset"
    assert targets["audit"]["verdict"] == "ok"
    assert [targets[n]["action"] for n in ("orders", "billing")] == ["unchanged", "unchanged"]
    assert reset_targets(maria) == ["ops_admin"]
    assert restored(maria, "audit")
    # The report line: account, cluster, verdict after, and what was done.
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("audit ")]
    assert "ops_admin" in line and CLUSTERS[2] in line and "reset (request " in line
