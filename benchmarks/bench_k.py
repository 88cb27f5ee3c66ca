"""Benchmark: the default number of provider processes K (``polardbReset:providerProcesses``).

With resources placed by cluster ID (the first shard on the default provider), for K = 1, 2
and 4, interleaved and repeated (``--repeat``, the median is reported):

* ``fleet``: 100 targets on 100 clusters, 2 s tasks: first `pulumi up`, then a no-op `up`;
* ``herd``: 16 targets on 4 clusters, 2 s tasks: first `pulumi up`, with its busy answers
  (resets of one cluster that met another's task) and API calls.

Writes ``benchmarks/results/k_default.json`` and ``k_default.md`` (with the load average
before and after: the machine is shared, so read ratios, not seconds).

    PULUMI_BIN=$(scripts/install-pulumi | tail -n1) .venv/bin/python benchmarks/bench_k.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_up import Scenario, pulumi_bin, run_scenario

RESULTS = Path(__file__).resolve().parent / "results"
KS = (1, 2, 4)


def measure(k: int, bin_dir: str) -> dict[str, Any]:
    """One round of both scenarios with K = ``k``."""
    fleet = run_scenario(Scenario(100, 2.0, k), bin_dir, ("first_up", "noop_up"))
    herd = run_scenario(Scenario(16, 2.0, k, clusters=4), bin_dir, ("first_up",))
    return {
        "k": k,
        "fleet_first_up_s": fleet.steps["first_up"].seconds,
        "fleet_noop_up_s": fleet.steps["noop_up"].seconds,
        "fleet_noop_calls": fleet.steps["noop_up"].api_calls,
        "herd_first_up_s": herd.steps["first_up"].seconds,
        "herd_busy": herd.steps["first_up"].busy,
        "herd_calls": herd.steps["first_up"].api_calls,
    }


def main() -> None:
    """Run the rounds, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    bin_dir = pulumi_bin()
    load_before = os.getloadavg()[0]
    rounds: list[dict[str, Any]] = []
    for i in range(args.repeat):
        for k in KS if i % 2 == 0 else tuple(reversed(KS)):
            rounds.append(measure(k, bin_dir))
            print(json.dumps(rounds[-1]), flush=True)
    load_after = os.getloadavg()[0]
    keys = [key for key in rounds[0] if key != "k"]
    medians = {
        k: {key: statistics.median(r[key] for r in rounds if r["k"] == k) for key in keys}
        for k in KS
    }
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS.mkdir(exist_ok=True)
    summary = {
        "when": when,
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "rounds": rounds,
        "medians": {str(k): v for k, v in medians.items()},
    }
    (RESULTS / "k_default.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        f"K (provider processes), run of {when} on {os.cpu_count()} CPUs, load average "
        f"{load_before:.2f} before and {load_after:.2f} after (a shared machine: compare "
        f"ratios). Median of {args.repeat} interleaved rounds; resources placed by cluster "
        "ID, the first shard on the default provider (`benchmarks/bench_k.py`).",
        "",
        "| K | 100 targets first up (s) | vs K=1 | no-op up (s) | vs K=1 | no-op API calls "
        "| 16 targets on 4 clusters (s) | vs K=1 | busy answers | API calls |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    base = medians[1]
    for k in KS:
        m = medians[k]
        lines.append(
            f"| {k} | {m['fleet_first_up_s']:.2f} | "
            f"{m['fleet_first_up_s'] / base['fleet_first_up_s']:.2f}x | "
            f"{m['fleet_noop_up_s']:.2f} | {m['fleet_noop_up_s'] / base['fleet_noop_up_s']:.2f}x | "
            f"{m['fleet_noop_calls']:g} | {m['herd_first_up_s']:.2f} | "
            f"{m['herd_first_up_s'] / base['herd_first_up_s']:.2f}x | {m['herd_busy']:g} | "
            f"{m['herd_calls']:g} |"
        )
    (RESULTS / "k_default.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
