"""End to end: a deployed dynamic stack moves to the native provider and keeps working.

The stack is what a pulumi-alicloud user has: credentials, region and endpoint only in
``alicloud:*`` config, and two resets, the second ``depends_on`` the first and takes its
``account_name`` output. docs/native-provider.md's migration block runs verbatim with bash
in the project directory (its virtualenv activated, nothing of ours on PATH otherwise);
the program then declares the same resources with the native provider's generated Python
SDK. The emulator's request log witnesses every API call: none for the migration and the
preview, exactly one reset for a nonce bump, no write for ``pulumi up --refresh``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess
from native_harness import PACKAGE, TOKEN, install_plugin, sdk_dir, state_outputs, use_python_sdk
from pulumi_harness import REPO, PulumiProject, pulumi_bin
from test_readme import block, run_bash

pytestmark = pytest.mark.e2e
__all__ = ["sdk_dir"]  # fixture

DYNAMIC_TYPE = "pulumi-python:dynamic/polardb:PrivilegedAccountReset"
CLUSTERS = ("pc-migrate000001", "pc-migrate000002")
SEED = {
    "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
    "settings": {"task_seconds": 0.2, "concurrent_tasks_per_cluster": 1},
    "clusters": [
        {
            "id": c,
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "accounts": [{"name": "dbadmin", "type": "Super", "password": "Seed!pass1"}],
        }
        for c in CLUSTERS
    ],
}
PROJECT = """name: migrate
runtime:
  name: python
  options:
    virtualenv: venv
"""
PROGRAM = """import pulumi
{import_line}

config = pulumi.Config()
password = config.require_secret("password")
first = {cls}(
    "first",
    db_cluster_id="{c0}",
    account_name="dbadmin",
    account_password=password,
    reset_nonce="1",
    check_privileges=False,
)
{cls}(
    "second",
    db_cluster_id="{c1}",
    account_name=first.account_name,
    account_password=password,
    reset_nonce=config.get("secondNonce") or "1",
    check_privileges=False,
    opts=pulumi.ResourceOptions(depends_on=[first]),
)
"""
DYNAMIC = PROGRAM.format(
    import_line="from pulumi_polardb_reset import PrivilegedAccountReset",
    cls="PrivilegedAccountReset",
    c0=CLUSTERS[0],
    c1=CLUSTERS[1],
)
NATIVE = PROGRAM.format(
    import_line="import pulumi_polardb_account as polardb",
    cls="polardb.PrivilegedAccountReset",
    c0=CLUSTERS[0],
    c1=CLUSTERS[1],
)


def urn(proj: PulumiProject, type_: str, name: str) -> str:
    return f"urn:pulumi:{proj.stack_name}::migrate::{type_}::{name}"


def stack_files(proj: PulumiProject) -> dict[Path, bytes]:
    """Every file of the state backend and of the project (its virtualenv aside)."""
    paths = [*(proj.root / "state").rglob("*"), *proj.dir.glob("*")]
    return {p: p.read_bytes() for p in paths if p.is_file() and not p.is_symlink()}


def user_env(proj: PulumiProject) -> dict[str, str]:
    """A user's shell in the project: the pulumi CLI on PATH, nothing of this repository."""
    env = proj.environ()
    env["PATH"] = os.pathsep.join([proj.bin_dir, "/usr/local/bin", "/usr/bin", "/bin"])
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    return env


