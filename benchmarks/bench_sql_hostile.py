"""Benchmark: the SQL check's peak memory against a hostile MySQL-protocol server.

Runs one privilege check in a fresh Python process against ``tests/fake_mysql.py``'s server
answering (a) as MariaDB 10.11 does for an account holding every documented privilege, (b)
every query with 300,000 rows of 1 KiB in one column (the issue's case), (c) the login
normally, then the grants query with 300,000 rows of 1 KiB in the right three columns.
Reports each run's verdict, the server's bytes sent and the child's peak resident memory
(``ru_maxrss``), and writes ``benchmarks/results/sql_hostile.json`` and ``.md``.

    .venv/bin/python benchmarks/bench_sql_hostile.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_mysql import (  # noqa: E402
    CHILD,
    HOSTILE_ROWS,
    FakeMySQL,
    Script,
    flood,
    grants_flood,
    normal,
    run_child,
)

RESULTS = ROOT / "benchmarks" / "results"


def measure(name: str, script: Script) -> dict[str, Any]:
    """One check in a child process against ``script``: verdict, cause, bytes sent, peak RSS."""
    with FakeMySQL(script) as server:
        figures = run_child(server.port)
    return {"scenario": name, "bytes_sent": server.bytes_sent, **figures}


def main() -> None:
    """Measure the three scenarios and write the results."""
    runs = [
        measure("normal check (MariaDB 10.11 answers)", normal),
        measure(f"every query: {HOSTILE_ROWS} rows x 1 KiB, 1 column", flood(1, HOSTILE_ROWS)),
        measure(f"grants query: {HOSTILE_ROWS} rows x 1 KiB, 3 columns", grants_flood()),
    ]
    baseline = runs[0]["max_rss_kib"]
    for run in runs:
        run["rss_over_normal_mib"] = round((run["max_rss_kib"] - baseline) / 1024, 1)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sql_hostile.json").write_text(
        json.dumps({"when": when, "load_average": load, "child": CHILD, "runs": runs}, indent=2)
        + "\n"
    )
    lines = [
        f"SQL check against a hostile server, run of {when} (load average {load:.2f}): "
        "peak resident memory of a fresh Python process running one check "
        "(`benchmarks/bench_sql_hostile.py`). The bound: a hostile answer within 50 MB "
        "of a normal check.",
        "",
        "| server answers | verdict | server bytes sent | peak RSS (MiB) | over normal (MiB) |",
        "|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run['scenario']} | {run['status']} | {run['bytes_sent']:,} | "
            f"{run['max_rss_kib'] / 1024:.1f} | {run['rss_over_normal_mib']} |"
        )
    lines += ["", "Causes reported:", ""]
    lines += [f"- {run['scenario']}: {run['cause']}" for run in runs if run["cause"]]
    (RESULTS / "sql_hostile.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
