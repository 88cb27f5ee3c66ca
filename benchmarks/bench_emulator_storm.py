"""Benchmark: ResetAccount storm rate of the emulator, with and without passwords.

Starts ``polardb-emulator serve --quiet --task-seconds 0`` and drives it with ``--clients``
threads sending V3 ``ResetAccount`` requests for ``--seconds``, first without
``AccountPassword`` (nothing to hash), then with one (every request hashes a password).
Each thread is a real SDK client (``--sdk``, what users run: the client's own work bounds
the rate) or a hand-signed keep-alive connection (the server alone). Prints requests per second of each and their ratio;
``--stall`` also times an admin ``GET /_emulator/requests?action=none`` while the storm
runs (how long a client that needs no hashing waits).

    .venv/bin/python benchmarks/bench_emulator_storm.py --seconds 5 --clients 4 --sdk
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from emulator_harness import sign_v3

from polardb_emulator.testing import EmulatorProcess

KEY, SECRET = "LTAI5tStormKey00001", "storm-secret"
CLUSTER = "pc-storm000000001"
SEED: dict[str, Any] = {
    "access_keys": [{"id": KEY, "secret": SECRET}],
    "clusters": [
        {
            "id": CLUSTER,
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "accounts": [{"name": "dbadmin", "type": "Super", "password": "St0rm!pass"}],
        }
    ],
}


def _request(endpoint: str, nonce: str, password: str | None) -> tuple[str, dict[str, str]]:
    query = {"DBClusterId": CLUSTER, "AccountName": "dbadmin"}
    if password:
        query["AccountPassword"] = password
    headers = sign_v3(
        SECRET,
        KEY,
        query,
        {
            "host": endpoint,
            "x-acs-action": "ResetAccount",
            "x-acs-version": "2017-08-01",
            "x-acs-date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "x-acs-signature-nonce": nonce,
        },
    )
    path = "/?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query.items())
    return path, headers


def _sdk_client(emu: EmulatorProcess, index: int, deadline: float, password: str | None) -> int:
    from alibabacloud_polardb20170801 import models
    from alibabacloud_polardb20170801.client import Client
    from alibabacloud_tea_openapi.models import Config

    client = Client(
        Config(
            **emu.sdk_config(access_key_id=KEY, access_key_secret=SECRET, region_id="cn-hangzhou")
        )
    )
    request = models.ResetAccountRequest(
        dbcluster_id=CLUSTER, account_name="dbadmin", account_password=password
    )
    n = 0
    while time.monotonic() < deadline:
        client.reset_account(request)
        n += 1
    return n


def storm(
    emu: EmulatorProcess, seconds: float, clients: int, password: str | None, sdk: bool
) -> float:
    """Requests per second answered 200 during ``seconds`` of ``clients`` threads."""
    host, port = emu.endpoint.rsplit(":", 1)
    deadline = time.monotonic() + seconds
    counts = [0] * clients

    def client(index: int) -> None:
        if sdk:
            counts[index] = _sdk_client(emu, index, deadline, password)
            return
        conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=30)
        n = 0
        while time.monotonic() < deadline:
            path, headers = _request(emu.endpoint, f"storm-{index}-{n}-{password}", password)
            conn.request("POST", path, body=b"", headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                counts[index] += 1
            n += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started)


def admin_latency(emu: EmulatorProcess, seconds: float) -> float:
    """Median seconds of an admin GET while a storm runs (started by the caller)."""
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        with urllib.request.urlopen(emu.admin_url + "/faults", timeout=60) as response:  # noqa: S310
            response.read()
        samples.append(time.monotonic() - started)
        time.sleep(0.05)
    return statistics.median(samples)


def main() -> None:
    """Run both storms and print the rates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--stall", action="store_true", help="also time admin GETs meanwhile")
    parser.add_argument("--sdk", action="store_true", help="clients are real SDK clients")
    args = parser.parse_args()
    import os

    os.environ.setdefault("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
    results: dict[str, float] = {}
    with EmulatorProcess(SEED, task_seconds=0, quiet=True) as emu:
        for label, password in (("without", None), ("with", "N3w!Passw0rd")):
            waits: list[float] = []
            if args.stall:
                watcher = threading.Thread(
                    target=lambda w=waits: w.append(admin_latency(emu, args.seconds - 0.5))
                )
                watcher.start()
            results[label] = storm(emu, args.seconds, args.clients, password, args.sdk)
            if args.stall:
                watcher.join()
                results[f"admin_median_s_{label}"] = round(waits[0], 4)
            emu.clear_requests()
    results["ratio"] = results["without"] / max(results["with"], 1e-9)
    print(json.dumps({k: round(v, 2) for k, v in results.items()}))


if __name__ == "__main__":
    main()
