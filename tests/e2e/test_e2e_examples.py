"""End to end: every project under examples/ with the real Pulumi CLI, in a shell, against the emulator.

The emulator's request log witnesses every API call the engine caused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from emulator_harness import EmulatorProcess, require_mariadbd
from pulumi_harness import (
    REPO,
    PulumiProject,
    emulator_config,
    pulumi_bin,
    run_cli,
    set_secret_key,
)

pytestmark = pytest.mark.e2e

EXAMPLES = REPO / "examples"
CLUSTER, OTHER = "pc-mysql00000001", "pc-mysql00000002"
TARGETS = [
    {"name": "main", "dbClusterId": CLUSTER, "accountName": "dbadmin"},
    {"name": "other", "dbClusterId": OTHER, "accountName": "polar_super"},
]
MakeProject = Callable[[str], PulumiProject]


@pytest.fixture(scope="session")
def bin_dir() -> str:
    return pulumi_bin()


@pytest.fixture
def example(tmp_path: Path, bin_dir: str, emu: EmulatorProcess) -> MakeProject:
    """Factory: a copy of ``examples/<name>`` with the emulator's credentials and endpoint."""

    def make(name: str) -> PulumiProject:
        proj = PulumiProject(EXAMPLES / name, tmp_path, bin_dir=bin_dir)
        proj.write_config(emulator_config(emu, None, namespace="unused"))
        set_secret_key(proj)
        return proj

    return make


def test_examples_are_complete_projects() -> None:
    for name in ("basic", "rotate-password", "multi-cluster", "drift-remediation"):
        files = {p.name for p in (EXAMPLES / name).iterdir()}
        assert {"Pulumi.yaml", "__main__.py", "requirements.txt", "README.md"} <= files, name
        requirements = (EXAMPLES / name / "requirements.txt").read_text()
        assert "pulumi-polardb-reset" in requirements and "pulumi==3.260.0" in requirements


def test_basic_resets_once(emu: EmulatorProcess, example: MakeProject) -> None:
    proj = example("basic")
    proj.set_config("polardb-basic:dbClusterId", CLUSTER)
    proj.set_config("polardb-basic:resetNonce", "1", type_="int")  # read with config.get_int
    assert proj.up() == {"create": 2}
    (call,) = emu.resets()
    assert call["params"]["DBClusterId"] == CLUSTER and call["params"]["AccountName"] == "dbadmin"
    outputs = proj.outputs()
    assert outputs["id"] == f"{CLUSTER}:dbadmin" and outputs["reset_count"] == 1
    assert outputs["account_status"] == "Available"
    assert outputs["last_reset_request_id"] == call["request_id"]

    emu.clear_requests()
    assert proj.preview() == {"same": 2}
    assert proj.up() == {"same": 2}
    assert emu.requests() == []

    proj.set_config("polardb-basic:resetNonce", "2", type_="int")
    assert proj.up() == {"same": 1, "update": 1}
    assert len(emu.resets()) == 1 and proj.outputs()["reset_count"] == 2

    emu.clear_requests()
    assert proj.refresh() == {"same": 2}
    assert emu.writes() == []
    assert proj.destroy() == {"delete": 2}
    assert emu.writes() == []


def test_rotate_password(emu: EmulatorProcess, example: MakeProject) -> None:
    proj = example("rotate-password")
    proj.write_config(
        {"polardb-rotate:dbClusterId": CLUSTER, "polardb-rotate:accountName": "dbadmin"}
    )
    proj.set_secret("polardb-rotate:password", "F1rst!Passw0rd")
    proj.up()
    assert len(emu.resets()) == 1 and emu.verify_password(CLUSTER, "dbadmin", "F1rst!Passw0rd")

    emu.clear_requests()
    proj.set_secret("polardb-rotate:password", "Sec0nd!Passw0rd")
    assert proj.up() == {"same": 1, "update": 1}
    (call,) = emu.resets()
    assert "AccountPassword" in call["params"]
    assert emu.verify_password(CLUSTER, "dbadmin", "Sec0nd!Passw0rd")

    emu.clear_requests()
    proj.remove_config("polardb-rotate:password")
    assert proj.up() == {"same": 2}
    assert emu.writes() == []
    assert emu.verify_password(CLUSTER, "dbadmin", "Sec0nd!Passw0rd")