def test_dynamic_stack_with_alicloud_config_and_depends_on_migrates_and_keeps_working(
    tmp_path: Path, sdk_dir: Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "Pulumi.yaml").write_text(PROJECT)
    (source / "__main__.py").write_text(DYNAMIC)
    with EmulatorProcess(SEED) as emu:
        proj = PulumiProject(source, tmp_path / "run", bin_dir=pulumi_bin())
        proj.write_config(
            {
                "alicloud:region": "cn-hangzhou",
                "alicloud:accessKey": ACCESS_KEY_ID,
                "alicloud:endpoints": f'[{{"polardb": "{emu.base_url}"}}]',
            }
        )
        proj.set_secret("alicloud:secretKey", ACCESS_KEY_SECRET)
        proj.set_secret("password", "Managed!pass1")
        assert proj.up() == {"create": 3}
        assert len(emu.resets()) == 2
        emu.clear_requests()
        install_plugin(proj)

        # The documented commands, verbatim, in the project directory.
        commands = block(
            (REPO / "docs" / "native-provider.md").read_text(), "docs-snippet: migrate"
        )
        output = run_bash(commands, proj.dir, user_env(proj))
        assert "set polardb-account:secretKey (secret) from alicloud:secretKey" in output, output
        assert "moved 2 PrivilegedAccountReset resource(s)" in output, output
        assert emu.requests() == []  # the migration makes no API call

        # The config the native provider reads: the secret encrypted, the rest as it was.
        config = yaml.safe_load((proj.dir / f"Pulumi.{proj.stack_name}.yaml").read_text())
        config = config["config"]
        assert config[f"{PACKAGE}:region"] == "cn-hangzhou"
        assert config[f"{PACKAGE}:accessKey"] == ACCESS_KEY_ID
        assert config[f"{PACKAGE}:endpoint"] == emu.base_url
        assert set(config[f"{PACKAGE}:secretKey"]) == {"secure"}
        assert set(config["alicloud:secretKey"]) == {"secure"}  # kept, still encrypted
        for where, text in proj.written().items():
            assert ACCESS_KEY_SECRET not in text, f"the AccessKey secret is in {where}"

        # The dependencies between the resets follow the new URNs.
        state = {r["urn"]: r for r in proj.export()["resources"]}
        first, second = urn(proj, TOKEN, "first"), urn(proj, TOKEN, "second")
        assert state[second]["dependencies"] == [first]
        assert state[second]["propertyDependencies"]["accountName"] == [first]
        assert not [u for u in state if DYNAMIC_TYPE in u]

        # The program on the native SDK: nothing to do, not even a read.
        use_python_sdk(proj, sdk_dir, tmp_path)
        (proj.dir / "__main__.py").write_text(NATIVE)
        assert proj.preview() == {"same": 3}, proj.output_text()
        assert emu.requests() == []

        # A nonce bump of the second: exactly one reset, of its cluster.
        proj.set_config("secondNonce", "2")
        assert proj.up() == {"same": 2, "update": 1}
        resets = emu.resets()
        assert [r["params"]["DBClusterId"] for r in resets] == [CLUSTERS[1]], resets
        assert "Traceback" not in proj.output_text()
        outs = state_outputs(proj)
        assert outs["second"]["resetCount"] == 2 and outs["first"]["resetCount"] == 1
        state = {r["urn"]: r for r in proj.export()["resources"]}
        assert state[second]["dependencies"] == [first]

        # Refresh and update together converge: reads only.
        emu.clear_requests()
        assert proj.up("--refresh") == {"same": 3}
        assert emu.writes() == []
        assert {r["action"] for r in emu.requests()} <= {"DescribeAccounts", "DescribeDBClusters"}


def test_migrate_stops_in_one_line_with_the_state_untouched(tmp_path: Path) -> None:
    """A checkpoint the CLI cannot read, a stack that does not exist, no pulumi on PATH:
    one line each, Pulumi's exit codes, nothing written."""
    source = tmp_path / "source"
    source.mkdir()
    (source / "Pulumi.yaml").write_text(PROJECT)
    (source / "__main__.py").write_text(DYNAMIC)
    proj = PulumiProject(source, tmp_path / "run", bin_dir=pulumi_bin())
    proj.write_config({"alicloud:region": "cn-hangzhou"})
    (checkpoint,) = (proj.root / "state").rglob(f"{proj.stack_name}.json")
    checkpoint.write_text('{"version": 3, "checkpoint": {"latest": {"resources": [')
    files = stack_files(proj)
    command = [str(proj.dir / "venv" / "bin" / "polardb-reset"), "migrate"]

    broken = subprocess.run(
        command, cwd=proj.dir, env=user_env(proj), capture_output=True, text=True, timeout=300
    )
    assert broken.returncode == 1, broken.stderr
    assert broken.stderr.count("\n") == 1 and broken.stderr.startswith("error: "), broken.stderr
    assert "`pulumi stack export` failed" in broken.stderr
    assert broken.stderr.endswith("the stack's state was not changed\n")

    unknown = subprocess.run(
        [*command, "--stack", "nope"],
        cwd=proj.dir,
        env=user_env(proj),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert unknown.returncode == 6  # Pulumi's "stack not found", passed on
    assert unknown.stderr.count("\n") == 1 and "no stack named 'nope'" in unknown.stderr

    env = user_env(proj)
    env["PATH"] = "/usr/bin:/bin"
    missing = subprocess.run(
        command, cwd=proj.dir, env=env, capture_output=True, text=True, timeout=300
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: the pulumi CLI is not on PATH")
    assert missing.stderr.count("\n") == 1

    assert stack_files(proj) == files  # the state backend and the config as they were
