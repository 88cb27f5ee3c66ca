"""End to end: every release file ``make dist`` writes, installed as a user installs it.

``scripts/dist`` (what ``make dist`` runs) builds once for the module. Each test makes a fresh
project in a temporary directory outside the repository, installs one route the way
docs/native-provider.md says, and runs ``pulumi up`` against the MariaDB-backed emulator:
first preview and up (one reset), then a no-op up with no API call. Nothing of ours is on
``PATH`` (neither ``pulumi-resource-polardb-account`` nor the test virtualenv), so the plugin
Pulumi runs is the one installed, and no run prints ``using ... from $PATH``.

Routes: the release tarball (``pulumi plugin install resource polardb-account <version>
--file <tarball>``) under a YAML program, a TypeScript program on the npm ``.tgz``, a
Python program on the Python SDK wheel (a fresh virtualenv) and a Go program on the Go
module; the source plugin directory (``pulumi package add <dir>``: Pulumi's Python language
host installs its requirements, the package's wheel beside it, into a virtualenv of its own)
under TypeScript and Go projects.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from emulator_harness import EmulatorProcess, require_tool
from native_harness import (
    ACCOUNT,
    AMBIENT_WARNING,
    CLUSTER,
    MANAGED_PASSWORD,
    PACKAGE,
    PLUGIN,
    SEED,
    configure,
    state_outputs,
)
from pulumi_harness import REPO, PulumiProject, pulumi_bin

# make dist builds for minutes on a loaded machine: the fixture runs under the test's timeout.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(3600)]
MARIADB_SEED = SEED  # the maria fixtures' (tests/conftest.py)
OURS = (PLUGIN, "polardb-reset", "polardb-emulator")
BUILD_TIMEOUT = 3600


@pytest.fixture(scope="module")
def bin_dir() -> str:
    return pulumi_bin()


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory, bin_dir: str) -> Path:
    """Every release file, built by scripts/dist (``make dist``) into a temporary directory.

    ``DIST_DIR`` names a directory that ``make dist DIST=...`` already wrote from this
    checkout instead (CI's release job, a developer re-running the tests).
    """
    if os.environ.get("DIST_DIR"):
        return Path(os.environ["DIST_DIR"]).resolve()
    require_tool("npm", "the npm package of make dist")
    out = tmp_path_factory.mktemp("release") / "dist"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env.update(PULUMI_BIN=bin_dir, PYTHON=sys.executable)
    done = subprocess.run(
        [str(REPO / "scripts" / "dist"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"scripts/dist failed:\n{done.stdout}\n{done.stderr}"
    return out


def version() -> str:
    from pulumi_polardb_reset.native._server import plugin_version

    return plugin_version()


def user_path() -> str:
    """The user's PATH less every directory holding one of our commands."""
    keep = [
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and not any((Path(d) / name).exists() for name in OURS)
    ]
    return os.pathsep.join(keep)


def new_project(tmp_path: Path, bin_dir: str, files: dict[str, str]) -> PulumiProject:
    """A fresh project of ``files`` (Pulumi.yaml first) outside the repository."""
    source = tmp_path / "source"
    source.mkdir()
    for name, text in files.items():
        (source / name).write_text(text)
    proj = PulumiProject(source, tmp_path / "run", bin_dir=bin_dir)
    proj.env["PATH"] = user_path()
    return proj


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a user's command (npm, go, pip) in the project; its output; fail with it."""
    done = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def install_tarball(proj: PulumiProject, dist: Path) -> None:
    """``pulumi plugin install resource polardb-account <version> --file <tarball>``."""
    (tarball,) = dist.glob(f"{PLUGIN}-v{version()}-*-*.tar.gz")
    proj.run("plugin", "install", "resource", PACKAGE, version(), "--file", str(tarball))
    installed = proj.run("plugin", "ls").stdout
    assert PACKAGE in installed and version() in installed, installed


def first_up_then_noop(proj: PulumiProject, emu: EmulatorProcess) -> None:
    """Preview (0 calls), up (one reset, privileges checked), no-op up (0 calls); no warning."""
    configure(proj, emu, clusterId=CLUSTER, accountName=ACCOUNT)
    proj.set_secret("accountPassword", MANAGED_PASSWORD)
    assert proj.preview() == {"create": 2}
    assert emu.requests() == []
    assert proj.up() == {"create": 2}
    assert len(emu.resets()) == 1
    (outs,) = state_outputs(proj).values()
    assert outs["privilegesOk"] is True and outs["resetCount"] == 1, outs
    emu.clear_requests()
    assert proj.up() == {"same": 2}
    assert emu.requests() == []
    assert AMBIENT_WARNING not in proj.output_text()


def user_env(proj: PulumiProject) -> dict[str, str]:
    """The environment a user's npm/go/pip commands run in (the project's, PATH without ours)."""
    return proj.environ()


# -- the release tarball ---------------------------------------------------------------------

YAML_PROGRAM = (REPO / "examples" / "native-yaml" / "Pulumi.yaml").read_text()
TS_FILES = {
    name: (REPO / "examples" / "native-typescript" / name).read_text()
    for name in ("Pulumi.yaml", "index.ts", "package.json", "tsconfig.json")
}


def test_the_plugin_tarball_is_what_pulumi_downloads(dist: Path) -> None:
    """The name Pulumi asks a pluginDownloadURL for, the executable at its root."""
    (tarball,) = dist.glob(f"{PLUGIN}-v*.tar.gz")
    assert tarball.name.startswith(f"{PLUGIN}-v{version()}-")
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert PLUGIN in names or f"{PLUGIN}.exe" in names, names[:20]


def test_yaml_program_on_the_release_tarball(
    maria: EmulatorProcess, dist: Path, tmp_path: Path, bin_dir: str
) -> None:
    proj = new_project(tmp_path, bin_dir, {"Pulumi.yaml": YAML_PROGRAM})
    install_tarball(proj, dist)
    first_up_then_noop(proj, maria)


def test_typescript_program_on_the_tarball_and_the_npm_package(
    maria: EmulatorProcess, dist: Path, tmp_path: Path, bin_dir: str
) -> None:
    proj = new_project(tmp_path, bin_dir, TS_FILES)
    (package,) = dist.glob("*.tgz")
    run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", str(package)],
        proj.dir,
        user_env(proj),
    )
    install_tarball(proj, dist)
    first_up_then_noop(proj, maria)


