"""End to end: ``polardb-reset detect`` and ``remediate`` on a stack of the native plugin.

The stack is ``examples/native-yaml`` (a Pulumi YAML program, resource
``polardb-account:index:PrivilegedAccountReset``, outputs in camelCase) on the
MariaDB-backed emulator, so a REVOKE is real drift. The command runs as a CI job runs it
(the console script, the project's backend); the emulator's request log and the state
backend's files witness what each step wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from emulator_harness import EmulatorProcess
from native_harness import (
    ACCOUNT,
    AMBIENT_WARNING,
    CLUSTER,
    MANAGED_PASSWORD,
    SEED,
    configure,
    install_plugin,
    revoke,
    state_outputs,
)
from pulumi_harness import REPO, PulumiProject, pulumi_bin, run_cli

from pulumi_polardb_reset.cli import _report as report

pytestmark = pytest.mark.e2e
MARIADB_SEED = SEED  # the maria fixtures' (tests/conftest.py)


def state_files(proj: PulumiProject) -> dict[str, bytes]:
    """Every file of the project's state backend, by path."""
    return {
        str(path): path.read_bytes() for path in (proj.root / "state").rglob("*") if path.is_file()
    }


def targets(done: Any) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in json.loads(done.stdout)["targets"]}


def test_detect_remediate_detect_on_a_yaml_program(maria: EmulatorProcess, tmp_path: Path) -> None:
    proj = PulumiProject(REPO / "examples" / "native-yaml", tmp_path, bin_dir=pulumi_bin())
    install_plugin(proj)
    configure(proj, maria, clusterId=CLUSTER, accountName=ACCOUNT)
    proj.set_secret("accountPassword", MANAGED_PASSWORD)
    assert proj.up() == {"create": 2}
    maria.clear_requests()
    stack = ("--stack", proj.stack_name, "--json")

    healthy = run_cli(proj, "detect", *stack)
    assert healthy.returncode == report.EXIT_OK, proj.log[-1]
    assert targets(healthy) == {
        "admin": {
            **targets(healthy)["admin"],
            "account": ACCOUNT,
            "cluster": CLUSTER,
            "status": "ok",
            "verdict": "ok",
        }
    }
    assert maria.writes() == []

    revoke(maria, "RELOAD")
    before = state_files(proj)
    drift = run_cli(proj, "detect", *stack)
    assert drift.returncode == report.EXIT_DRIFT, proj.log[-1]
    found = targets(drift)["admin"]
    assert (found["status"], found["missing_privileges"]) == ("drift", ["RELOAD"]), found
    (line,) = [x for x in drift.stderr.splitlines() if x.startswith("admin ")]
    assert CLUSTER in line and line.endswith("missing: RELOAD"), drift.stderr
    assert maria.writes() == []  # detect writes nothing: not the cloud, not the state
    assert state_files(proj) == before
    assert "Traceback" not in drift.stdout + drift.stderr
    # The drift is said by the target's verdict, not again as a warning. (The test
    # virtualenv is on PATH, and with it the plugin's console script: the engine's
    # ambient-plugin warning is the only other thing said.)
    assert not [w for w in json.loads(drift.stdout)["warnings"] if AMBIENT_WARNING not in w]

    fixed = run_cli(proj, "remediate", *stack)
    assert fixed.returncode == report.EXIT_OK, proj.log[-1]
    (call,) = maria.resets()
    assert (call["params"]["DBClusterId"], call["params"]["AccountName"]) == (CLUSTER, ACCOUNT)
    done = targets(fixed)["admin"]
    assert (done["action"], done["before"], done["status"]) == ("reset", "missing: RELOAD", "ok")
    outputs = state_outputs(proj)["admin"]
    assert done["request_id"] == outputs["lastResetRequestId"]
    assert outputs["privilegesOk"] is True and outputs["missingPrivileges"] == []

    # A CI job that has the package on PATH uses the installed plugin as documented
    # (docs/pipeline.md): no warning at all, the report lines only.
    maria.clear_requests()
    again = run_cli(
        proj, "detect", "--stack", proj.stack_name, env={"PULUMI_IGNORE_AMBIENT_PLUGINS": "true"}
    )
    assert again.returncode == report.EXIT_OK, proj.log[-1]
    assert maria.writes() == []
    lines = again.stdout.splitlines()
    assert [line.split() for line in lines[:2]] == [
        ["TARGET", "ACCOUNT", "CLUSTER", "VERDICT"],
        ["admin", ACCOUNT, CLUSTER, "ok"],
    ], again.stdout
    assert lines[2:] == [
        f"polardb-reset detect: stack {proj.stack_name}: healthy: 1 target(s), 1 ok"
    ], again.stdout
    assert again.stderr == ""
