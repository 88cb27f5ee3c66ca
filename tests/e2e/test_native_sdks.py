"""End to end: TypeScript and Python programs on the native provider's generated SDKs.

scripts/gen-sdks generates the SDKs from the plugin's schema (``pulumi package gen-sdk``);
the TypeScript program installs the packed npm package with ``@pulumi/pulumi`` 3.260.0
from npm and runs on the Node.js language host; the Python program imports the generated
``pulumi_polardb_account``. Each converges, idles with no API call, resets once on a nonce
bump and sees a revoked privilege on refresh (MariaDB backend).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from emulator_harness import EmulatorProcess, require_tool
from native_harness import (
    ACCOUNT,
    CLUSTER,
    MANAGED_PASSWORD,
    SEED,
    configure,
    converge_then_drift,
    install_plugin,
    sdk_dir,
    use_python_sdk,
)
from pulumi_harness import REPO, PulumiProject, pulumi_bin

pytestmark = pytest.mark.e2e
__all__ = ["sdk_dir"]  # fixtures
MARIADB_SEED = SEED  # the maria fixtures' (tests/conftest.py)


@pytest.fixture(scope="session")
def bin_dir() -> str:
    return pulumi_bin()


def _project(example: str, tmp_path: Path, bin_dir: str, emu: EmulatorProcess) -> PulumiProject:
    proj = PulumiProject(REPO / "examples" / example, tmp_path, bin_dir=bin_dir)
    install_plugin(proj)
    configure(proj, emu, clusterId=CLUSTER, accountName=ACCOUNT)
    proj.set_secret("accountPassword", MANAGED_PASSWORD)
    return proj


def test_typescript_program_with_the_generated_sdk(
    maria: EmulatorProcess, sdk_dir: Path, tmp_path: Path, bin_dir: str
) -> None:
    require_tool("npm", "the TypeScript SDK test")
    proj = _project("native-typescript", tmp_path, bin_dir, maria)
    (tarball,) = sdk_dir.glob("*.tgz")
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", str(tarball)],
        cwd=proj.dir,
        check=True,
        capture_output=True,
        timeout=600,
    )
    converge_then_drift(proj, maria, bump=lambda: proj.set_config("resetNonce", "2"))
    # Outputs without a value are null, never undefined (issue 24, item 14): no warning
    # about an exported undefined value, and an unchanged stack's preview knows them all.
    assert "Undefined value" not in proj.output_text(), proj.output_text()
    assert proj.up() == {"same": 1, "update": 1}  # repairs the drift the refresh found
    text = proj.preview_text()
    assert "[unknown]" not in text and "Undefined value" not in proj.output_text(), text


def test_typescript_outputs_without_a_value_are_null_not_undefined(
    maria: EmulatorProcess, sdk_dir: Path, tmp_path: Path, bin_dir: str
) -> None:
    """The example without a password: the check cannot log in, so privilegesOk and
    missingPrivileges have no value. They are null: `pulumi up` does not warn "Undefined
    value (privilegesOk)" and a preview of the unchanged stack knows them (issue 24 #14)."""
    require_tool("npm", "the TypeScript SDK test")
    proj = _project("native-typescript", tmp_path, bin_dir, maria)
    index = proj.dir / "index.ts"
    password = '    accountPassword: config.requireSecret("accountPassword"),\n'
    assert password in index.read_text()
    index.write_text(index.read_text().replace(password, ""))
    (tarball,) = sdk_dir.glob("*.tgz")
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", str(tarball)],
        cwd=proj.dir,
        check=True,
        capture_output=True,
        timeout=600,
    )
    assert proj.up() == {"create": 2}
    assert "Undefined value" not in proj.output_text(), proj.output_text()
    outputs = proj.outputs()
    assert outputs["privilegesOk"] is None and outputs["missingPrivileges"] is None, outputs
    text = proj.preview_text()
    assert "[unknown]" not in text, text


def test_python_program_with_the_generated_sdk(
    maria: EmulatorProcess, sdk_dir: Path, tmp_path: Path, bin_dir: str
) -> None:
    proj = _project("native-python", tmp_path, bin_dir, maria)
    use_python_sdk(proj, sdk_dir, tmp_path)
    converge_then_drift(proj, maria, bump=lambda: proj.set_config("resetNonce", "2"))
