"""Benchmark: `pulumi up` of the root stack with N targets against the emulator, from a shell.

Each scenario gets a fresh emulator (``polardb_emulator.testing``) with its own clusters and
task time, and a copy of the root project with its own file backend; every step is the
`pulumi` CLI in a subprocess, as users run it. The emulator's request log counts the API
calls of each step.

Steps of a scenario: ``pulumi preview`` before anything exists, the first ``pulumi up``
(N resets), a no-op ``pulumi up``, ``pulumi preview`` of a nonce bump of one target, and
``pulumi up`` of that bump (one reset). :func:`empty_stack` times ``pulumi up`` of a
program that declares nothing: what every ``pulumi up`` costs on this machine.

    PULUMI_BIN=$(scripts/install-pulumi | tail -n1) .venv/bin/python benchmarks/bench_up.py \\
        --targets 1 8 32 --task-seconds 2 --k 1 8

``benchmarks/report.py`` runs the whole matrix and writes the CSV and the plots.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from polardb_emulator.testing import EmulatorProcess

REPO = Path(__file__).resolve().parent.parent
KEY_ID, KEY_SECRET = "LTAI5tBenchKey00001", "bench-secret-not-real"
#: --parallel of every `pulumi up`: the CLI's default (4 x CPU cores, so 8 on 2 cores)
#: would cap every scenario at 8 resource operations at once, whatever K is.
PARALLEL = 256


@dataclass(frozen=True)
class Scenario:
    """One benchmark scenario: N targets on C clusters, a task time, K provider processes."""

    targets: int
    task_seconds: float
    k: int | None = None  # None: the package's default
    clusters: int | None = None  # None: one cluster per target
    parallel: int | None = PARALLEL  # None: the CLI's default
    host_workers: int | None = None  # POLARDB_RESET_HOST_WORKERS (None: the package's default)

    @property
    def cluster_count(self) -> int:
        """How many clusters the targets share."""
        return self.clusters or self.targets


@dataclass
class StepFigures:
    """What one CLI step cost."""

    seconds: float
    api_calls: int
    resets: int = 0
    busy: int = 0  # ConcurrentTaskExceeded answers
    polls_per_reset: float | None = None  # DescribeAccounts after each ResetAccount
    settle_latency_s: float | None = None  # worst: last poll minus the task's end


@dataclass
class ScenarioFigures:
    """Every step of one scenario."""

    scenario: Scenario
    steps: dict[str, StepFigures] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """One flat CSV row."""
        s = self.scenario
        row: dict[str, Any] = {
            "targets": s.targets,
            "clusters": s.cluster_count,
            "task_seconds": s.task_seconds,
            "k": "default" if s.k is None else s.k,
            "parallel": "cli-default" if s.parallel is None else s.parallel,
            "host_workers": "default" if s.host_workers is None else s.host_workers,
        }
        for name, step in self.steps.items():
            for key, value in asdict(step).items():
                row[f"{name}_{key}"] = value
        return row


def pulumi_bin() -> str:
    """Directory of the pulumi CLI: $PULUMI_BIN, else what scripts/install-pulumi prints."""
    if os.environ.get("PULUMI_BIN"):
        return os.environ["PULUMI_BIN"]
    out = subprocess.run(
        [str(REPO / "scripts" / "install-pulumi")], capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def cluster_id(i: int) -> str:
    """The ID of the emulator's ``i``-th benchmark cluster."""
    return f"pc-bench{i:08d}"


def seed(clusters: int, task_seconds: float) -> dict[str, Any]:
    """A seed with ``clusters`` MySQL clusters, each with a Super account, one task at a time."""
    return {
        "access_keys": [{"id": KEY_ID, "secret": KEY_SECRET}],
        "settings": {"task_seconds": task_seconds, "concurrent_tasks_per_cluster": 1},
        "clusters": [
            {
                "id": cluster_id(i),
                "region": "cn-hangzhou",
                "db_type": "MySQL",
                "status": "Running",
                "accounts": [{"name": "dbadmin", "type": "Super", "password": "Bench!Passw0rd"}],
            }
            for i in range(clusters)
        ],
    }


