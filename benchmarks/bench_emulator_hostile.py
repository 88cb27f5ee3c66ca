"""Benchmark: the emulator's memory and responsiveness under unsigned hostile requests.

Starts ``polardb-emulator serve --quiet``, reads its resident memory (VmRSS), sends
``--requests`` unsigned ``POST /`` requests whose form bodies hold ``--body-kib`` KiB of
distinct keys, meanwhile timing a small admin call, then reads VmRSS again and times
``GET /_emulator/requests`` (and its size).

    .venv/bin/python benchmarks/bench_emulator_hostile.py --requests 1000 --body-kib 64
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from polardb_emulator.testing import EmulatorProcess

SEED: dict[str, Any] = {
    "access_keys": [{"id": "LTAI5tHostileKey001", "secret": "hostile-secret"}],
    "clusters": [],
}


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def hostile_body(index: int, kib: int) -> bytes:
    """``kib`` KiB of distinct ``k<index>_<n>=v`` pairs, with an AccountPassword."""
    parts = [f"AccountPassword=Hostile!{index}"]
    size, n = 0, 0
    while size < kib * 1024:
        part = f"k{index}_{n}=v{n}"
        parts.append(part)
        size += len(part) + 1
        n += 1
    return "&".join(parts).encode()


def flood(endpoint: str, requests: int, kib: int) -> dict[str, int]:
    """Send the hostile requests on one keep-alive connection; count answers by status."""
    host, port = endpoint.rsplit(":", 1)
    statuses: dict[str, int] = {}
    conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=120)
    headers = {"content-type": "application/x-www-form-urlencoded", "x-acs-action": "Nope"}
    for i in range(requests):
        try:
            conn.request(
                "POST", "/?Action=ResetAccount", body=hostile_body(i, kib), headers=headers
            )
            response = conn.getresponse()
            response.read()
            key = str(response.status)
            if response.will_close:
                conn.close()
                conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=120)
        except (ConnectionError, http.client.HTTPException):
            key = "connection error"
            conn.close()
            conn = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=120)
        statuses[key] = statuses.get(key, 0) + 1
    conn.close()
    return statuses


def main() -> None:
    """Flood, then print the memory and timing figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--body-kib", type=int, default=64)
    args = parser.parse_args()
    with EmulatorProcess(SEED, quiet=True) as emu:
        assert emu.pid is not None
        before = rss_mb(emu.pid)
        waits: list[float] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                started = time.monotonic()
                emu.faults()
                waits.append(time.monotonic() - started)
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        started = time.monotonic()
        statuses = flood(emu.endpoint, args.requests, args.body_kib)
        flood_s = time.monotonic() - started
        done.set()
        watcher.join()
        after = rss_mb(emu.pid)
        started = time.monotonic()
        with urllib.request.urlopen(emu.admin_url + "/requests", timeout=600) as response:  # noqa: S310
            size = len(response.read())
        list_s = time.monotonic() - started
        peak = rss_mb(emu.pid)
    print(
        json.dumps(
            {
                "requests": args.requests,
                "body_kib": args.body_kib,
                "statuses": statuses,
                "flood_s": round(flood_s, 2),
                "rss_before_mb": round(before, 1),
                "rss_after_mb": round(after, 1),
                "rss_after_listing_mb": round(peak, 1),
                "get_requests_s": round(list_s, 3),
                "get_requests_bytes": size,
                "admin_wait_max_s": round(max(waits, default=0.0), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
