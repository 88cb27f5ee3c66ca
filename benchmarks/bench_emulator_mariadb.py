"""Benchmark: start-up time of the emulator's mariadb backend with N MySQL clusters.

For each N, starts ``polardb-emulator serve --backend mariadb`` with N clusters (one Super
and one Normal account each) and measures the wall time until the first line (every server
ready, accounts created), then the time SIGTERM takes to stop everything. Each figure is the
median of ``--repeat`` runs; every run is a fresh process, so it includes initialising the
template datadir once (``mariadb-install-db``).

    .venv/bin/python benchmarks/bench_emulator_mariadb.py 1 4 16 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from typing import Any

from polardb_emulator.testing import EmulatorProcess


def seed(n: int) -> dict[str, Any]:
    """A seed with ``n`` MySQL clusters."""
    return {
        "access_keys": [{"id": "LTAI5tBenchKey00001", "secret": "bench-secret"}],
        "clusters": [
            {
                "id": f"pc-bench{i:08d}",
                "region": "cn-hangzhou",
                "db_type": "MySQL",
                "accounts": [
                    {"name": "dbadmin", "type": "Super", "password": "Bench!Passw0rd"},
                    {"name": "app_rw", "type": "Normal", "password": "Bench!Passw0rd2"},
                ],
            }
            for i in range(n)
        ],
    }


def _logged_seconds(pattern: str, text: str) -> float | None:
    match = re.search(pattern, text)
    return float(match.group(1)) if match else None


def run_once(n: int) -> dict[str, float | None]:
    """Start and stop one emulator with ``n`` clusters; return the timings in seconds."""
    started = time.perf_counter()
    emu = EmulatorProcess(seed(n), backend="mariadb", start_timeout=600)
    ready = time.perf_counter() - started
    try:
        assert len(emu.state()["clusters"]) == n
    finally:
        stopping = time.perf_counter()
        emu.stop()
        stopped = time.perf_counter() - stopping
    log = emu.stderr_text()
    return {
        "ready_s": ready,
        "template_s": _logged_seconds(r"template datadir ready in ([\d.]+)s", log),
        "servers_s": _logged_seconds(r"MariaDB server\(s\) started in ([\d.]+)s", log),
        "stop_s": stopped,
    }


def main() -> None:
    """Measure every N given on the command line and print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clusters", nargs="+", type=int, help="numbers of MySQL clusters")
    parser.add_argument("--repeat", type=int, default=3, help="runs per N (median reported)")
    args = parser.parse_args()
    for n in args.clusters:
        runs = [run_once(n) for _ in range(args.repeat)]
        figures: dict[str, Any] = {"clusters": n, "runs": args.repeat}
        for key in runs[0]:
            values = [v for r in runs if (v := r[key]) is not None]
            figures[key] = round(statistics.median(values), 2) if values else None
        print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
