"""Benchmark: the native plugin beside the dynamic resource beside a do-nothing native plugin.

Every step is the `pulumi` CLI in a subprocess against the emulator (2 s tasks, one cluster
per target, ``--parallel 128``). The native and trivial programs are Pulumi YAML programs
of N resources, their plugin found through ``plugins.providers`` in Pulumi.yaml; the
dynamic figures come from ``bench_up.run_scenario`` (the root stack, the package's default
K). Memory is the largest resident set of the provider plugin processes (summed over the
processes alive at once), sampled every 0.1 s from /proc while a step runs.

    PULUMI_BIN=$(scripts/install-pulumi | tail -n1) .venv/bin/python benchmarks/bench_native.py

Writes benchmarks/results/native.json and native.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from polardb_emulator.testing import EmulatorProcess

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.bench_up import (  # noqa: E402 - after the path it lives on
    KEY_ID,
    KEY_SECRET,
    Scenario,
    cluster_id,
    pulumi_bin,
    run_scenario,
    seed,
)

RESULTS = REPO / "benchmarks" / "results"
PARALLEL = 128
TASK_SECONDS = 2.0
NOOP_REPEAT = 3


def program(kind: str, n: int, plugin_dir: Path) -> str:
    """A Pulumi YAML program of ``n`` resources of the native or the trivial plugin."""
    name = "polardb-account" if kind == "native" else "trivial"
    lines = [
        f"name: bench-{kind}",
        "runtime: yaml",
        "plugins:",
        "  providers:",
        f"    - name: {name}",
        f"      path: {plugin_dir}",
        "resources:",
    ]
    for i in range(n):
        lines.append(f"  r{i}:")
        if kind == "native":
            lines += [
                "    type: polardb-account:index:PrivilegedAccountReset",
                "    properties:",
                f"      dbClusterId: {cluster_id(i)}",
                "      accountName: dbadmin",
                '      resetNonce: "1"',
                "      checkPrivileges: false",
            ]
        else:
            lines += ["    type: trivial:index:Nothing", "    properties:", f'      value: "{i}"']
    return "\n".join(lines) + "\n"


def plugin_directory(kind: str, root: Path) -> Path:
    """A directory holding ``pulumi-resource-<name>`` for the engine to start."""
    directory = root / "plugin"
    directory.mkdir()
    if kind == "native":
        target = Path(sys.prefix) / "bin" / "pulumi-resource-polardb-account"
        (directory / target.name).symlink_to(target)
    else:
        wrapper = directory / "pulumi-resource-trivial"
        script = REPO / "benchmarks" / "trivial_provider.py"
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
        wrapper.chmod(0o755)
    return directory


class RssSampler:
    """Largest summed VmRSS (KiB) of live processes whose command line holds ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                if self.marker.encode() not in cmdline:
                    continue
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak_kib = max(self.peak_kib, self._sample())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def workspace() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="bench-native-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def measure(kind: str, n: int, bin_dir: str) -> dict[str, Any]:
    """Preview, first up and no-op up of ``n`` resources of ``kind``: seconds, API calls, RSS."""
    figures: dict[str, Any] = {"kind": kind, "n": n}
    with workspace() as root, EmulatorProcess(seed(n, TASK_SECONDS), quiet=True) as emu:
        plugin = plugin_directory(kind, root)
        marker = str(plugin) if kind == "native" else "trivial_provider.py"
        project = root / "project"
        project.mkdir()
        (project / "Pulumi.yaml").write_text(program(kind, n, plugin))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "ALIBABA_"))},
            "PATH": os.pathsep.join([bin_dir, os.environ["PATH"]]),
            "PULUMI_HOME": str(root / "home"),
            "PULUMI_BACKEND_URL": f"file://{root / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": "bench",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
        (root / "state").mkdir()

        def pulumi(*args: str, stdin: str | None = None) -> float:
            start = time.monotonic()
            subprocess.run(
                ["pulumi", *args],
                cwd=project,
                env=env,
                input=stdin,
                text=True,
                check=True,
                capture_output=True,
            )
            return time.monotonic() - start

        pulumi("stack", "init", "bench")
        for key, value in (
            ("polardb-account:region", "cn-hangzhou"),
            ("polardb-account:accessKey", KEY_ID),
            ("polardb-account:endpoint", emu.base_url),
        ):
            pulumi("config", "set", key, value)
        pulumi("config", "set", "--secret", "polardb-account:secretKey", stdin=KEY_SECRET)
        emu.clear_requests()
        figures["preview_s"] = round(pulumi("preview", "--non-interactive"), 3)
        figures["preview_calls"] = len(emu.requests())
        up = ("up", "--yes", "--skip-preview", "--non-interactive", "--parallel", str(PARALLEL))
        with RssSampler(marker) as rss:
            figures["first_up_s"] = round(pulumi(*up), 3)
        figures["first_up_rss_mib"] = round(rss.peak_kib / 1024, 1)
        figures["first_up_resets"] = len(emu.resets())
        emu.clear_requests()
        # The machine is shared: the median of NOOP_REPEAT no-op ups.
        with RssSampler(marker) as rss:
            noop = [pulumi(*up) for _ in range(NOOP_REPEAT)]
        figures["noop_up_s"] = round(statistics.median(noop), 3)
        figures["noop_up_rss_mib"] = round(rss.peak_kib / 1024, 1)
        figures["noop_up_calls"] = len(emu.requests())
    return figures


