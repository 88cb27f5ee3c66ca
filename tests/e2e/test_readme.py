"""The documentation's commands work when copied literally.

* docs/emulator.md's Python snippet against an emulator started from demo/seed.yaml, as the
  page starts it (each test puts a free port in place of the documentation's 18080);
* docs/getting-started.md's classic shell session (stack init, config set --secret, up,
  refresh, destroy) in a copy of the root project, with bash;
* each example's shell block in a copy of the example *outside this repository*: a fresh
  venv from its requirements.txt plus the package's built wheel, then plain ``pulumi``
  commands.

The emulator's request log is the witness of what the commands did.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_harness import EmulatorProcess, find_mariadbd, skip_or_fail
from pulumi_harness import pulumi_bin, venv_dir

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
DOC_PORT = "18080"  # the port the documentation uses


def free_port() -> str:
    """A port free now: each test runs the documented text with it in place of DOC_PORT, so
    parallel runs (another checkout, another pytest worker) never meet on 18080."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def block(text: str, marker: str, language: str = "bash") -> str:
    """The fenced code block that follows ``<!-- marker -->``."""
    match = re.search(rf"<!-- {re.escape(marker)} -->\s*```{language}\n(.*?)```", text, re.S)
    assert match, f"the documentation lost its {marker!r} block"
    return match.group(1)


def run_bash(script: str, cwd: Path, env: dict[str, str]) -> str:
    """Run ``script`` with bash -e (stop at the first failing command); return its output.

    Whatever the script started in the background is killed when it exits, and the output
    goes to a file, so a background process that keeps it open cannot hang the test.
    """
    log = cwd.parent / f"{cwd.name}.log"
    wrapped = "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + script
    with log.open("w") as out:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", wrapped],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=900,
        )
    output = log.read_text()
    assert done.returncode == 0, output
    return output


