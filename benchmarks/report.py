"""The fleet benchmark report, in one command: CSV, PNG plots and a Markdown summary.

    PULUMI_BIN=$(scripts/install-pulumi | tail -n1) .venv/bin/python benchmarks/report.py

Runs `pulumi up` from a shell against the emulator (``bench_up.run_scenario``) for N = 1, 8,
32, 100 targets on as many clusters, task time 0 and 2 s, K = 1 and the default number of
provider processes; each scenario times `pulumi preview`, the first `pulumi up`, a no-op
`pulumi up`, and a nonce bump of one target (preview and up), and counts the API calls of
each. Then: `pulumi up` of an empty program (the baseline of the no-op ratio), 16 targets
on 4 clusters (resets of one cluster queue or back off), a 30 s task (polls of a long
task), and 100 targets with the CLI's default ``--parallel``, with the host's own 4 worker
threads per process (``POLARDB_RESET_HOST_WORKERS=4``) and with K = 4.

Absolute times depend on the machine (and on whatever else runs on it), so the summary gives
ratios: N targets vs 1 target, a no-op up vs an empty stack's up. Timings of N = 1 and of the
empty stack, the denominators, are medians of 3 runs; the rest run once (about 12 minutes on
2 cores). Writes ``benchmarks/results/``: ``fleet.csv`` (one row per scenario),
``summary.json``, ``summary.md``, ``wall_time.png``, ``per_target.png``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# `python benchmarks/report.py` puts benchmarks/ first on the path; the sibling module is
# imported by its package path, as mypy sees it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_up import (
    ALL_STEPS,
    Scenario,
    empty_stack,
    pulumi_bin,
    run_scenario,
)
from pulumi_polardb_reset.dynamic._sharding import DEFAULT_PROVIDER_PROCESSES

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = (1, 8, 32, 100)
TASKS = (0.0, 2.0)
KS: tuple[int | None, ...] = (1, None)  # None: the default


@dataclass(frozen=True)
class Run:
    """One scenario of the report: its group, which steps, how many repetitions."""

    group: str
    scenario: Scenario
    steps: Sequence[str] = ALL_STEPS
    repeat: int = 1


def plan(sizes: Sequence[int], extras: bool) -> list[Run]:
    """Every scenario of the report, in the order they run."""
    runs = [
        Run("scaling", Scenario(n, task, k), repeat=3 if n == 1 else 1)
        for task in TASKS
        for n in sizes
        for k in KS
    ]
    if extras:
        runs += [
            Run("one-cluster-herd", Scenario(16, 2.0, k, clusters=4), ("first_up",)) for k in KS
        ]
        runs.append(Run("long-task", Scenario(1, 30.0, None), ("first_up",)))
        runs.append(Run("cli-default-parallel", Scenario(100, 2.0, None, parallel=None), ("first_up",)))  # fmt: skip
        runs.append(Run("host-4-workers", Scenario(100, 2.0, None, host_workers=4), ("first_up",)))  # fmt: skip
        runs.append(Run("k4", Scenario(100, 2.0, 4), ("first_up", "noop_up")))
    return runs


def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each numeric field over repetitions (other fields from the first)."""
    merged = dict(rows[0])
    for key, value in rows[0].items():
        values = [r[key] for r in rows if isinstance(r.get(key), int | float)]
        if isinstance(value, int | float) and not isinstance(value, bool) and values:
            merged[key] = round(statistics.median(values), 3)
    merged["repeats"] = len(rows)
    return merged


def measure(runs: list[Run], bin_dir: str) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Run every scenario; return the CSV rows and the empty-stack baseline."""
    baseline = empty_stack(bin_dir, repeat=3)
    print(json.dumps(baseline), flush=True)
    rows = []
    for run in runs:
        started = time.perf_counter()
        repeats = [run_scenario(run.scenario, bin_dir, run.steps).row() for _ in range(run.repeat)]
        row = {"group": run.group, **median_row(repeats)}
        row["scenario_wall_s"] = round(time.perf_counter() - started, 1)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows, baseline


def find(rows: list[dict[str, Any]], group: str, **match: Any) -> dict[str, Any] | None:
    """The row of ``group`` whose fields equal ``match``."""
    for row in rows:
        if row["group"] == group and all(row.get(k) == v for k, v in match.items()):
            return row
    return None


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b`` to two decimals, None when either is missing."""
    return round(a / b, 2) if a is not None and b else None


