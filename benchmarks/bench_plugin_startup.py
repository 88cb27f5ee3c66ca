"""Benchmark: start-up of the ``polardb-account`` plugin, per way of shipping it.

Every ``pulumi up``, preview and refresh starts the plugin, and the engine waits until it
prints its port: that wait is what this measures, from ``exec`` to the port line on stdout,
for

- ``venv``: the console script pip installs (a launcher running the project's Python),
- ``onedir``: the PyInstaller one-folder bundle with its modules as ``.pyc`` files (what the
  release tarballs carry: scripts/build_plugin.py),
- ``onedir-archive``: the same with PyInstaller's default compressed module archive,
- ``onefile``: the PyInstaller one-file bundle (it unpacks itself to a temporary directory
  at every start).

Also: PyInstaller's build time and the size of each bundle and tarball. The first start of
each bundle (cold page cache after the build) is reported apart from the median of the rest.

    make dist && .venv/bin/python benchmarks/bench_plugin_startup.py [--runs 15] [--wheel W]

The bundles are built from the package's wheel (default: the one ``make dist`` wrote).

Writes benchmarks/results/plugin_startup.json and plugin_startup.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_startup import plugin_start  # noqa: E402 - after the path it lives on

RESULTS = REPO / "benchmarks" / "results"
EXECUTABLE = "pulumi-resource-polardb-account"


VARIANTS = {"onedir": [], "onedir-archive": ["--archive"], "onefile": ["--onefile", "--archive"]}


def build(wheel: Path, variant: str, out: Path) -> tuple[Path, float, int, int]:
    """Build the bundle; (executable, build seconds, unpacked bytes, tarball bytes)."""
    script = REPO / "scripts" / "build_plugin.py"
    args = [sys.executable, str(script), str(wheel), "--out", str(out)]
    t0 = time.perf_counter()
    tarball = Path(
        subprocess.run(
            [*args, *VARIANTS[variant]],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    seconds = time.perf_counter() - t0
    unpacked = out / variant
    with tarfile.open(tarball) as tar:
        tar.extractall(unpacked, filter="data")
    size = sum(f.stat().st_size for f in unpacked.rglob("*") if f.is_file())
    return unpacked / EXECUTABLE, seconds, size, tarball.stat().st_size


def measure(plugin: Path, runs: int) -> dict[str, Any]:
    """The first start apart, then the median, min and max of ``runs`` more."""
    first = plugin_start(plugin)
    times = [plugin_start(plugin) for _ in range(runs)]
    return {
        "first_s": round(first, 3),
        "median_s": round(statistics.median(times), 3),
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
        "runs": runs,
    }


def main() -> int:
    """Build both bundles, time every variant, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--wheel", type=Path, help="default: dist/pulumi_polardb_reset-*.whl")
    args = parser.parse_args()
    wheel = args.wheel or next(
        iter(sorted((REPO / "dist").glob("pulumi_polardb_reset-*.whl"))), None
    )
    if wheel is None:
        raise SystemExit("no wheel: run make dist first, or pass --wheel")
    venv_script = shutil.which(EXECUTABLE, path=str(Path(sys.executable).parent))
    if venv_script is None:
        raise SystemExit(f"{EXECUTABLE} is not installed beside {sys.executable}")
    load_before = os.getloadavg()[0]
    rows: dict[str, dict[str, Any]] = {"venv": measure(Path(venv_script), args.runs)}
    with tempfile.TemporaryDirectory(prefix="bench-plugin-") as tmp:
        for variant in VARIANTS:
            exe, seconds, size, tar_size = build(wheel, variant, Path(tmp))
            rows[variant] = {
                **measure(exe, args.runs),
                "build_s": round(seconds, 1),
                "unpacked_mib": round(size / 2**20, 1),
                "tarball_mib": round(tar_size / 2**20, 1),
            }
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "python": sys.version.split()[0],
        "variants": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "plugin_startup.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"Run of {report['date']} on {report['cpus']} CPUs (load average "
        f"{report['load_before']} before, {report['load_after']} after), Python "
        f"{report['python']}. Start-up: spawn to the port line on stdout; first start apart, "
        f"then {args.runs} more.",
        "",
        "| variant | first start (s) | median (s) | min (s) | max (s) | build (s) | unpacked (MiB) | tarball (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['first_s']} | {row['median_s']} | {row['min_s']} | {row['max_s']} "
            f"| {row.get('build_s', '-')} | {row.get('unpacked_mib', '-')} "
            f"| {row.get('tarball_mib', '-')} |"
        )
    (RESULTS / "plugin_startup.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