def test_python_program_on_the_tarball_and_the_python_sdk(
    maria: EmulatorProcess, dist: Path, tmp_path: Path, bin_dir: str
) -> None:
    proj = new_project(
        tmp_path,
        bin_dir,
        {
            "Pulumi.yaml": (REPO / "examples" / "native-python" / "Pulumi.yaml").read_text(),
            "__main__.py": (REPO / "examples" / "native-python" / "__main__.py").read_text(),
        },
    )
    # A virtualenv of the project's own with the SDK wheel (and, from it, the Pulumi SDK):
    # not the test virtualenv, which holds this package.
    (proj.dir / "venv").unlink()
    run([sys.executable, "-m", "venv", str(proj.dir / "venv")], proj.dir)
    (sdk,) = dist.glob("pulumi_polardb_account-*.whl")
    pip = [str(proj.dir / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    run([*pip, "-c", str(REPO / "constraints.txt"), str(sdk)], proj.dir)
    install_tarball(proj, dist)
    first_up_then_noop(proj, maria)


# -- Go --------------------------------------------------------------------------------------

GO_MAIN = """package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	polardbaccount "IMPORT_PATH"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		admin, err := polardbaccount.NewPrivilegedAccountReset(ctx, "admin", &polardbaccount.PrivilegedAccountResetArgs{
			DbClusterId:     pulumi.String(cfg.Require("clusterId")),
			AccountName:     pulumi.String(cfg.Require("accountName")),
			AccountPassword: cfg.RequireSecret("accountPassword"),
			ResetNonce:      pulumi.String("1"),
		})
		if err != nil {
			return err
		}
		ctx.Export("resetCount", admin.ResetCount)
		return nil
	})
}
"""


def go_project(tmp_path: Path, bin_dir: str) -> PulumiProject:
    """A Go project: Pulumi.yaml and go.mod requiring the Pulumi Go SDK this repo tests."""
    require_tool("go", "the Go programs")
    proj = new_project(tmp_path, bin_dir, {"Pulumi.yaml": "name: dist-go\nruntime: go\n"})
    env = user_env(proj)
    run(["go", "mod", "init", "dist-go"], proj.dir, env)
    sdk_version = next(
        line.split("==")[1]
        for line in (REPO / "constraints.txt").read_text().splitlines()
        if line.startswith("pulumi==")
    )
    run(["go", "get", f"github.com/pulumi/pulumi/sdk/v3@v{sdk_version}"], proj.dir, env)
    return proj


def go_import_path(module_dir: Path) -> tuple[str, str]:
    """(module path, import path of the package) of a generated Go SDK module."""
    module = next(
        line.split()[1]
        for line in (module_dir / "go.mod").read_text().splitlines()
        if line.startswith("module ")
    )
    (resource,) = module_dir.rglob("privilegedAccountReset.go")
    package = resource.parent.relative_to(module_dir).as_posix()
    return module, f"{module}/{package}"


def write_go_main(proj: PulumiProject, import_path: str) -> None:
    (proj.dir / "main.go").write_text(GO_MAIN.replace("IMPORT_PATH", import_path))
    run(["go", "mod", "tidy"], proj.dir, user_env(proj))


def test_go_program_on_the_tarball_and_the_go_module(
    maria: EmulatorProcess, dist: Path, tmp_path: Path, bin_dir: str
) -> None:
    if not (dist / "sdk" / "go").is_dir():
        pytest.fail("make dist wrote no Go module: pulumi-language-go missing beside pulumi")
    proj = go_project(tmp_path, bin_dir)
    module, import_path = go_import_path(dist / "sdk" / "go")
    # What `go get <module>@v<version>` gives once the tag is out: here, the release's copy.
    run(["go", "mod", "edit", f"-replace={module}={dist / 'sdk' / 'go'}"], proj.dir)
    write_go_main(proj, import_path)
    install_tarball(proj, dist)
    first_up_then_noop(proj, maria)


# -- the source plugin (pulumi package add) ---------------------------------------------------


@pytest.fixture
def source_plugin(dist: Path, tmp_path: Path) -> Path:
    """A copy of make dist's plugin/ (as a user downloads it), its requirements resolvable."""
    plugin = tmp_path / "polardb-account-plugin"
    shutil.copytree(dist / "plugin", plugin)
    return plugin


def package_add(proj: PulumiProject, plugin: Path) -> str:
    """``pulumi package add <plugin dir>``; its output."""
    out = proj.run("package", "add", str(plugin)).stdout
    assert (plugin / "venv").is_dir(), "the Python host made no virtualenv for the plugin"
    return out


def test_typescript_project_adds_the_source_plugin(
    maria: EmulatorProcess, source_plugin: Path, tmp_path: Path, bin_dir: str
) -> None:
    proj = new_project(tmp_path, bin_dir, TS_FILES)
    package_add(proj, source_plugin)
    assert str(source_plugin) in (proj.dir / "Pulumi.yaml").read_text()
    run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], proj.dir, user_env(proj))
    first_up_then_noop(proj, maria)


def test_go_project_adds_the_source_plugin(
    maria: EmulatorProcess, source_plugin: Path, tmp_path: Path, bin_dir: str
) -> None:
    proj = go_project(tmp_path, bin_dir)
    package_add(proj, source_plugin)
    (module_dir,) = (p.parent for p in (proj.dir / "sdks").rglob("go.mod"))
    _, import_path = go_import_path(module_dir)
    write_go_main(proj, import_path)
    first_up_then_noop(proj, maria)