def field(row: dict[str, Any] | None, key: str) -> float | None:
    """``row[key]``, None without a row."""
    return None if row is None else float(row[key])


def summarise(
    rows: list[dict[str, Any]], baseline: dict[str, float], meta: dict[str, Any]
) -> dict[str, Any]:
    """Ratios and target checks from the rows."""
    default = "default"
    scaling = []
    for task in TASKS:
        for k in (1, default):
            one = find(rows, "scaling", targets=1, task_seconds=task, k=k)
            for n in sorted({r["targets"] for r in rows if r["group"] == "scaling"}):
                row = find(rows, "scaling", targets=n, task_seconds=task, k=k)
                if row is None or one is None:
                    continue
                scaling.append(
                    {
                        "task_seconds": task,
                        "k": k,
                        "targets": n,
                        "first_up_s": row["first_up_seconds"],
                        "first_up_vs_1": ratio(row["first_up_seconds"], one["first_up_seconds"]),
                        "per_target_s": round(row["first_up_seconds"] / n, 3),
                        "noop_up_s": row["noop_up_seconds"],
                        "noop_vs_empty": ratio(row["noop_up_seconds"], baseline["empty_noop_up_s"]),
                        "noop_calls": row["noop_up_api_calls"],
                        "preview_calls": row["preview_create_api_calls"]
                        + row["preview_bump_api_calls"],
                        "calls_per_reset": round(row["first_up_api_calls"] / n, 2),
                        "bump_up_vs_1": ratio(row["bump_up_seconds"], one["bump_up_seconds"]),
                        "bump_calls": row["bump_up_api_calls"],
                        "settle_latency_s": row["first_up_settle_latency_s"],
                        "polls_per_reset": row["first_up_polls_per_reset"],
                    }
                )
    big = find(rows, "scaling", targets=100, task_seconds=2.0, k=default)
    one = find(rows, "scaling", targets=1, task_seconds=2.0, k=default)
    noop = find(rows, "scaling", targets=100, task_seconds=0.0, k=default)
    instant = [r for r in rows if r["group"] == "scaling" and r["task_seconds"] == 0.0]
    targets = {
        "first_up_100_vs_1_task_2s": ratio(
            field(big, "first_up_seconds"), field(one, "first_up_seconds")
        ),
        "noop_up_100_vs_empty": ratio(field(noop, "noop_up_seconds"), baseline["empty_noop_up_s"]),
        "noop_up_100_calls": field(noop, "noop_up_api_calls"),
        "max_calls_per_reset_task_0": max(
            (r["first_up_api_calls"] / r["targets"] for r in instant), default=None
        ),
    }
    extras = {
        row["group"] + ("" if row["group"] != "one-cluster-herd" else f"-k{row['k']}"): {
            "first_up_s": row["first_up_seconds"],
            "api_calls": row["first_up_api_calls"],
            "busy_answers": row["first_up_busy"],
            "polls_per_reset": row["first_up_polls_per_reset"],
            "settle_latency_s": row["first_up_settle_latency_s"],
            "first_up_vs_1": ratio(row["first_up_seconds"], field(one, "first_up_seconds"))
            if row["targets"] == 100
            else None,
        }
        for row in rows
        if row["group"] != "scaling"
    }
    return {"meta": meta, "baseline": baseline, "targets": targets, "scaling": scaling, "extras": extras}  # fmt: skip


