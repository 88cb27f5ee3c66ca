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
import re
import tomllib
import zipfile
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


def test_alibaba_sdks_are_read_from_the_wheels_requirements(tmp_path: Path) -> None:
    wheel = tmp_path / "pulumi_polardb_reset-9.9.9-py3-none-any.whl"
    metadata = (
        "Metadata-Version: 2.4\nName: pulumi-polardb-reset\nVersion: 9.9.9\n"
        "Requires-Dist: pulumi<4,>=3.260.0\n"
        "Requires-Dist: alibabacloud-polardb20170801<10,>=9.2.1\n"
        "Requires-Dist: alibabacloud-kms20160120>=3.3.1\n"
        'Requires-Dist: alibabacloud-sts20150401; extra == "emulator"\n'
    )
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("pulumi_polardb_reset-9.9.9.dist-info/METADATA", metadata)
    modules = build_plugin().alibaba_sdk_modules(wheel)
    assert modules == ["alibabacloud_kms20160120", "alibabacloud_polardb20170801"]


def test_every_client_loaded_by_name_is_a_declared_alibaba_sdk() -> None:
    # The cloud layer imports "<module>.client:Client" by name; the release binary bundles
    # the Alibaba SDKs the package requires (build_plugin.alibaba_sdk_modules), so each such
    # module must be one of them.
    declared = {
        re.split(r"[<>=!~\[ ;]", requirement)[0].lower().replace("-", "_")
        for requirement in tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
            "dependencies"
        ]
    }
    sources = "\n".join(
        path.read_text()
        for path in (REPO / "provider").rglob("*.py")
        if "__pycache__" not in str(path)
    )
    clients = set(re.findall(r'"(alibabacloud_\w+)\.client:Client"', sources))
    assert clients, "no client loaded by name found: update this test"
    assert clients <= declared, clients - declared
