"""The release files' names and the source plugin's pins, against what Pulumi reads.

Pulumi fetches ``pulumi-<kind>-<name>-v<version>-<os>-<arch>.tar.gz`` from a
``pluginDownloadURL`` (sdk/go/common/workspace/plugins.go, ``standardAssetName``, with Go's
GOOS/GOARCH names); its Python language host installs a source plugin's requirements.txt
and takes any installed ``pulumi-*`` distribution without a ``pulumi-plugin.json`` for a
provider SDK whose plugin it must fetch.
"""

from __future__ import annotations

import importlib.util
import json
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def build_plugin() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_plugin", REPO / "scripts/build_plugin.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def project_version() -> str:
    version: str = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    return version


def test_tarball_name_is_pulumis_asset_name() -> None:
    # fmt.Sprintf("pulumi-%s-%s-v%s-%s-%s.tar.gz", kind, name, version, opSy, arch)
    name = build_plugin().tarball_name("0.2.0", "darwin", "arm64")
    assert name == "pulumi-resource-polardb-account-v0.2.0-darwin-arm64.tar.gz"


@pytest.mark.parametrize(
    ("platform", "machine", "expected"),
    [
        ("linux", "x86_64", ("linux", "amd64")),
        ("linux", "aarch64", ("linux", "arm64")),
        ("darwin", "arm64", ("darwin", "arm64")),
        ("darwin", "x86_64", ("darwin", "amd64")),
        ("win32", "AMD64", ("windows", "amd64")),
        ("win32", "ARM64", ("windows", "arm64")),
    ],
)
def test_target_uses_gos_names(
    monkeypatch: pytest.MonkeyPatch, platform: str, machine: str, expected: tuple[str, str]
) -> None:
    module = build_plugin()
    monkeypatch.setattr(module.sys, "platform", platform)
    monkeypatch.setattr(module.platform, "machine", lambda: machine)
    assert module.target() == expected


def test_an_unknown_machine_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    module = build_plugin()
    monkeypatch.setattr(module.platform, "machine", lambda: "riscv64")
    with pytest.raises(SystemExit, match="no Pulumi name for"):
        module.target()


def test_wheel_version_reads_the_file_name() -> None:
    module = build_plugin()
    assert module.wheel_version(Path("pulumi_polardb_reset-1.2.3-py3-none-any.whl")) == "1.2.3"
    with pytest.raises(SystemExit, match="is not a wheel of"):
        module.wheel_version(Path("other-1.0-py3-none-any.whl"))


def test_source_plugin_pins_this_version_and_runs_on_python() -> None:
    plugin = REPO / "plugin"
    manifest = yaml.safe_load((plugin / "PulumiPlugin.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    assert manifest["runtime"]["options"] == {"toolchain": "pip", "virtualenv": "venv"}
    lines = [
        line.strip()
        for line in (plugin / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines == ["--find-links .", f"pulumi-polardb-reset=={project_version()}"]
    assert "from pulumi_polardb_reset.native import main" in (plugin / "__main__.py").read_text()


def test_the_package_tells_pulumi_it_has_no_plugin_of_its_own() -> None:
    path = REPO / "provider" / "pulumi_polardb_reset" / "pulumi-plugin.json"
    assert json.loads(path.read_text()) == {"resource": False}
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    assert "pulumi-plugin.json" in package_data["pulumi_polardb_reset"]
