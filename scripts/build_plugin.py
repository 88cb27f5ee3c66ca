"""Build the release tarball of the ``polardb-account`` plugin for this machine.

PyInstaller bundles ``plugin/__main__.py`` with the installed package and a Python
interpreter into ``pulumi-resource-polardb-account`` (one-folder mode: the executable and its
``_internal/`` directory), which runs without any Python of the user's. The tarball has the
name Pulumi downloads from a ``pluginDownloadURL`` (``pulumi-resource-<name>-v<version>-<os>-
<arch>.tar.gz``, sdk/go/common/workspace/plugins.go) and the executable at its root, where
``pulumi plugin install resource polardb-account <version> --file <tarball>`` expects it.

Usage: python scripts/build_plugin.py WHEEL [--out DIR] [--onefile]   (prints the tarball's path)

The bundle is built from the package's wheel (``make dist`` builds it first), installed with
PyInstaller into a fresh virtualenv at constraints.txt's versions: what is released is what
the wheel holds, never a source tree or an editable install (whose import hook PyInstaller
cannot follow). ``--onefile`` builds the single-file variant that
``benchmarks/bench_plugin_startup.py`` compares (not released).
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY = ROOT / "plugin" / "__main__.py"
PACKAGE = "polardb-account"
EXECUTABLE = f"pulumi-resource-{PACKAGE}"
DISTRIBUTION = "pulumi-polardb-reset"
CONSTRAINTS = ROOT / "constraints.txt"
# Distributions whose metadata the code reads at run time (importlib.metadata.version): the
# plugin reports its version from its own, the Pulumi SDK checks its own.
METADATA = (DISTRIBUTION, "pulumi")

_OS = {"linux": "linux", "darwin": "darwin", "win32": "windows"}
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def target() -> tuple[str, str]:
    """Pulumi's names (Go's GOOS, GOARCH) of this machine's operating system and architecture."""
    os_name = _OS.get(sys.platform)
    arch = _ARCH.get(platform.machine().lower())
    if os_name is None or arch is None:
        raise SystemExit(f"build_plugin: no Pulumi name for {sys.platform}/{platform.machine()}")
    return os_name, arch


def tarball_name(version: str, os_name: str, arch: str) -> str:
    """The asset name Pulumi fetches from a ``pluginDownloadURL``."""
    return f"{EXECUTABLE}-v{version}-{os_name}-{arch}.tar.gz"


def wheel_version(wheel: Path) -> str:
    """The version in a wheel's file name (``<name>-<version>-<tags>.whl``, PEP 427)."""
    name, version, *_ = wheel.name.split("-")
    if name != DISTRIBUTION.replace("-", "_") or not wheel.name.endswith(".whl"):
        raise SystemExit(f"build_plugin: {wheel} is not a wheel of {DISTRIBUTION}")
    return version


def alibaba_sdk_modules(wheel: Path) -> list[str]:
    """The import names of the Alibaba Cloud SDKs the wheel requires (``Requires-Dist``).

    The cloud layer loads each service's client by name (``importlib``), which PyInstaller's
    import scan cannot see: every SDK the package depends on is collected whole.
    """
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(name).decode())
    modules = []
    for requirement in metadata.get_all("Requires-Dist") or []:
        if ";" in requirement and "extra ==" in requirement:
            continue
        project = requirement.split(";")[0].strip().split()[0]
        for sep in "<>=!~[(":
            project = project.split(sep)[0]
        if project.lower().startswith("alibabacloud-"):
            modules.append(project.lower().replace("-", "_"))
    return sorted(modules)


def build_env(work: Path, wheel: Path) -> Path:
    """A fresh virtualenv with the wheel and PyInstaller (constraints.txt's versions); its Python."""
    venv.EnvBuilder(with_pip=True).create(work / "venv")
    python = work / "venv" / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*install, "-c", str(CONSTRAINTS), str(wheel), "pyinstaller"], check=True)
    return python


def bundle(python: Path, work: Path, onefile: bool, archive: bool, sdks: list[str]) -> Path:
    """Run PyInstaller; the directory (one-folder) or file (one-file) it wrote."""
    mode = "--onefile" if onefile else "--onedir"
    command = [
        str(python),
        "-m",
        "PyInstaller",
        str(ENTRY),
        mode,
        "--name",
        EXECUTABLE,
        "--noconfirm",
        "--clean",
        "--log-level",
        "WARN",
        "--distpath",
        str(work / "dist"),
        "--workpath",
        str(work / "build"),
        "--specpath",
        str(work),
        # Modules the package imports lazily (inside functions) are not seen by PyInstaller's
        # import scan: take the whole package.
        "--collect-submodules",
        "pulumi_polardb_reset",
        # The plugin imports Pulumi's protocol stubs by name when frozen (pulumi_polardb_reset._proto).
        "--collect-submodules",
        "pulumi.runtime.proto",
    ]
    for module in sdks:
        command += ["--collect-submodules", module]
    if not archive:
        # Modules as .pyc files in _internal/, imported by Python's own path finder, instead
        # of a compressed archive read by PyInstaller's importer (see the start-up benchmark).
        command += ["--debug", "noarchive"]
    if sys.platform == "linux":
        # Debug symbols are most of libpython's size; the release binary needs none.
        command.append("--strip")
    for distribution in METADATA:
        command += ["--copy-metadata", distribution]
    subprocess.run(command, check=True, cwd=work)
    suffix = ".exe" if sys.platform == "win32" else ""
    return work / "dist" / (EXECUTABLE + suffix if onefile else EXECUTABLE)


def write_tarball(built: Path, path: Path) -> None:
    """The executable (and, one-folder, its ``_internal/``) at the tarball's root."""
    with tarfile.open(path, "w:gz") as tar:
        entries = sorted(built.iterdir()) if built.is_dir() else [built]
        for entry in entries:
            tar.add(entry, arcname=entry.name)


def main(argv: list[str] | None = None) -> int:
    """Build the tarball; print its path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="the package's wheel (make dist builds it)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="default: dist/")
    parser.add_argument("--onefile", action="store_true", help="one-file variant (benchmark)")
    parser.add_argument("--archive", action="store_true", help="modules in PyInstaller's archive")
    args = parser.parse_args(argv)
    version = wheel_version(args.wheel)
    os_name, arch = target()
    args.out.mkdir(parents=True, exist_ok=True)
    name = tarball_name(version, os_name, arch)
    for flag in ("onefile", "archive"):
        if getattr(args, flag):
            name = name.replace(".tar.gz", f"-{flag}.tar.gz")
    with tempfile.TemporaryDirectory(prefix="build-plugin-") as tmp:
        python = build_env(Path(tmp), args.wheel.resolve())
        sdks = alibaba_sdk_modules(args.wheel)
        built = bundle(python, Path(tmp), args.onefile, args.archive, sdks)
        path = args.out.resolve() / name
        write_tarball(built, path)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
