"""End to end: a Pulumi YAML program on the native provider plugin, with the real CLI.

The YAML language host (``pulumi-language-yaml``, built by scripts/install-pulumi) runs
``examples/native-yaml``; the plugin is installed with ``pulumi plugin install --file``.
Also here: ``pulumi import`` (read only), ``customTimeouts`` as the deadline, and two
explicit provider instances in one program.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess
from native_harness import (
    ACCOUNT,
    AMBIENT_WARNING,
    CLUSTER,
    CLUSTER_2,
    MANAGED_PASSWORD,
    SEED,
    TOKEN,
    configure,
    converge_then_drift,
    install_plugin,
    plugin_path,
    state_outputs,
)
from pulumi_harness import REPO, PulumiProject, pulumi_bin

pytestmark = pytest.mark.e2e
MARIADB_SEED = SEED  # the maria fixtures' (tests/conftest.py)
MakeProject = Callable[..., PulumiProject]
EXAMPLE = REPO / "examples" / "native-yaml"


@pytest.fixture(scope="session")
def bin_dir() -> str:
    return pulumi_bin()


@pytest.fixture
def project(tmp_path: Path, bin_dir: str, maria: EmulatorProcess) -> MakeProject:
    """Factory: examples/native-yaml (or another Pulumi.yaml text) with the plugin installed."""

    def make(program: str | None = None) -> PulumiProject:
        proj = PulumiProject(EXAMPLE, tmp_path, bin_dir=bin_dir)
        if program is not None:
            (proj.dir / "Pulumi.yaml").write_text(program)
        install_plugin(proj)
        configure(proj, maria, clusterId=CLUSTER, accountName=ACCOUNT)
        return proj

    return make


def test_yaml_program_converges_and_refresh_sees_a_revoke(
    maria: EmulatorProcess, project: MakeProject
) -> None:
    proj = project()
    proj.set_secret("accountPassword", MANAGED_PASSWORD)
    converge_then_drift(proj, maria, bump=lambda: proj.set_config("resetNonce", "2"))
    # The drift found by refresh is repaired by the next up: one reset.
    assert proj.up() == {"same": 1, "update": 1}
    assert len(maria.resets()) == 1
    (outs,) = state_outputs(proj).values()
    assert outs["privilegesOk"] is True


ADOPT = f"""name: native-yaml
runtime: yaml
resources:
  admin:
    type: {TOKEN}
    properties:
      dbClusterId: {CLUSTER}
      accountName: {ACCOUNT}
