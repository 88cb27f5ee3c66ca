"""End to end: a Go program on the native provider's generated Go SDK, with the real CLI.

scripts/gen-sdks writes the Go SDK as a Go module (``sdk/go`` of this repository, package
``polardbaccount``); ``examples/native-go`` uses it through a ``replace`` in its go.mod and
``github.com/pulumi/pulumi/sdk/v3`` v3.260.0 from the module proxy, and runs on the Go
language host (``runtime: go``, built by scripts/install-pulumi). The program converges,
idles with no API call, resets once on a nonce bump, sees a REVOKE on refresh (MariaDB
backend), and adopts an account with ``pulumi import`` by reading only.

The Go build caches are the user's defaults (``go env GOCACHE GOMODCACHE``), shared with
scripts/install-pulumi: the program's first build compiles the Pulumi Go SDK once.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from emulator_harness import EmulatorProcess, require_tool
from native_harness import (
    ACCOUNT,
    AMBIENT_WARNING,
    CLUSTER,
    MANAGED_PASSWORD,
    SEED,
    TOKEN,
    configure,
    converge_then_drift,
    install_plugin,
    sdk_dir,
    state_outputs,
)
from pulumi_harness import REPO, PulumiProject, pulumi_bin

from pulumi_polardb_reset.native import _schema

pytestmark = pytest.mark.e2e
__all__ = ["sdk_dir"]  # fixtures
MARIADB_SEED = SEED  # the maria fixtures' (tests/conftest.py)
EXAMPLE = REPO / "examples" / "native-go"


@pytest.fixture(scope="session")
def bin_dir() -> str:
    return pulumi_bin()


def go(project: Path, *args: str) -> None:
    """``go ARGS`` in the project, as its user runs it (their environment, default caches)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    done = subprocess.run(
        ["go", *args], cwd=project, env=env, capture_output=True, text=True, timeout=1800
    )
    assert done.returncode == 0, f"go {' '.join(args)}:\n{done.stdout}{done.stderr}"


@pytest.fixture(scope="session")
def go_sdk(sdk_dir: Path) -> Path:
    """The generated Go SDK: a module of its own, at the module path the schema names."""
    module = sdk_dir / "go"
    go_mod = module / "go.mod"
    assert go_mod.is_file(), f"scripts/gen-sdks wrote no Go module in {module}"
    assert f"module {_schema.GO_MODULE}\n" in go_mod.read_text()
    package = _schema.GO_IMPORT_PATH.removeprefix(_schema.GO_MODULE + "/")
    assert (module / package / "privilegedAccountReset.go").is_file()
    return module


def go_project(root: Path, bin_dir: str, emu: EmulatorProcess, go_sdk: Path) -> PulumiProject:
    """examples/native-go on the generated SDK, built once, plugin installed, configured."""
    require_tool("go", "the Go SDK test")
    proj = PulumiProject(EXAMPLE, root, bin_dir=bin_dir)
    go(proj.dir, "mod", "edit", f"-replace={_schema.GO_MODULE}={go_sdk}")
    go(proj.dir, "mod", "tidy")
    # The first build compiles the Pulumi Go SDK (minutes on a cold cache); the language
    # host's builds then reuse it, within the CLI commands' timeout.
    go(proj.dir, "build", "-o", os.devnull, ".")
    install_plugin(proj)
    configure(proj, emu, clusterId=CLUSTER, accountName=ACCOUNT)
    return proj


def test_go_program_converges_idles_resets_once_and_refresh_sees_a_revoke(
    maria: EmulatorProcess, go_sdk: Path, tmp_path: Path, bin_dir: str
) -> None:
    proj = go_project(tmp_path, bin_dir, maria, go_sdk)
    proj.set_secret("accountPassword", MANAGED_PASSWORD)
    converge_then_drift(proj, maria, bump=lambda: proj.set_config("resetNonce", "2"))
    # The drift found by refresh is repaired by the next up: one reset.
    assert proj.up() == {"same": 1, "update": 1}
    assert len(maria.resets()) == 1
    (outs,) = state_outputs(proj).values()
    assert outs["privilegesOk"] is True
    assert proj.outputs()["privilegesOk"] is True


def test_go_import_adopts_with_reads_only_and_a_later_nonce_resets(
    maria: EmulatorProcess, go_sdk: Path, tmp_path: Path, bin_dir: str
) -> None:
    proj = go_project(tmp_path, bin_dir, maria, go_sdk)  # no password, no nonce: adopt
    proj.run("import", TOKEN, "admin", f"{CLUSTER}:{ACCOUNT}", "--yes", "--protect=false")
    assert maria.writes() == []  # adopted by reading only
    assert [r["action"] for r in maria.requests()].count("DescribeAccounts") >= 1
    (outs,) = state_outputs(proj).values()
    assert outs["dbClusterId"] == CLUSTER and outs["accountStatus"] == "Available"

    # The Go program declares the same resource: nothing to do, nothing written.
    maria.clear_requests()
    assert proj.up() == {"same": 2}
    assert maria.writes() == []

    # A nonce set later is a reset, exactly one.
    proj.set_config("resetNonce", "1")
    assert proj.up() == {"same": 1, "update": 1}
    assert len(maria.resets()) == 1
    assert AMBIENT_WARNING not in proj.output_text()