def test_multi_cluster(emu: EmulatorProcess, example: MakeProject) -> None:
    proj = example("multi-cluster")
    targets = [
        {**TARGETS[0], "resetNonce": "1"},
        # Per-target overrides (same emulator, explicit region and endpoint).
        {**TARGETS[1], "resetNonce": "1", "region": "cn-hangzhou", "endpoint": emu.base_url},
    ]
    proj.write_config({"polardb-multi:targets": targets})
    proj.set_secret("polardb-multi:passwords.other", "Oth3r!Passw0rd", path=True)
    assert proj.up() == {"create": 3}
    calls = emu.resets()
    assert sorted((c["params"]["DBClusterId"], c["params"]["AccountName"]) for c in calls) == [
        (CLUSTER, "dbadmin"),
        (OTHER, "polar_super"),
    ]
    assert emu.verify_password(OTHER, "polar_super", "Oth3r!Passw0rd")
    outputs = proj.outputs()
    assert outputs["main"]["reset_count"] == outputs["other"]["reset_count"] == 1
    assert outputs["other"]["effective_region"] == "cn-hangzhou"


# --- drift-remediation: polardb-reset as CI runs it ---------------------------------------


def by_target(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in json.loads(done.stdout)["targets"]}


@pytest.fixture
def drift(emu: EmulatorProcess, example: MakeProject) -> PulumiProject:
    """drift-remediation with two targets (no SQL check: in-memory backend), deployed once."""
    proj = example("drift-remediation")
    proj.write_config({"polardb-drift:targets": [{**t, "checkPrivileges": False} for t in TARGETS]})
    proj.up()
    assert len(emu.resets()) == 2
    emu.clear_requests()
    return proj


def test_remediate_no_drift_then_reset_all(emu: EmulatorProcess, drift: PulumiProject) -> None:
    done = run_cli(drift, "remediate", "--stack", drift.stack_name, "--json")
    assert done.returncode == 0, drift.log[-1]
    assert "Traceback" not in done.stderr
    assert [(t["verdict"], t["action"]) for t in by_target(done).values()] == [
        ("ok; privileges not checked: check_privileges is false", "unchanged")
    ] * 2
    assert emu.requests("ResetAccount") == [] and emu.writes() == []

    # numeric like CI IDs
    done = run_cli(
        drift,
        "remediate",
        "--stack",
        drift.stack_name,
        "--all",
        "--json",
        env={"GITHUB_RUN_ID": "1002"},
    )
    assert done.returncode == 0, drift.log[-1]
    targets = by_target(done)
    assert [t["action"] for t in targets.values()] == ["reset", "reset"]
    calls = emu.resets()
    assert sorted(c["params"]["DBClusterId"] for c in calls) == [CLUSTER, OTHER]
    assert {t["request_id"] for t in targets.values()} == {c["request_id"] for c in calls}
    assert all(o["reset_nonce"] == "1002" for o in drift.outputs().values())


def test_locked_account_is_drift_and_fails_remediation_clearly(
    emu: EmulatorProcess, drift: PulumiProject
) -> None:
    emu.patch_account(CLUSTER, "dbadmin", lock_state="Lock")
    found = run_cli(drift, "detect", "--stack", drift.stack_name, "--json")
    assert found.returncode == 7, drift.log[-1]
    assert by_target(found)["main"]["verdict"] == "locked"
    assert emu.writes() == []
    done = run_cli(drift, "remediate", "--stack", drift.stack_name, "--json")
    assert done.returncode == 4, drift.log[-1]
    assert "Traceback" not in done.stderr
    targets = by_target(done)
    assert targets["main"]["before"] == "locked" and targets["main"]["action"] == "failed"
    assert "the account is locked, and a reset does not unlock it" in targets["main"]["error"]
    assert targets["other"]["action"] == "unchanged"
    assert emu.writes() == []  # a reset would not unlock it: nothing is attempted


