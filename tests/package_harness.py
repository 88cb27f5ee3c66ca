"""The package as users get it: its sdist and wheel, built from a copy of the sources."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: What the sdist needs: pyproject.toml, its readme and license file, the two packages.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "provider", "emulator")


def run(command: list[str]) -> None:
    """Run ``command``; fail with its output when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"


def build_distributions(work: Path) -> tuple[Path, Path]:
    """Build the sdist, then the wheel from it (``python -m build``); return both.

    The sources are copied to ``work`` first, so that the build writes nothing into the
    checkout and parallel builds never meet. Both files pass ``twine check --strict``.
    """
    src = work / "src"
    src.mkdir(parents=True)
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, src / name)
    dist = work / "dist"
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(src)])
    run([sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(dist.glob("*")))])
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    return sdist, wheel
