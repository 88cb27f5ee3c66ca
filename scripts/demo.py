"""`make demo`: a real `pulumi up` of the root stack against the local PolarDB emulator.

Starts the emulator from demo/seed.yaml, creates the stack ``demo`` of the root
project with a local file backend under .demo/, runs ``pulumi up`` (one
ResetAccount per target), bumps one target's reset nonce and runs ``pulumi up``
again (exactly one more ResetAccount), then stops the emulator. The emulator's
request log is printed as the witness.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

from pulumi_polardb_reset.automation import project_stack

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / ".demo"
STACK = "demo"
SEED = REPO / "demo" / "seed.yaml"
DEMO_PASSWORD = "Demo!Passw0rd1"  # noqa: S105 - lives only in the local emulator


def say(text: str) -> None:
    """Print a demo step heading."""
    print(f"\n=== {text}", flush=True)


def start_emulator() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start the emulator and return it with its first-line JSON."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "polardb_emulator", "serve", "--seed", str(SEED), "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("the emulator did not start (see the messages above)")
    return proc, json.loads(line)


def admin(info: dict[str, Any], path: str) -> Any:
    """GET an admin API path of the emulator."""
    with urllib.request.urlopen(info["admin_url"] + path, timeout=10) as resp:  # noqa: S310
        return json.loads(resp.read())


def reset_calls(info: dict[str, Any]) -> list[dict[str, Any]]:
    """ResetAccount calls in the emulator's request log."""
    calls: list[dict[str, Any]] = admin(info, "/requests?action=ResetAccount")["requests"]
    return calls


def write_stack_config(info: dict[str, Any], nonce: str) -> None:
    """Plain stack config; the secret key and password are set encrypted afterwards."""
    seed = yaml.safe_load(SEED.read_text())
    key = seed["access_keys"][0]
    config = {
        "alicloud:region": "cn-hangzhou",
        "alicloud:accessKey": key["id"],
        "alicloud:endpoints": json.dumps([{"polardb": f"{info['protocol']}://{info['endpoint']}"}]),
        "polardb-reset:targets": [
            {
                "name": "primary",
                "dbClusterId": "pc-demo0000000001",
                "accountName": "dbadmin",
                "resetNonce": nonce,
            },
            {
                "name": "reporting",
                "dbClusterId": "pc-demo0000000002",
                "accountName": "polar_root",
                "resetNonce": "1",
            },
        ],
    }
    path = REPO / f"Pulumi.{STACK}.yaml"
    current = yaml.safe_load(path.read_text()) if path.exists() else {}
    current = current or {}
    current["config"] = {**current.get("config", {}), **config}
    path.write_text(yaml.safe_dump(current))


def show(result: auto.UpResult, info: dict[str, Any], before: int) -> None:
    """Summarise one `pulumi up`."""
    calls = reset_calls(info)[before:]
    print(f"resource changes: {dict(result.summary.resource_changes or {})}")
    print(f"ResetAccount calls seen by the emulator: {len(calls)}")
    for call in calls:
        print(
            f"  {call['params']['DBClusterId']}/{call['params']['AccountName']} -> HTTP {call['status']}"
        )


def main() -> int:
    """Run the demo; return the exit status."""
    shutil.rmtree(WORK, ignore_errors=True)
    (REPO / f"Pulumi.{STACK}.yaml").unlink(missing_ok=True)
    (WORK / "state").mkdir(parents=True)
    (WORK / "home").mkdir()
    env = {
        "PULUMI_HOME": str(WORK / "home"),
        "PULUMI_BACKEND_URL": f"file://{WORK / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "demo-passphrase",  # a local demo backend only
    }
    bin_dir = os.environ.get("PULUMI_BIN")
    say("starting the PolarDB emulator (demo/seed.yaml)")
    proc, info = start_emulator()
    print(json.dumps(info))
    try:
        write_stack_config(info, nonce="1")
        stack = project_stack(REPO, STACK, env=env, pulumi_bin=bin_dir)
        stack.set_config(
            "alicloud:secretKey",
            auto.ConfigValue(
                yaml.safe_load(SEED.read_text())["access_keys"][0]["secret"], secret=True
            ),
        )
        stack.set_config(
            "polardb-reset:passwords.primary",
            auto.ConfigValue(DEMO_PASSWORD, secret=True),
            path=True,
        )

        say("pulumi up (first run: one ResetAccount per target)")
        result = stack.up(on_output=lambda line: print(line, flush=True))
        show(result, info, before=0)
        print(
            json.dumps({k: v.value for k, v in stack.outputs().items()}, indent=2, sort_keys=True)
        )

        say("bumping the reset nonce of target 'primary' and running pulumi up again")
        before = len(reset_calls(info))
        write_stack_config(info, nonce="2")
        result = stack.up(on_output=lambda line: print(line, flush=True))
        show(result, info, before=before)
        print(f"\nstate and logs: {WORK} (stack '{STACK}', passphrase 'demo-passphrase')")
    except auto.CommandError as exc:
        print(f"pulumi failed:\n{exc}", file=sys.stderr)
        return 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        say("emulator stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
