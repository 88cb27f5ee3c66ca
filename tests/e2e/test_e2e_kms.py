"""End to end (issue 26 #1): the password from a KMS secret, with the real CLI in a shell,
a MariaDB-backed emulator playing PolarDB and KMS, and its request log as witness.

* The dynamic resource (the root stack, target key ``accountPasswordSecret``): ``pulumi up``
  reads the secret once and sets its value (the SQL login works with it); preview and a
  no-op ``pulumi up`` make no KMS call; a rotation in KMS is found by ``pulumi refresh``
  (drift, one warning) and applied by ``pulumi up --refresh`` with exactly one ResetAccount,
  after which the new value logs in and the old one does not.
* The same on the native plugin from a Pulumi YAML program (``accountPasswordSecret``).
* ``polardb-reset``: ``detect`` reports the rotation (exit 7, writing nothing) and
  ``remediate`` applies it with one ResetAccount.
* Secret scans: the state, every CLI output, the report and the emulator's log and stderr
  hold the secret's name and version IDs, never a value.

Skipped when MariaDB is not installed, except with ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pymysql  # type: ignore[import-untyped]
import pytest
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess
from native_harness import PACKAGE, install_plugin, state_outputs
from pulumi_harness import (
    REPO,
    PulumiProject,
    assert_one_line_failure,
    emulator_config,
    pulumi_bin,
    run_cli,
    set_secret_key,
)

pytestmark = pytest.mark.e2e

NAMESPACE = "polardb-reset"
CLUSTER, ACCOUNT = "pc-kmse2e0000001", "dbadmin"
SECRET = "polardb/pc-kmse2e0000001/dbadmin"
SEED_PASSWORD, FIRST, SECOND = "Seed!Passw0rd", "Kms!Applied-01", "Kms!Rotated-02"
ROTATED = "password rotated in KMS, not yet applied"
MARIADB_SEED: dict[str, Any] = {
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
    "secrets": [{"name": SECRET, "value": FIRST, "version_id": "v1"}],
}


def logs_in(maria: EmulatorProcess, password: str) -> bool:
    sql = maria.sql_login(CLUSTER)
    try:
        pymysql.connect(
            host=sql["host"], port=sql["port"], user=ACCOUNT, password=password, connect_timeout=10
        ).close()
    except pymysql.err.OperationalError:
        return False
    return True


def actions(maria: EmulatorProcess, action: str) -> int:
    return len(maria.requests(action))


def scan(proj: PulumiProject, maria: EmulatorProcess) -> None:
    """No secret value in the state (decrypted: a value kept as a Pulumi secret would show),
    the CLI's output or anything the emulator wrote."""
    written = "\n".join(
        [
            proj.run("stack", "export", "--show-secrets").stdout,
            proj.output_text(),
            json.dumps(maria.requests()),
            json.dumps(maria.state()),
            maria.stderr_text(),
        ]
    )
    assert SECRET in written  # the name is there (not a vacuous scan)
    for value in (FIRST, SECOND):
        assert value not in written


def converge_then_rotate(proj: PulumiProject, maria: EmulatorProcess, version_key: str) -> None:
    """The shared story: create, no-op, rotation found by refresh, applied by up --refresh."""
    assert actions(maria, "GetSecretValue") == 1 and len(maria.resets()) == 1
    assert logs_in(maria, FIRST)
    maria.clear_requests()
    proj.preview_text()
    proj.up()
    assert actions(maria, "GetSecretValue") == 0, maria.requests()  # preview, no-op up
    assert maria.writes() == []

    new_version = maria.rotate_secret(SECRET, SECOND)
    maria.clear_requests()
    proj.log.clear()
    proj.refresh()
    assert actions(maria, "GetSecretValue") == 1 and maria.writes() == []
    assert ROTATED in proj.output_text()
    maria.clear_requests()
    proj.up("--refresh")
    assert len(maria.resets()) == 1, maria.requests()
    assert logs_in(maria, SECOND) and not logs_in(maria, FIRST)
    [outputs] = state_like(proj, version_key)
    assert outputs[version_key] == new_version
    maria.clear_requests()
    proj.up()
    assert maria.writes() == [] and actions(maria, "GetSecretValue") == 0
    scan(proj, maria)


def state_like(proj: PulumiProject, version_key: str) -> list[dict[str, Any]]:
    """The outputs in state of every resource that records the secret's version."""
    found = [
        r.get("outputs") or {}
        for r in proj.export().get("resources") or []
        if version_key in (r.get("outputs") or {})
    ]
    return found


def root_stack(maria: EmulatorProcess, tmp_path: Path, secret: str = SECRET) -> PulumiProject:
    """The root stack with one target whose password comes from the KMS secret."""
    proj = PulumiProject(REPO, tmp_path, bin_dir=pulumi_bin(), only=["Pulumi.yaml", "__main__.py"])
    targets = [
        {
            "name": "main",
            "dbClusterId": CLUSTER,
            "accountName": ACCOUNT,
            "resetNonce": 1,
            "accountPasswordSecret": secret,
        }
    ]
    config = emulator_config(maria, targets, namespace=NAMESPACE)
    config["alicloud:endpoints"] = json.dumps([{"polardb": maria.base_url, "kms": maria.base_url}])
    proj.write_config(config)
    set_secret_key(proj)
    return proj