def dynamic(n: int, bin_dir: str) -> dict[str, Any]:
    """The dynamic resource (root stack, default K) in the same scenario."""
    found = run_scenario(
        Scenario(n, TASK_SECONDS, parallel=PARALLEL), bin_dir, steps=("preview_create", "noop_up")
    )
    return {
        "kind": "dynamic",
        "n": n,
        "preview_calls": found.steps["preview_create"].api_calls,
        "first_up_s": round(found.steps["first_up"].seconds, 3),
        "first_up_resets": found.steps["first_up"].resets,
        "noop_up_s": round(found.steps["noop_up"].seconds, 3),
        "noop_up_calls": found.steps["noop_up"].api_calls,
    }


def report(rows: list[dict[str, Any]], load: tuple[float, float]) -> str:
    """The Markdown summary with the issue's targets."""
    by = {(r["kind"], r["n"]): r for r in rows}
    out = [
        f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} CPUs "
        f"(load average {load[0]:.2f} before, {load[1]:.2f} after), "
        f"{TASK_SECONDS:g} s tasks, one cluster per target, `--parallel {PARALLEL}`.",
        "",
        "| provider | N | preview calls | first up (s) | resets | no-op up (s) | no-op calls | plugin RSS first/no-op (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rss = f"{r.get('first_up_rss_mib', '-')}/{r.get('noop_up_rss_mib', '-')}"
        out.append(
            f"| {r['kind']} | {r['n']} | {r['preview_calls']} | {r['first_up_s']} | "
            f"{r['first_up_resets']} | {r['noop_up_s']} | {r['noop_up_calls']} | {rss} |"
        )
    out.append("")
    out.append(
        f"No-op up: median of {NOOP_REPEAT} runs for native and trivial, one run for dynamic "
        "(bench_up). The trivial plugin keeps one property per resource, the real one 21: "
        "the engine's state handling is part of the difference."
    )
    out.append("")
    if ("native", 1) in by and ("native", 100) in by:
        ratio = by[("native", 100)]["first_up_s"] / by[("native", 1)]["first_up_s"]
        out.append(f"- native: first up of 100 = {ratio:.2f}x one target (target <= 1.3x)")
    if ("native", 100) in by and ("trivial", 100) in by:
        ratio = by[("native", 100)]["noop_up_s"] / by[("trivial", 100)]["noop_up_s"]
        out.append(
            f"- native: no-op up of 100 = {ratio:.2f}x the trivial plugin's (target <= 1.15x)"
        )
    if ("dynamic", 1) in by and ("dynamic", 100) in by:
        ratio = by[("dynamic", 100)]["first_up_s"] / by[("dynamic", 1)]["first_up_s"]
        out.append(f"- dynamic: first up of 100 = {ratio:.2f}x one target")
    calls = [r["noop_up_calls"] + r["preview_calls"] for r in rows if r["kind"] == "native"]
    out.append(f"- native: API calls on preview and no-op up: {sum(calls)}")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--kinds", nargs="+", default=["native", "trivial", "dynamic"])
    args = parser.parse_args()
    bin_dir = pulumi_bin()
    load_before = os.getloadavg()[0]
    rows = []
    for kind in args.kinds:
        for n in args.sizes:
            row = dynamic(n, bin_dir) if kind == "dynamic" else measure(kind, n, bin_dir)
            print(json.dumps(row), flush=True)
            rows.append(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "native.json").write_text(json.dumps(rows, indent=2) + "\n")
    text = report(rows, (load_before, os.getloadavg()[0]))
    (RESULTS / "native.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