def targets(n: int, clusters: int, bumped: int | None = None) -> list[dict[str, Any]]:
    """``n`` targets over ``clusters`` clusters (round robin); ``bumped`` gets nonce 2."""
    return [
        {
            "name": f"t{i}",
            "dbClusterId": cluster_id(i % clusters),
            "accountName": "dbadmin",
            "resetNonce": 2 if i == bumped else 1,
        }
        for i in range(n)
    ]


class Project:
    """A copy of the root project (or an empty program) with its own backend, in a shell."""

    def __init__(
        self, root: Path, bin_dir: str, *, empty: bool = False, host_workers: int | None = None
    ) -> None:
        self.dir = root / "project"
        self.dir.mkdir()
        shutil.copy(REPO / "Pulumi.yaml", self.dir / "Pulumi.yaml")
        main = "" if empty else (REPO / "__main__.py").read_text()
        (self.dir / "__main__.py").write_text(main or '"""Declares nothing."""\n')
        (self.dir / ".venv").symlink_to(sys.prefix, target_is_directory=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")},
            "PATH": os.pathsep.join([bin_dir, os.environ["PATH"]]),
            "PULUMI_BACKEND_URL": f"file://{root}",
            "PULUMI_HOME": str(root / "home"),
            "PULUMI_CONFIG_PASSPHRASE": "bench",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
        if host_workers is not None:
            self.env["POLARDB_RESET_HOST_WORKERS"] = str(host_workers)
        self.config_file = self.dir / "Pulumi.bench.yaml"
        self.pulumi("stack", "init", "bench")

    def pulumi(self, *args: str, stdin: str | None = None) -> float:
        """Run ``pulumi ARGS``; return its wall time in seconds (raise with its output)."""
        start = time.perf_counter()
        done = subprocess.run(
            ["pulumi", *args], cwd=self.dir, env=self.env, input=stdin, text=True,
            capture_output=True, check=False,
        )  # fmt: skip
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return seconds

    def configure(self, config: dict[str, Any]) -> None:
        """Merge ``config`` into the stack's config file, as a user edits it."""
        document = yaml.safe_load(self.config_file.read_text()) if self.config_file.exists() else {}
        document = document or {}
        document["config"] = {**(document.get("config") or {}), **config}
        self.config_file.write_text(yaml.safe_dump(document))

    def up(self, parallel: int | None) -> float:
        """``pulumi up --yes --skip-preview`` (with ``--parallel``); its wall time."""
        flags = [] if parallel is None else ["--parallel", str(parallel)]
        return self.pulumi("up", "--yes", "--skip-preview", "--non-interactive", *flags)

    def preview(self) -> float:
        """``pulumi preview``; its wall time."""
        return self.pulumi("preview", "--non-interactive")


def _time(entry: dict[str, Any]) -> float:
    return dt.datetime.fromisoformat(entry["time"]).timestamp()


def step_figures(seconds: float, log: list[dict[str, Any]], task_seconds: float) -> StepFigures:
    """Count one step's calls from the emulator's request log.

    Polls: the DescribeAccounts calls on a cluster after its accepted ResetAccount, up to
    the next one. Latency: the last of them minus the task's end (the accepted ResetAccount's
    log time plus the task time).
    """
    resets = [e for e in log if e["action"] == "ResetAccount" and e["status"] == 200]
    by_cluster: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in log:
        by_cluster[str(entry.get("params", {}).get("DBClusterId"))].append(entry)
    polls: list[int] = []
    latencies: list[float] = []
    for entries in by_cluster.values():
        accepted = [
            i for i, e in enumerate(entries) if e["action"] == "ResetAccount" and e["status"] == 200
        ]
        for n, start in enumerate(accepted):
            end = accepted[n + 1] if n + 1 < len(accepted) else len(entries)
            after = [e for e in entries[start + 1 : end] if e["action"] == "DescribeAccounts"]
            # Only the polls of this reset: the next reset's pre-check comes after them.
            waits = []
            for e in after:
                waits.append(e)
                if _time(e) >= _time(entries[start]) + task_seconds:
                    break
            polls.append(len(waits))
            if waits:
                latencies.append(_time(waits[-1]) - (_time(entries[start]) + task_seconds))
    return StepFigures(
        seconds=round(seconds, 3),
        api_calls=len(log),
        resets=len(resets),
        busy=sum(1 for e in log if e.get("code") == "ConcurrentTaskExceeded"),
        polls_per_reset=round(statistics.mean(polls), 2) if polls else None,
        settle_latency_s=round(max(latencies), 3) if latencies else None,
    )


@contextmanager
def _workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bench-up-") as tmp:
        yield Path(tmp)


#: Every step of a scenario, in order.
ALL_STEPS = ("preview_create", "first_up", "noop_up", "preview_bump", "bump_up")


def run_scenario(
    scenario: Scenario, bin_dir: str, steps: Sequence[str] = ALL_STEPS
) -> ScenarioFigures:
    """Measure the ``steps`` of one scenario (the first up always runs)."""
    figures = ScenarioFigures(scenario)
    clusters, n, task = scenario.cluster_count, scenario.targets, scenario.task_seconds
    with _workspace() as root, EmulatorProcess(seed(clusters, task), quiet=True) as emu:
        project = Project(root, bin_dir, host_workers=scenario.host_workers)
        project.pulumi("config", "set", "--secret", "alicloud:secretKey", stdin=KEY_SECRET)
        config: dict[str, Any] = {
            "alicloud:region": "cn-hangzhou",
            "alicloud:accessKey": KEY_ID,
            "alicloud:endpoints": json.dumps([{"polardb": emu.base_url}]),
            "polardb-reset:targets": targets(n, clusters),
        }
        if scenario.k is not None:
            config["polardbReset:providerProcesses"] = str(scenario.k)
        project.configure(config)

        def step(name: str, seconds: float) -> None:
            figures.steps[name] = step_figures(seconds, emu.requests(), task)
            emu.clear_requests()

        emu.clear_requests()
        if "preview_create" in steps:
            step("preview_create", project.preview())
        step("first_up", project.up(scenario.parallel))
        if "noop_up" in steps:
            step("noop_up", project.up(scenario.parallel))
        project.configure({"polardb-reset:targets": targets(n, clusters, bumped=0)})
        if "preview_bump" in steps:
            step("preview_bump", project.preview())
        if "bump_up" in steps:
            step("bump_up", project.up(scenario.parallel))
    return figures


def empty_stack(bin_dir: str, repeat: int = 3) -> dict[str, float]:
    """Wall time of `pulumi up` of a program that declares nothing (median of ``repeat``)."""
    with _workspace() as root:
        project = Project(root, bin_dir, empty=True)
        first = project.up(PARALLEL)
        noop = statistics.median(project.up(PARALLEL) for _ in range(repeat))
    return {"empty_first_up_s": round(first, 3), "empty_noop_up_s": round(noop, 3)}


def main(argv: Sequence[str] | None = None) -> None:
    """Run the scenarios named on the command line; print one JSON line each."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--task-seconds", type=float, nargs="+", default=[0.5])
    parser.add_argument(
        "--k", nargs="+", default=["default"], help="provider processes: numbers or 'default'"
    )
    parser.add_argument("--clusters", type=int, help="clusters the targets share (default: N)")
    parser.add_argument("--empty", action="store_true", help="also time an empty stack")
    args = parser.parse_args(argv)
    bin_dir = pulumi_bin()
    if args.empty:
        print(json.dumps(empty_stack(bin_dir)), flush=True)
    for task in args.task_seconds:
        for n in args.targets:
            for k in args.k:
                scenario = Scenario(n, task, None if k == "default" else int(k), args.clusters)
                print(json.dumps(run_scenario(scenario, bin_dir).row()), flush=True)


if __name__ == "__main__":
    main()