def test_dynamic_resource_reads_the_secret_and_applies_a_rotation(
    maria: EmulatorProcess, tmp_path: Path
) -> None:
    proj = root_stack(maria, tmp_path)
    assert proj.up() == {"create": 2}
    [outputs] = state_like(proj, "account_password_secret_version")
    assert outputs["account_password_secret"] == SECRET
    assert outputs["account_password_secret_version"] == "v1"
    assert outputs["privileges_ok"] is True and outputs["password_ok"] is True
    converge_then_rotate(proj, maria, "account_password_secret_version")


YAML_PROGRAM = f"""\
name: kms-yaml
runtime: yaml
resources:
  admin:
    type: {PACKAGE}:index:PrivilegedAccountReset
    properties:
      dbClusterId: {CLUSTER}
      accountName: {ACCOUNT}
      accountPasswordSecret: {SECRET}
      resetNonce: "1"
outputs:
  secretVersion: ${{admin.accountPasswordSecretVersion}}
  privilegesOk: ${{admin.privilegesOk}}
"""


def test_yaml_program_on_the_native_plugin_does_the_same(
    maria: EmulatorProcess, tmp_path: Path
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "Pulumi.yaml").write_text(YAML_PROGRAM)
    proj = PulumiProject(tmp_path / "src", tmp_path / "work", bin_dir=pulumi_bin())
    install_plugin(proj)
    proj.write_config(
        {
            f"{PACKAGE}:region": "cn-hangzhou",
            f"{PACKAGE}:accessKey": ACCESS_KEY_ID,
            f"{PACKAGE}:endpoint": maria.base_url,
            f"{PACKAGE}:kmsEndpoint": maria.base_url,
        }
    )
    proj.set_secret(f"{PACKAGE}:secretKey", ACCESS_KEY_SECRET)
    proj.up()
    outputs = state_outputs(proj)["admin"]
    assert outputs["accountPasswordSecret"] == SECRET
    assert outputs["accountPasswordSecretVersion"] == "v1"
    assert outputs["privilegesOk"] is True
    assert proj.outputs()["secretVersion"] == "v1"
    converge_then_rotate(proj, maria, "accountPasswordSecretVersion")


def test_polardb_reset_detects_a_rotation_and_remediate_applies_it(
    maria: EmulatorProcess, tmp_path: Path
) -> None:
    proj = root_stack(maria, tmp_path)
    proj.up()
    maria.clear_requests()
    healthy = run_cli(proj, "detect", "--stack", proj.stack_name, "--json")
    assert healthy.returncode == 0, proj.log[-1]
    [target] = json.loads(healthy.stdout)["targets"]
    assert target["verdict"] == "ok"

    maria.rotate_secret(SECRET, SECOND)
    maria.clear_requests()
    report = tmp_path / "drift.md"
    drift = run_cli(proj, "detect", "--stack", proj.stack_name, "--json", "--markdown", str(report))
    # Drift: 7, Pulumi's "changes found where none were expected" (docs/pipeline.md).
    assert drift.returncode == 7, drift.stdout + drift.stderr
    [target] = json.loads(drift.stdout)["targets"]
    assert ROTATED in target["verdict"], target
    assert maria.writes() == [] and actions(maria, "GetSecretValue") >= 1

    fixed = run_cli(proj, "remediate", "--stack", proj.stack_name, "--json")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    [target] = json.loads(fixed.stdout)["targets"]
    assert target["action"] == "reset" and target["status"] == "ok", target
    assert len(maria.resets()) == 1
    assert logs_in(maria, SECOND) and not logs_in(maria, FIRST)
    again = run_cli(proj, "detect", "--stack", proj.stack_name)
    assert again.returncode == 0, again.stdout + again.stderr
    written = "\n".join(
        [
            healthy.stdout + healthy.stderr,
            drift.stdout + drift.stderr,
            fixed.stdout + fixed.stderr,
            again.stdout + again.stderr,
            report.read_text(),
        ]
    )
    assert SECRET in written or ROTATED in written
    for value in (FIRST, SECOND):
        assert value not in written
    scan(proj, maria)


def test_a_missing_secret_fails_the_up_in_one_line(maria: EmulatorProcess, tmp_path: Path) -> None:
    proj = root_stack(maria, tmp_path, secret="polardb/missing")
    done = proj.run("up", "--yes", "--non-interactive", "--skip-preview", check=False)
    assert done.returncode != 0
    output = proj.output_text()
    assert_one_line_failure(output, "KMS secret 'polardb/missing' (stage ACSCurrent)")
    assert "kms:GetSecretValue on acs:kms:cn-hangzhou:*:secret/polardb/missing" in output
    assert maria.resets() == []