def markdown(summary: dict[str, Any]) -> str:
    """The summary as Markdown tables (pasted into the README)."""
    lines = [
        f"Run of {summary['meta']['date']} on {summary['meta']['cpus']} CPUs "
        f"(load average {summary['meta']['load_before']} before, {summary['meta']['load_after']} after), "
        f"K default = {summary['meta']['default_k']}, `--parallel {summary['meta']['parallel']}` "
        f"(total {summary['meta']['total_wall_s']} s); "
        f"empty stack `pulumi up` {summary['baseline']['empty_noop_up_s']} s.",
        "",
        "| task | K | N | first up vs N=1 | per target (s) | no-op vs empty | no-op calls | preview calls | calls/reset | bump vs N=1 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summary["scaling"]:
        lines.append(
            f"| {r['task_seconds']:g} s | {r['k']} | {r['targets']} | {r['first_up_vs_1']}x | "
            f"{r['per_target_s']} | {r['noop_vs_empty']}x | {r['noop_calls']} | "
            f"{r['preview_calls']} | {r['calls_per_reset']} | {r['bump_up_vs_1']}x |"
        )
    lines += [
        "",
        "| scenario | first up (s) | vs N=1 | API calls | busy answers | polls/reset | settle latency (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, e in summary["extras"].items():
        versus = "" if e["first_up_vs_1"] is None else f"{e['first_up_vs_1']}x"
        lines.append(
            f"| {name} | {e['first_up_s']} | {versus} | {e['api_calls']} | {e['busy_answers']} | "
            f"{e['polls_per_reset']} | {e['settle_latency_s']} |"
        )
    t = summary["targets"]
    lines += [
        "",
        f"- 100 targets on 100 clusters, task 2 s, first up: {t['first_up_100_vs_1_task_2s']}x one target (target <= 2x)",
        f"- no-op up of 100 targets: {t['noop_up_100_calls']} API calls, {t['noop_up_100_vs_empty']}x an empty stack (target <= 1.3x)",
        f"- API calls per reset, task 0: at most {t['max_calls_per_reset_task_0']} (target <= 4)",
    ]
    return "\n".join(lines) + "\n"


def plot(summary: dict[str, Any], out: Path) -> None:
    """wall_time.png (first and no-op up vs N) and per_target.png (first up / N vs N)."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    series: dict[tuple[float, Any], list[dict[str, Any]]] = {}
    for r in summary["scaling"]:
        series.setdefault((r["task_seconds"], r["k"]), []).append(r)

    def label(key: tuple[float, Any]) -> str:
        task, k = key
        return f"task {task:g} s, K={k}" + (
            f" ({summary['meta']['default_k']})" if k == "default" else ""
        )

    fig, (first, noop) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, rows in series.items():
        n = [r["targets"] for r in rows]
        style = "-" if key[1] == "default" else "--"
        first.plot(n, [r["first_up_s"] for r in rows], style, marker="o", label=label(key))
        noop.plot(n, [r["noop_up_s"] for r in rows], style, marker="o", label=label(key))
    noop.axhline(summary["baseline"]["empty_noop_up_s"], color="grey", lw=1, label="empty stack")
    sizes = sorted({r["targets"] for r in summary["scaling"]})
    for ax, title in ((first, "first `pulumi up`"), (noop, "no-op `pulumi up`")):
        ax.set_xscale("log")
        ax.set_xticks(sizes, [str(n) for n in sizes])
        ax.minorticks_off()
        ax.set_xlabel("targets N (one cluster each)")
        ax.set_ylabel("wall time (s)")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "wall_time.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for key, rows in series.items():
        style = "-" if key[1] == "default" else "--"
        ax.plot([r["targets"] for r in rows], [r["per_target_s"] for r in rows], style, marker="o", label=label(key))  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.minorticks_off()
    ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.set_xlabel("targets N (one cluster each)")
    ax.set_ylabel("first `pulumi up` wall time / N (s)")
    ax.set_title("per-target cost")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "per_target.png", dpi=110)
    plt.close(fig)


def pulumi_version(bin_dir: str) -> str:
    """``pulumi version``."""
    done = subprocess.run(
        [str(Path(bin_dir) / "pulumi"), "version"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the report and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--no-extras", action="store_true", help="only the scaling matrix")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    bin_dir = pulumi_bin()
    started = time.perf_counter()
    meta: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "pulumi": pulumi_version(bin_dir),
        "default_k": DEFAULT_PROVIDER_PROCESSES,
        "parallel": Scenario(1, 0).parallel,
        "load_before": round(os.getloadavg()[0], 2),
    }
    rows, baseline = measure(plan(args.sizes, not args.no_extras), bin_dir)
    meta["load_after"] = round(os.getloadavg()[0], 2)
    meta["total_wall_s"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    with (args.out / "fleet.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    summary = summarise(rows, baseline, meta)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (args.out / "summary.md").write_text(markdown(summary))
    plot(summary, args.out)
    print(markdown(summary))
    print(f"wrote {args.out} in {meta['total_wall_s']} s")


if __name__ == "__main__":
    main()
