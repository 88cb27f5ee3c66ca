"""Benchmark: start-up of the native plugin and the imports of each engine's entry module.

Two figures, each the median of ``--repeat`` fresh processes (nothing cached between them
but the OS's page cache):

* plugin: from spawning ``pulumi-resource-polardb-account`` (the installed console script)
  to the port it announces on its first stdout line, which is when the engine may talk
  to it; the process is then terminated;
* imports: a fresh interpreter importing one module (the core, the plugin's server, the
  command's module, the package root), with the number of modules it loaded and whether
  ``pulumi`` / ``pulumi.dynamic`` came with it.

    .venv/bin/python benchmarks/bench_startup.py --label after

Appends the run under its label to benchmarks/results/startup.json and rewrites
benchmarks/results/startup.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
PLUGIN = Path(sys.executable).with_name("pulumi-resource-polardb-account")
MODULES = (
    "pulumi_polardb_reset.core._props",
    "pulumi_polardb_reset.native._server",
    "pulumi_polardb_reset.cli._app",
    "pulumi_polardb_reset",
)
_PROBE = """
import sys, time
t = time.perf_counter()
import {module}
elapsed = time.perf_counter() - t
print(elapsed, len([m for m in sys.modules if m.startswith("pulumi_polardb_reset")]),
      len(sys.modules), "pulumi" in sys.modules, "pulumi.dynamic" in sys.modules)
"""


def plugin_start(plugin: Path = PLUGIN) -> float:
    """Seconds from spawning the plugin (default: the console script) to its announced port."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(plugin)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.terminate()
    proc.wait()
    if not line.strip().isdigit():
        raise RuntimeError(f"the plugin announced {line!r}, not a port")
    return elapsed


def import_probe(module: str) -> dict[str, Any]:
    """One fresh interpreter importing ``module``."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return {
        "seconds": float(out[0]),
        "package_modules": int(out[1]),
        "modules": int(out[2]),
        "pulumi": out[3] == "True",
        "pulumi_dynamic": out[4] == "True",
    }


def run(repeat: int) -> dict[str, Any]:
    """Every figure, medians of ``repeat`` processes."""
    plugin = [plugin_start() for _ in range(repeat)]
    imports: dict[str, Any] = {}
    for module in MODULES:
        probes = [import_probe(module) for _ in range(repeat)]
        imports[module] = {
            **probes[-1],
            "seconds": statistics.median(p["seconds"] for p in probes),
        }
    return {
        "repeat": repeat,
        "load_average": os.getloadavg()[0],
        "plugin_start_seconds": statistics.median(plugin),
        "plugin_start_min_seconds": min(plugin),
        "imports": imports,
    }


def report(runs: dict[str, Any]) -> str:
    """The Markdown table of every labelled run."""
    lines = [
        "# Start-up of the native plugin and the engines' imports",
        "",
        "`.venv/bin/python benchmarks/bench_startup.py --label LABEL` (medians of fresh "
        "processes; 2 shared cores, load average at the run's start).",
        "",
        "| run | load | plugin to port (median / min) | module | import | package modules "
        "| all modules | pulumi | pulumi.dynamic |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r in runs.items():
        for module, i in r["imports"].items():
            lines.append(
                f"| {label} | {r['load_average']:.2f} | {r['plugin_start_seconds']:.3f} s / "
                f"{r['plugin_start_min_seconds']:.3f} s | `{module}` | {i['seconds']:.3f} s | "
                f"{i['package_modules']} | {i['modules']} | {i['pulumi']} | {i['pulumi_dynamic']} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    path = RESULTS / "startup.json"
    runs = json.loads(path.read_text()) if path.exists() else {}
    runs[args.label] = run(args.repeat)
    path.write_text(json.dumps(runs, indent=2) + "\n")
    (RESULTS / "startup.md").write_text(report(runs))
    print(report({args.label: runs[args.label]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
