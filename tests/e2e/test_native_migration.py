"""End to end: a deployed stack of 3 dynamic resets moves to the native provider with 0 resets.

``python -m pulumi_polardb_reset.native.migrate`` (docs/native-provider.md) rewrites the
stack's state; the program then declares the same resources with the native provider's
generated Python SDK, and ``pulumi up`` has nothing to do: no API call at all.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess
from native_harness import PACKAGE, TOKEN, install_plugin, sdk_dir, state_outputs, use_python_sdk
from pulumi_harness import PulumiProject, pulumi_bin

pytestmark = pytest.mark.e2e
__all__ = ["sdk_dir"]  # fixture

CLUSTERS = ("pc-migrate000001", "pc-migrate000002", "pc-migrate000003")
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
for i, cluster in enumerate({clusters!r}):
    {cls}(
        f"target{{i}}",
        db_cluster_id=cluster,
        account_name="dbadmin",
        account_password=config.require_secret("password"),
        reset_nonce="1",
        check_privileges=False,
    )
"""
DYNAMIC = PROGRAM.format(
    import_line="from pulumi_polardb_reset import PrivilegedAccountReset",
    clusters=CLUSTERS,
    cls="PrivilegedAccountReset",
)
NATIVE = PROGRAM.format(
    import_line="import pulumi_polardb_account as polardb",
    clusters=CLUSTERS,
    cls="polardb.PrivilegedAccountReset",
)


def test_three_dynamic_targets_move_to_native_without_a_reset(
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
                "polardbReset:providerProcesses": "1",
                f"{PACKAGE}:region": "cn-hangzhou",
                f"{PACKAGE}:accessKey": ACCESS_KEY_ID,
                f"{PACKAGE}:endpoint": emu.base_url,
            }
        )
        proj.set_secret("alicloud:secretKey", ACCESS_KEY_SECRET)
        proj.set_secret(f"{PACKAGE}:secretKey", ACCESS_KEY_SECRET)
        proj.set_secret("password", "Managed!pass1")
        assert proj.up() == {"create": 4}
        assert len(emu.resets()) == 3
        emu.clear_requests()

        # Migrate the state, then switch the program to the native SDK.
        install_plugin(proj)
        done = subprocess.run(
            [sys.executable, "-m", "pulumi_polardb_reset.native.migrate"],
            cwd=proj.dir,
            env=proj.environ(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert "moved 3 PrivilegedAccountReset" in done.stderr
        use_python_sdk(proj, sdk_dir, tmp_path)
        (proj.dir / "__main__.py").write_text(NATIVE)

        assert proj.preview() == {"same": 4}, proj.output_text()
        assert proj.up() == {"same": 4}
        assert emu.requests() == []  # not even a read
        outs = state_outputs(proj)
        assert sorted(outs) == ["target0", "target1", "target2"]
        for o in outs.values():
            assert o["resetCount"] == 1 and o["resetNonce"] == "1"
        types = {r["type"] for r in proj.export()["resources"]}
        assert (
            TOKEN in types and "pulumi-python:dynamic/polardb:PrivilegedAccountReset" not in types
        )

        # The native provider now owns them: a nonce bump resets exactly one.
        (proj.dir / "__main__.py").write_text(
            NATIVE.replace('reset_nonce="1"', 'reset_nonce="2" if i == 0 else "1"')
        )
        assert proj.up() == {"same": 3, "update": 1}
        assert len(emu.resets()) == 1