def shell_env(tmp_path: Path) -> dict[str, str]:
    """A user's environment: no cloud keys, no Pulumi settings; PULUMI_HOME in the temp dir.

    HOME stays: scripts/install-pulumi finds its cached build there.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "PULUMI_"))
    }
    env.update(
        PULUMI_HOME=str(tmp_path / "pulumi-home"), PULUMI_SKIP_UPDATE_CHECK="true", NO_COLOR="1"
    )
    return env


@pytest.fixture
def demo_emulator() -> Iterator[EmulatorProcess]:
    """The emulator as docs/emulator.md starts it (demo/seed.yaml), on a port of its own."""
    with EmulatorProcess(REPO / "demo" / "seed.yaml") as emu:
        yield emu


def test_emulator_page_snippet_resets_the_account(
    demo_emulator: EmulatorProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    code = block((DOCS / "emulator.md").read_text(), "docs-snippet: emulator-sdk", "python")
    assert code.count(DOC_PORT) == 1
    code = code.replace(DOC_PORT, demo_emulator.endpoint.rsplit(":", 1)[1])
    for _ in range(2):  # twice in a row, as a user re-running it would
        exec(compile(code, "docs/emulator.md", "exec"), {})  # noqa: S102 - our own docs
        assert capsys.readouterr().out.strip() == "dbadmin Available"
    calls = demo_emulator.requests(action="ResetAccount")
    assert [c["status"] for c in calls] == [200, 200]
    assert demo_emulator.verify_password("pc-demo0000000001", "dbadmin", "N3w!Passw0rd")


@pytest.mark.e2e
def test_getting_started_classic_flow_runs_as_written(tmp_path: Path) -> None:
    project = tmp_path / "repo"
    for name in ("Pulumi.yaml", "__main__.py", "constraints.txt", "demo", "scripts", "third_party"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, project / name)
        else:
            project.mkdir(exist_ok=True)
            shutil.copy(source, project / name)
    (project / ".venv").symlink_to(venv_dir(), target_is_directory=True)
    pulumi_bin()  # the CLI is built (or reused) before the session times anything

    script = block((DOCS / "getting-started.md").read_text(), "docs-shell: classic-flow")
    # The session starts the emulator with '&': record its request log before it stops it.
    script = script.replace(
        "kill $emulator",
        f"curl -s 'http://127.0.0.1:{DOC_PORT}/_emulator/requests?action=ResetAccount'"
        " > resets.json\nkill $emulator",
    )
    assert script.count(DOC_PORT) == 3  # serve --port, the endpoint config, the curl
    script = script.replace(DOC_PORT, free_port())
    assert script.count("curl") == 1
    output = run_bash(script, project, shell_env(tmp_path))
    resets = (project / "resets.json").read_text()
    assert resets.count('"ResetAccount"') == 2, resets
    assert '"reset_nonce":"2"' in output.replace(" ", "") or '"reset_nonce": "2"' in output
    assert not (project / "Pulumi.dev.yaml").exists()  # `pulumi stack rm` removed it


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("example", "resets"), [("basic", 2), ("rotate-password", 2), ("multi-cluster", 3)]
)
def test_example_shell_block_runs_outside_the_repository(
    tmp_path: Path, example: str, resets: int, package_wheel: Path
) -> None:
    copy = tmp_path / "my-stack"  # outside the repository, as a user copies it
    shutil.copytree(
        REPO / "examples" / example, copy, ignore=shutil.ignore_patterns("venv", "__pycache__")
    )
    script = block((copy / "README.md").read_text(), "example-shell")
    env = shell_env(tmp_path)
    env.update(
        PATH=os.pathsep.join([pulumi_bin(), env["PATH"]]),
        POLARDB_RESET_WHEEL=str(package_wheel),
        PULUMI_BACKEND_URL=f"file://{tmp_path / 'state'}",
        PULUMI_CONFIG_PASSPHRASE="examples-passphrase",
    )
    (tmp_path / "state").mkdir()
    seed = REPO / "examples" / "emulator-seed.yaml"
    with EmulatorProcess(seed) as emu:  # port 0: the port it binds replaces DOC_PORT
        script = script.replace(DOC_PORT, emu.endpoint.rsplit(":", 1)[1])
        output = run_bash(script, copy, env)
        calls = emu.requests(action="ResetAccount")
    assert [c["status"] for c in calls] == [200] * resets, output
    assert "error:" not in output


@pytest.mark.e2e
def test_make_demo_script_runs_and_its_witness_holds(tmp_path: Path) -> None:
    """scripts/demo.sh (what `make demo` runs) in a copy of the repository."""
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "constraints.txt", "demo", "scripts"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, copy / name)
        else:
            shutil.copy(source, copy / name)
    (copy / ".venv").symlink_to(venv_dir(), target_is_directory=True)
    env = shell_env(tmp_path)
    env.update(PULUMI_BIN=pulumi_bin(), PYTHON=str(venv_dir() / "bin" / "python"))
    output = run_bash("scripts/demo.sh", copy, env)
    assert "ResetAccount calls: 2 after the first up" in output
    assert "Traceback" not in output
    if find_mariadbd() is None:
        # The demo still runs its API part; its drift part needs MariaDB (CI has it).
        skip_or_fail("mariadbd not found: the demo's drift part was not run")
    assert "permission drift: missing RELOAD" in output
    assert "4 in all (expected 2 and 4)" in output


def _sources(work: Path) -> Path:
    """A copy of what the package is built from (the build writes nothing into the checkout)."""
    from package_harness import SOURCES

    src = work / "pulumi-polardb-reset"
    src.mkdir(parents=True)
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, src / name)
    return src


@pytest.mark.e2e
def test_readme_install_block_runs_as_written(tmp_path: Path) -> None:
    """README's Install block, in a project directory outside the repository (issue 24 #14):
    the wheel, then the wheel with [emulator] (not glued to a glob)."""
    script = block((REPO / "README.md").read_text(), "readme-shell: install")
    src = _sources(tmp_path)
    assert script.count("/path/to/pulumi-polardb-reset") == 1
    project = tmp_path / "my-project"
    project.mkdir()
    subprocess.run(["python3", "-m", "venv", "venv"], cwd=project, check=True, timeout=300)
    run_bash(
        script.replace("/path/to/pulumi-polardb-reset", str(src)), project, shell_env(tmp_path)
    )
    for command in ("polardb-reset", "polardb-emulator"):
        assert (project / "venv" / "bin" / command).is_file(), command


@pytest.mark.e2e
def test_own_project_block_runs_outside_the_repository(tmp_path: Path) -> None:
    """docs/getting-started.md's "A project of your own": wheel, virtualenv, Pulumi.yaml, the
    program and a seed written as shown, in an empty directory, then two resets."""
    script = block((DOCS / "getting-started.md").read_text(), "docs-shell: own-project")
    src = _sources(tmp_path / "checkout")
    assert script.count("/path/to/pulumi-polardb-reset") == 1
    assert script.count(DOC_PORT) == 3  # serve --port, the readiness probe, the endpoint
    script = script.replace("/path/to/pulumi-polardb-reset", str(src))
    script = script.replace(DOC_PORT, free_port())
    env = shell_env(tmp_path)
    env["PATH"] = os.pathsep.join([pulumi_bin(), env["PATH"]])
    work = tmp_path / "work"
    work.mkdir()
    output = run_bash(script, work, env)
    assert output.strip().splitlines()[-1].strip() == "2", output  # reset_count
    assert "error:" not in output and "Traceback" not in output, output
