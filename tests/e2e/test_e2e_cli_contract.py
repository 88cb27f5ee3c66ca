"""End to end: ``polardb-reset``'s exit codes (Pulumi's) that need a real stack and CLI.

The project is ``examples/drift-remediation`` on the PolarDB emulator; the command runs as
a subprocess, as a CI job runs it. A "held" API endpoint accepts connections and never
answers (a dead or hanging endpoint); nothing here bounds the wall clock from above: the
tests wait for events (the held endpoint's first connection) and bound only from below.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess
from pulumi_harness import (
    REPO,
    PulumiProject,
    cli_environ,
    emulator_config,
    run_cli,
    set_secret_key,
)
from test_e2e_drift import NAMESPACE, bin_dir

pytestmark = pytest.mark.e2e
__all__ = ["bin_dir"]  # the fixture shared with the drift tests

CLUSTER = "pc-mysql00000001"
SEED: dict[str, Any] = {
    "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
    "settings": {"task_seconds": 0},
    "clusters": [
        {
            "id": CLUSTER,
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "accounts": [{"name": "dbadmin", "type": "Super", "password": "Adm1n!pass"}],
        }
    ],
}
TARGETS = [
    {
        "name": "orders",
        "dbClusterId": CLUSTER,
        "accountName": "dbadmin",
        "checkPrivileges": False,
        "timeoutSeconds": 900,  # the provider's own wait would be 15 minutes
    }
]


class HeldEndpoint:
    """A TCP endpoint that accepts every connection and never answers."""

    def __init__(self, port: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.connected = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)
            self.connected.set()

    def close(self) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def emu() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(SEED) as server:
        yield server


@pytest.fixture
def deployed(tmp_path: Path, bin_dir: str, emu: EmulatorProcess) -> PulumiProject:
    """The example deployed against the emulator, healthy."""
    proj = PulumiProject(REPO / "examples" / "drift-remediation", tmp_path, bin_dir=bin_dir)
    proj.write_config(emulator_config(emu, TARGETS, namespace=NAMESPACE))
    set_secret_key(proj)
    proj.up()
    healthy = run_cli(proj, "detect", "--stack", proj.stack_name)
    assert healthy.returncode == 0, proj.log[-1]
    return proj


@pytest.fixture
def held(deployed: PulumiProject, emu: EmulatorProcess) -> Iterator[HeldEndpoint]:
    """The stack's API endpoint now accepts connections and never answers.

    The endpoint a refresh calls is the one recorded in the state (the provider's config
    of the last ``pulumi up``): the emulator stops and a held endpoint takes its port.
    """
    port = urllib.parse.urlsplit(emu.base_url).port
    assert port is not None
    emu.stop()
    endpoint = HeldEndpoint(port)
    yield endpoint
    endpoint.close()


def test_a_held_api_endpoint_ends_detect_at_its_timeout_with_exit_9(
    deployed: PulumiProject, held: HeldEndpoint, tmp_path: Path
) -> None:
    junit = tmp_path / "junit.xml"
    started = time.monotonic()
    done = run_cli(
        deployed,
        "detect",
        "--stack",
        deployed.stack_name,
        "--timeout",
        "5",
        "--junit-xml",
        str(junit),
        "--json",
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 9, deployed.log[-1]
    # The deadline ends the check wherever it is: still starting the provider (a loaded
    # machine) or waiting on the held endpoint; test_ctrl_c... waits for the latter.
    assert elapsed >= 5  # the deadline, not an earlier failure, ended it
    document = json.loads(done.stdout)
    (target,) = document["targets"]
    assert target["status"] == "unknown"
    assert target["verdict"] == "unknown: no answer within the check's 5 s"
    (error,) = document["errors"]
    assert error.startswith("timeout: `pulumi refresh` did not finish within 5 s (--timeout 5)")
    assert error.endswith("no answer for: orders")
    assert "timed out" in document["summary"]
    assert "Traceback" not in done.stderr
    assert junit.read_text().count("<error") == 2  # the target, and the run's error


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_cancels_detect_with_exit_8(
    deployed: PulumiProject, held: HeldEndpoint, signum: signal.Signals
) -> None:
    """Ctrl-C at a terminal, or a CI's cancel (SIGTERM): pulumi is stopped, exit 8."""
    command = [str(Path(sys.executable).parent / "polardb-reset")]
    process = subprocess.Popen(
        [*command, "detect", "--stack", deployed.stack_name],
        cwd=deployed.dir,
        env=cli_environ(deployed),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        # The check is under way (the provider waits on the held endpoint): interrupt it.
        assert held.connected.wait(300), "the check never reached the API endpoint"
        process.send_signal(signum)
        out, err = process.communicate()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 8, out + err
    assert "error: cancelled (interrupted)" in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def test_credentials_the_api_refuses_are_exit_3(
    deployed: PulumiProject, emu: EmulatorProcess
) -> None:
    resets = len(emu.resets())
    # What the API answers a key it does not know (the state keeps the provider's config
    # of the last `pulumi up`, so the refresh signs with the key recorded there).
    emu.add_fault(
        action="*", kind="error", code="InvalidAccessKeyId.NotFound", status=404, count=1000
    )
    for command in ("detect", "remediate"):
        done = run_cli(deployed, command, "--stack", deployed.stack_name, "--json")
        assert done.returncode == 3, deployed.log[-1]
        document = json.loads(done.stdout)
        assert "credentials refused" in document["summary"]
        (target,) = document["targets"]
        assert target["status"] == "unknown"
        assert "the AccessKey ID is unknown or disabled" in target["verdict"]
    assert len(emu.resets()) == resets


def test_ctrl_c_lets_remediate_finish_the_reset_it_started_with_exit_8(
    deployed: PulumiProject, emu: EmulatorProcess
) -> None:
    """The first Ctrl-C reaches `pulumi up` once: it finishes the reset and saves the state."""
    emu.clear_requests()
    emu.hold_tasks()  # the reset's task will not finish until released
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "polardb-reset"),
            "remediate",
            "--stack",
            deployed.stack_name,
            "--all",
            "--run-id",
            "interrupted-1",
        ],
        cwd=deployed.dir,
        env=cli_environ(deployed),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        emu.wait_for(lambda: len(emu.resets()) == 1, timeout=300, what="the ResetAccount call")
        process.send_signal(signal.SIGINT)
        emu.release_tasks()
        out, err = process.communicate()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        emu.release_tasks()
    assert process.returncode == 8, out + err
    assert "error: cancelled (interrupted)" in err and "Traceback" not in err
    (call,) = emu.resets()
    # Finished and saved: the state records this reset, with no operation left pending.
    state = deployed.export()
    assert state.get("pending_operations") in (None, [])
    (resource,) = deployed.resources()
    assert resource["outputs"]["last_reset_request_id"] == call["request_id"]
