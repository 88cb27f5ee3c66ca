"""polardb_emulator.testing: the launchers users import in their own tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_polardb20170801 import models as m
from alibabacloud_polardb20170801.client import Client
from alibabacloud_tea_openapi.models import Config
from emulator_harness import assert_refused

from polardb_emulator.testing import (
    EmulatorError,
    EmulatorProcess,
    EmulatorThread,
    write_seed,
)

SEED: dict[str, Any] = {
    "access_keys": [{"id": "LTAI5tUserTest0001", "secret": "user-test-secret"}],
    "settings": {"task_seconds": 0},
    "clusters": [
        {
            "id": "pc-usertest000001",
            "region": "cn-shanghai",
            "db_type": "MySQL",
            "accounts": [{"name": "dbadmin", "type": "Super", "password": "Us3r!pass"}],
        }
    ],
}


def _client(emu: EmulatorProcess | EmulatorThread) -> Any:
    return Client(
        Config(
            **emu.sdk_config(
                access_key_id="LTAI5tUserTest0001",
                access_key_secret="user-test-secret",
                region_id="cn-shanghai",
            )
        )
    )


def _reset(client: Any, password: str) -> None:
    client.reset_account(
        m.ResetAccountRequest(
            dbcluster_id="pc-usertest000001", account_name="dbadmin", account_password=password
        )
    )


def test_process_from_a_dict_as_a_context_manager() -> None:
    with EmulatorProcess(SEED) as emu:
        assert emu.pid is not None and emu.seed_path.exists()
        host, port = emu.endpoint.rsplit(":", 1)
        _reset(_client(emu), "N3w!passw0rd")
        assert [r["status"] for r in emu.resets()] == [200]
        emu.wait_idle()
        assert emu.verify_password("pc-usertest000001", "dbadmin", "N3w!passw0rd")
    assert emu.pid is None
    with pytest.raises(EmulatorError):
        emu.state()
    assert_refused(host, int(port))  # stopped: nothing listens any more


def test_thread_variant_serves_the_same_api(tmp_path: Path) -> None:
    seed = write_seed(tmp_path / "seed.yaml", SEED)
    with EmulatorThread(seed, tls=True) as emu:
        assert emu.protocol == "https" and emu.ca_file
        _reset(_client(emu), "Thr3ad!pass")
        assert emu.verify_password("pc-usertest000001", "dbadmin", "Thr3ad!pass")
        emu.reset()
        assert emu.requests() == []
        emu.restart()
        assert emu.verify_password("pc-usertest000001", "dbadmin", "Us3r!pass")
    assert emu.stop() is None


def test_bad_seed_is_a_clear_error(tmp_path: Path) -> None:
    bad = {**SEED, "clusters": [{"id": "nope"}]}
    with pytest.raises(EmulatorError, match=r"seed error: clusters\[0\]"):
        EmulatorProcess(bad)
    with pytest.raises(EmulatorError, match=r"seed error: clusters\[0\]"):
        EmulatorThread(bad)


def test_launcher_imports_neither_aiohttp_nor_the_provider() -> None:
    code = (
        "import sys, polardb_emulator.testing; "
        "print(sorted(m for m in ('aiohttp', 'pulumi_polardb_reset', 'pymysql') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"
