"""Programs on the native provider plugin (``pulumi-resource-polardb-account``), any language.

The plugin is installed the documented way (docs/native-provider.md): ``pulumi plugin
install resource polardb-account <version> --file <the console script>`` into the
project's own ``PULUMI_HOME``, so no PATH change and no ambient-plugin warning. The
emulator runs its MariaDB backend, so a REVOKE is real drift; its request log witnesses
every API call.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pymysql  # type: ignore[import-untyped]
import pytest
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess
from pulumi_harness import PulumiProject, venv_dir

from pulumi_polardb_reset.native._server import plugin_version

PACKAGE = "polardb-account"
TOKEN = "polardb-account:index:PrivilegedAccountReset"
PLUGIN = "pulumi-resource-polardb-account"
CLUSTER = "pc-native0000001"
CLUSTER_2 = "pc-native0000002"
ACCOUNT = "dbadmin"
SEED_PASSWORD = "0rders!Seed1"
MANAGED_PASSWORD = "0rders!Managed1"
SEED: dict[str, Any] = {
    "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
    "settings": {"task_seconds": 0.3, "concurrent_tasks_per_cluster": 1},
    "clusters": [
        {
            "id": cluster,
            "region": region,
            "db_type": "MySQL",
            "accounts": [{"name": ACCOUNT, "type": "Super", "password": SEED_PASSWORD}],
        }
        for cluster, region in ((CLUSTER, "cn-hangzhou"), (CLUSTER_2, "cn-shanghai"))
    ],
}
AMBIENT_WARNING = f"using {PLUGIN} from $PATH"


def plugin_path() -> Path:
    """The console script installed with the package (in the test virtualenv)."""
    found = shutil.which(PLUGIN, path=str(venv_dir() / "bin"))
    assert found, f"{PLUGIN} is not installed in {venv_dir()}: pip install -e ."
    return Path(found)


def install_plugin(proj: PulumiProject) -> None:
    """``pulumi plugin install resource polardb-account <version> --file ...`` (documented)."""
    proj.run(
        "plugin", "install", "resource", PACKAGE, plugin_version(), "--file", str(plugin_path())
    )


def configure(proj: PulumiProject, emu: EmulatorProcess, **config: Any) -> None:
    """Provider config for the emulator (the secret key encrypted) plus program config."""
    proj.write_config(
        {
            f"{PACKAGE}:region": "cn-hangzhou",
            f"{PACKAGE}:accessKey": ACCESS_KEY_ID,
            f"{PACKAGE}:endpoint": emu.base_url,
            **config,
        }
    )
    proj.set_secret(f"{PACKAGE}:secretKey", ACCESS_KEY_SECRET)


def revoke(emu: EmulatorProcess, privilege: str, cluster: str = CLUSTER) -> None:
    """REVOKE a privilege from the account over SQL, as a DBA would."""
    conn = pymysql.connect(**emu.sql_login(cluster), autocommit=True)
    with conn, conn.cursor() as cursor:
        cursor.execute(f"REVOKE {privilege} ON *.* FROM '{ACCOUNT}'@'%'")


def state_outputs(proj: PulumiProject) -> dict[str, dict[str, Any]]:
    """The outputs in state of every resource of the native type, by resource name."""
    return {
        r["urn"].rsplit("::", 1)[-1]: r["outputs"]
        for r in proj.export().get("resources") or []
        if r.get("type") == TOKEN
    }


def use_python_sdk(proj: PulumiProject, sdk_dir: Path, tmp_path: Path) -> None:
    """``pip install`` the generated Python SDK into a directory of its own (the shared test
    virtualenv stays as it is) and put it on the project's PYTHONPATH."""
    site = tmp_path / "site-packages"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(sdk_dir / "python"),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    proj.env["PYTHONPATH"] = str(site)


def converge_then_drift(proj: PulumiProject, emu: EmulatorProcess, bump: Any) -> None:
    """The scenario every language runs: first up, no-op up, nonce bump, refresh sees a revoke.

    ``bump()`` changes the program's reset nonce (config or code).
    """
    assert proj.preview() == {"create": 2}
    assert emu.requests() == [], emu.requests()  # a preview makes no API call
    assert proj.up() == {"create": 2}
    assert len(emu.resets()) == 1
    (outs,) = state_outputs(proj).values()
    assert outs["privilegesOk"] is True and outs["missingPrivileges"] == [], outs
    assert outs["resetCount"] == 1

    emu.clear_requests()
    assert proj.up() == {"same": 2}
    assert emu.requests() == []  # no API call at all on a no-op up

    bump()
    assert proj.preview() == {"same": 1, "update": 1}
    assert emu.requests() == []
    assert proj.up() == {"same": 1, "update": 1}
    assert len(emu.resets()) == 1
    emu.clear_requests()

    revoke(emu, "RELOAD")
    assert proj.refresh() == {"same": 1, "update": 1}
    (outs,) = state_outputs(proj).values()
    assert outs["privilegesOk"] is False and outs["missingPrivileges"] == ["RELOAD"], outs
    assert emu.writes() == []  # a refresh only reads
    assert AMBIENT_WARNING not in proj.output_text()


@pytest.fixture(scope="session")
def sdk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SDKs, generated once per session by scripts/gen-sdks (as documented)."""
    import subprocess

    from pulumi_harness import REPO, pulumi_bin

    out = tmp_path_factory.mktemp("sdk")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env.update(PULUMI_BIN=pulumi_bin(), PLUGIN=str(plugin_path()))
    subprocess.run(
        [str(REPO / "scripts" / "gen-sdks"), str(out)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return out