"""


def test_import_adopts_with_reads_only_and_a_later_nonce_resets(
    maria: EmulatorProcess, project: MakeProject
) -> None:
    proj = project(ADOPT)
    proj.run("import", TOKEN, "admin", f"{CLUSTER}:{ACCOUNT}", "--yes", "--protect=false")
    assert maria.writes() == []  # adopted by reading only
    assert [r["action"] for r in maria.requests()].count("DescribeAccounts") >= 1
    (outs,) = state_outputs(proj).values()
    assert outs["dbClusterId"] == CLUSTER and outs["accountStatus"] == "Available"

    # The program that declares it: nothing to do.
    maria.clear_requests()
    assert proj.up() == {"same": 2}
    assert maria.writes() == []

    # A nonce set later is a reset, exactly one.
    (proj.dir / "Pulumi.yaml").write_text(ADOPT + '      resetNonce: "1"\n')
    assert proj.up() == {"same": 1, "update": 1}
    assert len(maria.resets()) == 1
    assert AMBIENT_WARNING not in proj.output_text()


def test_custom_timeouts_are_the_deadline_of_create(
    maria: EmulatorProcess, project: MakeProject
) -> None:
    program = ADOPT + (
        '      resetNonce: "1"\n    options:\n      customTimeouts:\n        create: 3s\n'
    )
    proj = project(program)
    with maria.tasks_held():  # the reset never settles: only the deadline ends the wait
        output = proj.fail("up")
    assert "timed out after customTimeouts.create=3" in output, output
    assert "Raise the resource option customTimeouts.create" in output, output
    assert "Traceback" not in output, output
    assert len(maria.resets()) == 1


def test_the_native_page_yaml_program_runs_as_written(
    maria: EmulatorProcess, project: MakeProject
) -> None:
    """docs/native-provider.md's YAML program, its cluster ID the emulator's (issue 24 #14):
    it declares the accountPassword it uses, and an output without a value is null."""
    page = (REPO / "docs" / "native-provider.md").read_text()
    marker = "<!-- docs-snippet: native-yaml -->\n```yaml\n"
    assert marker in page, "the page lost its YAML program"
    program = page.split(marker, 1)[1].split("```", 1)[0]
    assert program.count("pc-bp1example") == 1
    proj = project(program.replace("pc-bp1example", CLUSTER))
    proj.set_secret("accountPassword", MANAGED_PASSWORD)
    assert proj.up() == {"create": 2}
    assert len(maria.resets()) == 1
    assert proj.outputs()["privilegesOk"] is True
    assert "Undefined value" not in proj.output_text()


def test_a_yaml_infinity_is_a_check_failure_naming_the_property(
    maria: EmulatorProcess, project: MakeProject
) -> None:
    """YAML's ``.inf`` reaches the plugin as a non-finite number (issue 24 #1): a check
    failure naming timeoutSeconds, not an internal error; nothing is called."""
    proj = project(ADOPT + "      timeoutSeconds: .inf\n")
    output = proj.fail("preview")
    assert "timeoutSeconds must be a whole number of seconds (got inf)" in output, output
    assert "unexpected" not in output and "bug" not in output, output
    assert maria.requests() == []


def test_outputs_without_a_value_are_known_in_a_preview_of_an_unchanged_stack(
    maria: EmulatorProcess, project: MakeProject
) -> None:
    """No password: the check does not run, its outputs have no value. They are null in
    state, so a preview of the unchanged stack shows no output change (issue 24 #14)."""
    outputs = "outputs:\n  privilegesOk: ${admin.privilegesOk}\n"
    outputs += "  missingPrivileges: ${admin.missingPrivileges}\n"
    proj = project(ADOPT + '      resetNonce: "1"\n' + outputs)
    assert proj.up() == {"create": 2}
    assert proj.outputs() == {"privilegesOk": None, "missingPrivileges": None}
    text = proj.preview_text()
    assert "[unknown]" not in text and "privilegesOk" not in text, text


TWO_REGIONS = f"""name: native-yaml
runtime: yaml
config:
  apiEndpoint:
    type: string
  keyId:
    type: string
  keySecret:
    type: string
    secret: true
resources:
  hangzhou:
    type: pulumi:providers:polardb-account
    properties:
      region: cn-hangzhou
      endpoint: ${{apiEndpoint}}
      accessKey: ${{keyId}}
      secretKey: ${{keySecret}}
  shanghai:
    type: pulumi:providers:polardb-account
    properties:
      region: cn-shanghai
      endpoint: ${{apiEndpoint}}
      accessKey: ${{keyId}}
      secretKey: ${{keySecret}}
  first:
    type: {TOKEN}
    properties:
      dbClusterId: {CLUSTER}
      accountName: {ACCOUNT}
    options:
      provider: ${{hangzhou}}
  second:
    type: {TOKEN}
    properties:
      dbClusterId: {CLUSTER_2}
      accountName: {ACCOUNT}
    options:
      provider: ${{shanghai}}
"""


def test_two_explicit_providers_in_one_program(
    maria: EmulatorProcess, project: MakeProject
) -> None:
    proj = project(TWO_REGIONS)
    # Explicit providers take nothing from the stack's polardb-account:* config.
    proj.write_config({"apiEndpoint": maria.base_url, "keyId": ACCESS_KEY_ID})
    proj.set_secret("keySecret", ACCESS_KEY_SECRET)
    assert proj.up() == {"create": 5}
    outs = state_outputs(proj)
    assert outs["first"]["effectiveRegion"] == "cn-hangzhou"
    assert outs["second"]["effectiveRegion"] == "cn-shanghai"
    assert len(maria.resets()) == 2
    # The provider's secret input is encrypted in state.
    providers = [
        r for r in proj.export()["resources"] if r["type"] == "pulumi:providers:polardb-account"
    ]
    assert len(providers) == 2
    for provider in providers:
        assert "ciphertext" in str(provider["inputs"]["secretKey"])
    assert ACCESS_KEY_SECRET not in proj.output_text()


def _plugin_processes(marker: str) -> list[int]:
    """PIDs of live processes whose command line holds ``marker`` (the project's plugin path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(int(entry.name))
    return found


def test_ctrl_c_cancels_the_wait_in_flight_and_the_next_up_converges(
    maria: EmulatorProcess, project: MakeProject
) -> None:
    # No customTimeouts and the default timeoutSeconds (900 s): only Cancel ends the wait.
    proj = project(ADOPT + '      resetNonce: "1"\n')
    marker = str(proj.root / "home" / "plugins")
    maria.hold_tasks()
    try:
        up = subprocess.Popen(
            ["pulumi", "up", "--yes", "--skip-preview", "--non-interactive"],
            cwd=proj.dir,
            env=proj.environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            # ResetAccount was accepted: the plugin now waits for the account to settle.
            maria.wait_for(lambda: len(maria.resets()) == 1, timeout=300, what="ResetAccount")
            assert _plugin_processes(marker), "the plugin is not running"
            up.send_signal(signal.SIGINT)
            output, _ = up.communicate(timeout=120)  # a hang fails here
        finally:
            if up.poll() is None:
                up.kill()
                up.wait()
    finally:
        maria.release_tasks()
    assert up.returncode != 0, output
    assert "cancel" in output.lower(), output
    assert "Traceback" not in output, output
    # The engine stopped the plugin with the CLI.
    maria.wait_for(lambda: not _plugin_processes(marker), timeout=30, what="no plugin process")

    assert proj.up()["create"] >= 1
    (outs,) = state_outputs(proj).values()
    assert outs["accountStatus"] == "Available"
    maria.clear_requests()
    assert proj.up() == {"same": 2}
    assert maria.writes() == []


def test_get_schema_prints_the_schema(tmp_path: Path, bin_dir: str) -> None:
    done = subprocess.run(
        ["pulumi", "package", "get-schema", str(plugin_path())],
        env={
            **os.environ,
            "PATH": os.pathsep.join([bin_dir, os.environ["PATH"]]),
            "PULUMI_HOME": str(tmp_path),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    schema = json.loads(done.stdout)
    assert schema["name"] == "polardb-account"
    assert TOKEN in schema["resources"]


def test_plugin_on_path_works_with_the_ambient_warning(
    maria: EmulatorProcess, tmp_path: Path, bin_dir: str
) -> None:
    # Installed with the package (pip): found on PATH, which Pulumi warns about.
    proj = PulumiProject(
        EXAMPLE, tmp_path, bin_dir=os.pathsep.join([bin_dir, str(plugin_path().parent)])
    )
    configure(proj, maria, clusterId=CLUSTER, accountName=ACCOUNT)
    proj.set_secret("accountPassword", MANAGED_PASSWORD)
    assert proj.up() == {"create": 2}
    assert len(maria.resets()) == 1
    assert AMBIENT_WARNING in proj.output_text()
