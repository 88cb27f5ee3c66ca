"""The emulator as a program: CLI, state across restarts, TLS, and secret hygiene."""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_polardb20170801 import models as m
from alibabacloud_tea_openapi.exceptions import ClientException
from emulator_harness import (
    DEFAULT_SEED,
    SEED_PASSWORDS,
    EmulatorProcess,
    SdkClientFactory,
    write_seed,
)

MYSQL = "pc-mysql00000001"


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "polardb_emulator", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_malformed_seed_exits_2_naming_the_key(tmp_path: Path) -> None:
    data = copy.deepcopy(DEFAULT_SEED)
    data["clusters"][0]["accounts"][1]["type"] = "Admin"
    seed = write_seed(tmp_path / "bad.yaml", data)
    result = _run_cli("serve", "--seed", str(seed))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "seed error: clusters[0].accounts[1].type: must be one of Normal, Super, ReadOnly"
    )
    assert "Traceback" not in result.stderr


def test_missing_and_unparsable_seed_files(tmp_path: Path) -> None:
    result = _run_cli("serve", "--seed", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2 and result.stderr.startswith("seed error: cannot read")
    (tmp_path / "broken.yaml").write_text("access_keys: [")
    result = _run_cli("serve", "--seed", str(tmp_path / "broken.yaml"))
    assert result.returncode == 2 and "not valid YAML" in result.stderr


def test_mariadb_backend_without_mariadbd_exits_2(seed_file: Path, tmp_path: Path) -> None:
    missing = tmp_path / "bin" / "mariadbd"
    result = _run_cli(
        "serve", "--seed", str(seed_file), "--backend", "mariadb", "--mariadbd", str(missing)
    )
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: --mariadbd {missing} is not an executable file")
    assert "apt-get install mariadb-server" in line


def test_first_line_and_clean_sigterm(seed_file: Path) -> None:
    process = EmulatorProcess(seed_file)
    try:
        assert process.protocol == "http"
        assert process.endpoint.startswith("127.0.0.1:")
        assert process.admin_url == f"http://{process.endpoint}/_emulator"
        assert "ca_file" not in process.info
        assert process.backend == "memory"
    finally:
        assert process.stop() == 0


def test_state_survives_restart(
    tmp_path: Path, seed_file: Path, sdk_client: SdkClientFactory
) -> None:
    state = tmp_path / "state" / "emulator.json"
    process = EmulatorProcess(seed_file, state_path=state, task_seconds=0)
    try:
        client = sdk_client(target=process)
        client.reset_account(
            m.ResetAccountRequest(
                dbcluster_id=MYSQL, account_name="dbadmin", account_password="Surv1ve!restart"
            )
        )
        process.delete_account(MYSQL, "app_rw")
        process.restart()
        assert process.verify_password(MYSQL, "dbadmin", "Surv1ve!restart")
        assert process.account(MYSQL, "app_rw") is None
        saved = state.read_text()
        assert "Surv1ve!restart" not in saved
        assert all(p not in saved for p in SEED_PASSWORDS)
        # reset goes back to the seed, and that too is persisted.
        process.reset()
        process.restart()
        assert process.verify_password(MYSQL, "dbadmin", "Adm1n!pass")
    finally:
        process.stop()


def test_corrupt_state_file_exits_2(tmp_path: Path, seed_file: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json")
    result = _run_cli("serve", "--seed", str(seed_file), "--state", str(state))
    assert result.returncode == 2 and result.stderr.startswith("state error:")


def test_tls_with_the_printed_ca(seed_file: Path, sdk_client: SdkClientFactory) -> None:
    process = EmulatorProcess(seed_file, tls=True)
    try:
        assert process.protocol == "https" and process.ca_file
        assert Path(process.ca_file).read_text().startswith("-----BEGIN CERTIFICATE-----")
        assert process.admin_url.startswith("https://")
        client = sdk_client(target=process)
        body = client.describe_accounts(m.DescribeAccountsRequest(dbcluster_id=MYSQL)).body
        assert body.accounts[0].account_name == "dbadmin"
        assert process.state()["clusters"][0]["id"] == MYSQL
    finally:
        process.stop()


def test_no_plaintext_password_anywhere(
    tmp_path: Path, seed_file: Path, sdk_client: SdkClientFactory
) -> None:
    """Request log, admin responses, stderr and state file never show a password."""
    state = tmp_path / "state.json"
    process = EmulatorProcess(seed_file, state_path=state, task_seconds=0)
    used = ["L3ak!check01", "L3ak!check02", "L3ak!check03", "weakpass", "sh0rt!"]
    try:
        client = sdk_client(target=process)
        v1 = sdk_client(target=process, signature_algorithm="v2")
        client.reset_account(
            m.ResetAccountRequest(
                dbcluster_id=MYSQL, account_name="dbadmin", account_password=used[0]
            )
        )
        v1.create_account(
            m.CreateAccountRequest(
                dbcluster_id=MYSQL,
                account_name="leak_check",
                account_password=used[1],
                account_type="Normal",
            )
        )
        v1.modify_account_password(
            m.ModifyAccountPasswordRequest(
                dbcluster_id=MYSQL, account_name="leak_check", new_account_password=used[2]
            )
        )
        for bad in used[3:]:
            with pytest.raises(ClientException) as info:
                client.reset_account(
                    m.ResetAccountRequest(
                        dbcluster_id=MYSQL, account_name="dbadmin", account_password=bad
                    )
                )
            assert info.value.code == "InvalidAccountPassword.Malformed", info.value.code
            assert bad not in str(info.value)
        process.patch_account(MYSQL, "app_rw", password="0utOfB4nd!pw")
        assert process.verify_password(MYSQL, "leak_check", used[2])
        admin_docs: list[Any] = [process.requests(), process.state(), process.faults()]
        process.stop()
        haystacks = [json.dumps(admin_docs), process.stderr_text(), state.read_text()]
        for secret in [*used, *SEED_PASSWORDS, "0utOfB4nd!pw", "emulator-secret-01"]:
            for haystack in haystacks:
                assert secret not in haystack
        assert "AccountPassword" in haystacks[0]  # the parameter is logged, redacted
    finally:
        process.stop()


# --- shutdown: one signal starts it, and nothing cuts it short -------------------------------

_SERVE_UNTIL_SIGNALLED = """
import asyncio, os, signal, sys
from polardb_emulator._runner import ServeOptions, prepare
from polardb_emulator._server import serve

prepared = prepare(ServeOptions(seed_path=sys.argv[1]))
signum = getattr(signal, sys.argv[2])
# Signalled by itself once it serves: the handler is the one serve() installed.
asyncio.run(serve(
    prepared.emulator, host="127.0.0.1", port=0, ssl_context=None,
    on_ready=lambda _address: os.kill(os.getpid(), signum),
))
# The loop is closed: what would a second signal do now, before anything else runs?
print(signal.getsignal(signal.SIGTERM) is signal.SIG_IGN, signal.getsignal(signal.SIGINT) is signal.SIG_IGN)
prepared.close()
"""


@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_after_the_first_signal_both_are_ignored_even_once_the_loop_is_closed(
    seed_file: Path, signum: str
) -> None:
    """The window a clean clone's CI hit (exit -15): closing the loop gave SIGTERM back its
    default action while the servers were still being stopped, so a second SIGTERM killed
    the emulator and left its temporary directory behind."""
    done = subprocess.run(
        [sys.executable, "-c", _SERVE_UNTIL_SIGNALLED, str(seed_file), signum],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


def test_stop_after_a_signal_waits_for_that_shutdown_and_signals_no_more(
    seed_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []
    real_send = subprocess.Popen.send_signal

    def witness(proc: subprocess.Popen[str], signum: int) -> None:
        sent.append(signum)
        real_send(proc, signum)

    monkeypatch.setattr(subprocess.Popen, "send_signal", witness)
    process = EmulatorProcess(seed_file)
    process.signal(signal.SIGTERM)
    assert process.stop() == 0
    assert sent == [signal.SIGTERM]  # the one the test sent; stop() only waited
    # Without a signal first, stop() sends the one SIGTERM itself.
    process.start()
    assert process.stop() == 0
    assert sent == [signal.SIGTERM, signal.SIGTERM]
