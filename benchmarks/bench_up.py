"""Benchmark: wall time of `pulumi up` of the root stack with N targets against the emulator.

Each N gets a fresh emulator (polardb_emulator.testing) and a copy of the root project with
its own file backend; every step is the `pulumi` CLI in a subprocess, as users run it:
the first up (N resets), a second up (no change, no API call) and an up after bumping every
nonce (N resets). The request log counts the API calls.

    PULUMI_BIN=$(scripts/install-pulumi | tail -n1) .venv/bin/python benchmarks/bench_up.py 1 8 32
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from polardb_emulator.testing import EmulatorProcess

REPO = Path(__file__).resolve().parent.parent
KEY_ID, KEY_SECRET = "LTAI5tBenchKey00001", "bench-secret-not-real"


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
        "access_keys": [{"id": KEY_ID, "secret": KEY_SECRET}],
        "settings": {"task_seconds": task_seconds, "concurrent_tasks_per_cluster": 1},
        "clusters": clusters,
    }


def stack_config(emu: EmulatorProcess, n: int, nonce: int) -> dict[str, Any]:
    """Plain stack config: the emulator's endpoint and one target per cluster."""
    return {
        "alicloud:region": "cn-hangzhou",
        "alicloud:accessKey": KEY_ID,
        "alicloud:endpoints": json.dumps([{"polardb": emu.base_url}]),
        "polardb-reset:targets": [
            {
                "name": f"t{i}",
                "dbClusterId": f"pc-bench{i:08d}",
                "accountName": "dbadmin",
                "resetNonce": nonce,
            }
            for i in range(n)
        ],
    }


def pulumi_bin() -> str:
    """Directory of the pulumi CLI: $PULUMI_BIN, else what scripts/install-pulumi prints."""
    if os.environ.get("PULUMI_BIN"):
        return os.environ["PULUMI_BIN"]
    out = subprocess.run(
        [str(REPO / "scripts" / "install-pulumi")], capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def run(n: int, bin_dir: str, task_seconds: float) -> dict[str, Any]:
    """Measure one N; return the figures."""
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess(seed(n, task_seconds)) as emu:
        project = Path(tmp) / "project"
        project.mkdir()
        for name in ("Pulumi.yaml", "__main__.py"):
            shutil.copy(REPO / name, project / name)
        (project / ".venv").symlink_to(sys.prefix, target_is_directory=True)
        env = {
            **os.environ,
            "PATH": os.pathsep.join([bin_dir, os.environ["PATH"]]),
            "PULUMI_BACKEND_URL": f"file://{tmp}",
            "PULUMI_HOME": str(Path(tmp) / "home"),
            "PULUMI_CONFIG_PASSPHRASE": "bench",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        }

        def pulumi(*args: str, stdin: str | None = None) -> None:
            subprocess.run(
                ["pulumi", *args], cwd=project, env=env, input=stdin, text=True, check=True,
                capture_output=True,
            )  # fmt: skip

        pulumi("stack", "init", "bench")
        pulumi("config", "set", "--secret", "alicloud:secretKey", stdin=KEY_SECRET)
        figures: dict[str, Any] = {"targets": n, "task_seconds": task_seconds}
        config_file = project / "Pulumi.bench.yaml"
        for label, nonce in (("first_up_s", 1), ("noop_up_s", 1), ("nonce_bump_up_s", 2)):
            document = yaml.safe_load(config_file.read_text())
            document["config"].update(stack_config(emu, n, nonce))
            config_file.write_text(yaml.safe_dump(document))
            start = time.perf_counter()
            pulumi("up", "--yes", "--skip-preview")
            figures[label] = round(time.perf_counter() - start, 2)
        figures["reset_calls"] = len(emu.requests(action="ResetAccount"))
        figures["api_calls"] = len(emu.requests())
        return figures


def main() -> None:
    """Run for each N given on the command line (default 1 8 32)."""
    sizes = [int(a) for a in sys.argv[1:]] or [1, 8, 32]
    bin_dir = pulumi_bin()
    for n in sizes:
        print(json.dumps(run(n, bin_dir, task_seconds=0.5)), flush=True)


if __name__ == "__main__":
    main()