def test_gone_account_reported(emu: EmulatorProcess, drift: PulumiProject) -> None:
    emu.delete_account(OTHER, "polar_super")
    found = run_cli(drift, "detect", "--stack", drift.stack_name)
    assert found.returncode == 7, drift.log[-1]
    (line,) = [x for x in found.stdout.splitlines() if x.startswith("other ")]
    assert line.split()[1:] == ["polar_super", OTHER, "gone"]
    assert sorted(r["outputs"]["account_name"] for r in drift.resources()) == [
        "dbadmin",
        "polar_super",
    ]
    done = run_cli(drift, "remediate", "--stack", drift.stack_name, "--json")
    assert done.returncode == 4, drift.log[-1]
    targets = by_target(done)
    assert targets["other"]["verdict"] == "gone" and targets["other"]["action"] == "failed"
    assert "does not exist" in targets["other"]["error"]
    assert targets["main"]["action"] == "unchanged"
    assert emu.resets() == []
    assert [r["outputs"]["account_name"] for r in drift.resources()] == ["dbadmin"]


# --- drift-remediation: the README's permission-drift walkthrough, as a user runs it -----


def _readme_block(text: str, marker: str) -> str:
    """The fenced bash block right after ``<!-- marker -->``."""
    after = text.split(f"<!-- {marker} -->", 1)[1]
    return after.split("```bash\n", 1)[1].split("\n```", 1)[0]


def test_drift_walkthrough_runs_as_written(tmp_path: Path, package_wheel: Path) -> None:
    """docs/pipeline.md's walkthrough: revoke a privilege, detect (3), remediate, detect (0)."""
    require_mariadbd("the drift-remediation walkthrough")
    copy = tmp_path / "my-stack"  # outside the repository, as a user copies it
    shutil.copytree(
        EXAMPLES / "drift-remediation",
        copy,
        ignore=shutil.ignore_patterns("venv", "__pycache__", "Pulumi.*.yaml"),
    )
    page = REPO / "docs" / "pipeline.md"
    script = _readme_block(page.read_text(), "drift-walkthrough")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "PULUMI_"))
    }
    env.update(
        PATH=os.pathsep.join([pulumi_bin(), env["PATH"]]),
        POLARDB_RESET_WHEEL=str(package_wheel),
        PULUMI_HOME=str(tmp_path / "home"),
        PULUMI_BACKEND_URL=f"file://{tmp_path / 'state'}",
        PULUMI_CONFIG_PASSPHRASE="examples-passphrase",
        PULUMI_SKIP_UPDATE_CHECK="true",
        NO_COLOR="1",
    )
    (tmp_path / "state").mkdir()
    seed = EXAMPLES / "emulator-seed.yaml"
    # The emulator binds a port of its own (port 0), never the README's 18080 that another
    # run may hold; the walkthrough then uses the port it reports.
    with EmulatorProcess(seed, backend="mariadb") as emu:
        port = emu.endpoint.rsplit(":", 1)[1]
        example_config = copy / "Pulumi.dev.yaml.example"
        example_config.write_text(example_config.read_text().replace("18080", port))
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script.replace("18080", port)],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        calls = emu.resets()
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # The first up resets both (in either order), then orders twice: revoke, password.
    names = [c["params"]["AccountName"] for c in calls]
    assert sorted(names[:2]) == ["dbadmin", "polar_super"] and names[2:] == ["dbadmin"] * 2
    assert [c["status"] for c in calls] == [200] * 4, output
    # What the page shows detect and remediate print (request IDs differ per run).
    shown = page.read_text().split("What `detect` prints after the revoke", 1)[1]
    # The table (header and one row per target) as shown, rows in the order shown.
    lines = [line.split() for line in output.splitlines()]
    for block in shown.split("```text\n")[1:3]:
        wanted = [
            line.split("(request", 1)[0].split() for line in block.split("\n```")[0].splitlines()
        ]
        table = [w for w in wanted if w[0] != "polardb-reset"]
        assert any(
            all(lines[i + j][: len(w)] == w for j, w in enumerate(table))
            for i in range(len(lines) - len(table) + 1)
        ), (block, output)
        summary = [w for w in wanted if w[0] == "polardb-reset"]
        assert all(any(got[: len(w)] == w for got in lines) for w in summary), (block, output)
    junit = (copy / "drift.xml").read_text()
    assert junit.count("<failure ") == 1 and "missing: RELOAD" in junit
    drift = json.loads((copy / "drift.json").read_text())
    verdicts = {t["name"]: t["verdict"] for t in drift["targets"]}
    assert verdicts == {"orders": "password refused", "billing": "ok"}, drift
    assert "Traceback" not in output and "error:" not in output, output
