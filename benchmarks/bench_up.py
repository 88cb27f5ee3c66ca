"""Benchmark: wall time of `pulumi up` of the root stack with N targets against the emulator.

Measures three runs per N: the first up (N resets), a second up (no change, no writes) and an
up after bumping every nonce (N resets). The dynamic provider process serves at most 4
operations at once, so N resets take about ceil(N / 4) reset cycles.

    PULUMI_BIN=$(scripts/install-pulumi | tail -n1) .venv/bin/python benchmarks/bench_up.py 1 8 32
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess, write_seed  # noqa: E402
from pulumi_harness import PulumiProject, emulator_config, pulumi_bin, set_secret_key  # noqa: E402


def seed(n: int, task_seconds: float) -> dict[str, Any]:
    """A seed with ``n`` MySQL clusters, each with a Super account."""
    clusters = [
        {
            "id": f"pc-bench{i:08d}",
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "status": "Running",
            "accounts": [{"name": "dbadmin", "type": "Super", "password": "Bench!Passw0rd"}],
        }
        for i in range(n)
    ]
    return {
        "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
        "settings": {"task_seconds": task_seconds, "concurrent_tasks_per_cluster": 1},
        "clusters": clusters,
    }


def targets(n: int, nonce: str) -> list[dict[str, str]]:
    """One root-stack target per cluster."""
    return [
        {
            "name": f"t{i}",
            "dbClusterId": f"pc-bench{i:08d}",
            "accountName": "dbadmin",
            "resetNonce": nonce,
        }
        for i in range(n)
    ]


def run(n: int, bin_dir: str, task_seconds: float) -> dict[str, Any]:
    """Measure one N; return the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        emu = EmulatorProcess(write_seed(root / "seed.yaml", seed(n, task_seconds)))
        try:
            proj = PulumiProject(
                REPO, root / "p", bin_dir=bin_dir, only=["Pulumi.yaml", "__main__.py"]
            )
            proj.write_config(emulator_config(emu, targets(n, "1"), namespace="polardb-reset"))
            set_secret_key(proj)
            figures: dict[str, Any] = {"targets": n, "task_seconds": task_seconds}
            for label, nonce in (("first_up_s", "1"), ("noop_up_s", "1"), ("nonce_bump_up_s", "2")):
                proj.write_config({"polardb-reset:targets": targets(n, nonce)})
                start = time.perf_counter()
                proj.up()
                figures[label] = round(time.perf_counter() - start, 2)
            figures["reset_calls"] = len(emu.requests(action="ResetAccount"))
            figures["api_calls"] = len(emu.requests())
            return figures
        finally:
            emu.stop()


def main() -> None:
    """Run for each N given on the command line (default 1 8 32)."""
    sizes = [int(a) for a in sys.argv[1:]] or [1, 8, 32]
    bin_dir = pulumi_bin()
    for n in sizes:
        print(json.dumps(run(n, bin_dir, task_seconds=0.5)), flush=True)


if __name__ == "__main__":
    main()
