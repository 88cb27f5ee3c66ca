"""What the package declares: version ranges proven by CI's pins, every import declared, one version.

The runtime requirements are ranges (``>=`` the oldest version tested, ``<`` the next
major version). CI installs the exact versions of constraints.txt, which satisfy every range;
``scripts/matrix lowest`` installs every lower bound instead and runs the unit and contract
tests, and ``scripts/matrix sdk newest`` the end-to-end tests with the newest Pulumi SDK
served. The suite with constraints.txt runs on the oldest Pulumi SDK allowed.
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
#: Imported directly but not declared, and why: the Pulumi SDK's own gRPC stack, whose
#: versions must match the SDK's generated protocol modules, so pulumi's requirement rules.
UNDECLARED = {
    "grpc": "pulumi requires grpcio: reaching the engine, serving the native plugin",
    "google": "pulumi requires protobuf: the messages of the SDK's generated modules",
}


def pins() -> dict[str, Version]:
    """constraints.txt as {canonical name: version}."""
    found: dict[str, Version] = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            found[canonicalize_name(name)] = Version(version)
    return found


def requirements(extra: str | None = None) -> list[Requirement]:
    lines = PROJECT["dependencies"] if extra is None else PROJECT["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize("extra", [None, "emulator"])
def test_requirements_are_ranges(extra: str | None) -> None:
    for req in requirements(extra):
        ops = sorted(spec.operator for spec in req.specifier)
        assert ops == ["<", ">="], f"{req}: declare a range, >= oldest tested, < next major"


def test_the_suite_runs_on_the_oldest_pulumi_sdk_allowed() -> None:
    (pulumi,) = [r for r in requirements() if r.name == "pulumi"]
    (lower,) = [Version(s.version) for s in pulumi.specifier if s.operator == ">="]
    assert pins()["pulumi"] == lower


def test_every_pin_satisfies_the_declared_ranges() -> None:
    pinned = pins()
    for extra in (None, "emulator", "dev"):
        for req in requirements(extra):
            if req.name == PROJECT["name"]:
                continue
            name = canonicalize_name(req.name)
            assert name in pinned, f"{req.name} has no pin in constraints.txt"
            assert req.specifier.contains(pinned[name], prereleases=True), (req, pinned[name])


def imported_top_level(package: Path) -> set[str]:
    names: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"__future__"}


@pytest.mark.parametrize(
    ("package", "extra"),
    [("provider/pulumi_polardb_reset", None), ("emulator/polardb_emulator", "emulator")],
)
def test_every_import_is_declared(package: str, extra: str | None) -> None:
    declared = {canonicalize_name(r.name) for r in requirements()}
    if extra:
        declared |= {canonicalize_name(r.name) for r in requirements(extra)}
    distributions = importlib.metadata.packages_distributions()
    own = {"pulumi_polardb_reset", "polardb_emulator"}
    for module in sorted(imported_top_level(REPO / package) - own - set(UNDECLARED)):
        provided_by = {canonicalize_name(d) for d in distributions.get(module, [])}
        assert provided_by & declared, f"{package} imports {module} ({provided_by}): declare it"


def test_the_version_has_one_source() -> None:
    """pyproject.toml's version is the installed metadata's, and the changelog lists it."""
    import pulumi_polardb_reset

    version = PROJECT["version"]
    assert importlib.metadata.version("pulumi-polardb-reset") == version
    assert pulumi_polardb_reset.__version__ == version
    assert f"\n## [{version}] - " in (REPO / "CHANGELOG.md").read_text()
    sources = [
        p
        for p in (REPO / "provider").rglob("*.py")
        if f'"{version}"' in p.read_text() or f"'{version}'" in p.read_text()
    ]
    assert sources == [], f"the version is written in {sources}: read it from metadata"
