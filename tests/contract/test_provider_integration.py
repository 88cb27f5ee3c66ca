"""The provider's lifecycle methods against the emulator, through the real SDK over HTTP.

The emulator's request log is the witness of what the provider did.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from emulator_harness import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    SEED_PASSWORDS,
    STS_KEY_ID,
    STS_KEY_SECRET,
    STS_TOKEN,
    EmulatorProcess,
    write_seed,
)
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_polardb_reset import (
    ApiCallError,
    ConfigurationError,
    ErrorCode,
    PrivilegedAccountResetProvider,
    ResetError,
    ResetTimeoutError,
)
from pulumi_polardb_reset.core import _convert as c
from pulumi_polardb_reset.core import _props as p

CLUSTER, ACCOUNT = "pc-mysql00000001", "dbadmin"
NEW_PASSWORD = "N3w!Passw0rd"
CRED_ENV = (
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_REGION",
    "ALIBABA_CLOUD_ENDPOINT_POLARDB",
    "ALICLOUD_ACCESS_KEY",
    "ALICLOUD_SECRET_KEY",
    "ALICLOUD_REGION",
    "ALIBABA_CLOUD_PROFILE",
)

MakeProvider = Callable[..., PrivilegedAccountResetProvider]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CRED_ENV:
        monkeypatch.delenv(name, raising=False)


def stack_config(emu: EmulatorProcess, **extra: str) -> dict[str, str]:
    """pulumi-alicloud style stack config pointing at ``emu``."""
    config = {
        "alicloud:accessKey": ACCESS_KEY_ID,
        "alicloud:secretKey": ACCESS_KEY_SECRET,
        "alicloud:region": "cn-hangzhou",
        "alicloud:endpoints": json.dumps([{"polardb": emu.base_url}]),
    }
    config.update(extra)
    return {k: v for k, v in config.items() if v}


@pytest.fixture
def provider(emu: EmulatorProcess) -> MakeProvider:
    """Factory: a provider configured like the engine would, with stack config for ``emu``."""

    def make(config: dict[str, str] | None = None) -> PrivilegedAccountResetProvider:
        prov = PrivilegedAccountResetProvider()
        raw = stack_config(emu) if config is None else config
        prov.configure(ConfigureRequest(Config(raw, "polardb-reset")))
        return prov

    return make


def inputs(**overrides: Any) -> dict[str, Any]:
    """Checked inputs as the engine passes them to create/update."""
    base: dict[str, Any] = {
        p.DB_CLUSTER_ID: CLUSTER,
        p.ACCOUNT_NAME: ACCOUNT,
        p.RESET_NONCE: "1",
        p.TIMEOUT_SECONDS: 30,
        "__provider": "blob",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def public(outs: dict[str, Any]) -> str:
    """The outputs as JSON, secrets (engine-wrapped values) left out: what must hold no password."""
    return json.dumps({k: v for k, v in outs.items() if not c.is_secret(v)})


# -- lifecycle -------------------------------------------------------------------------------


def test_create_resets_once_sets_password_and_returns_complete_outputs(
    emu: EmulatorProcess, provider: MakeProvider
) -> None:
    result = provider().create(inputs(account_password=NEW_PASSWORD))
    assert result.id == f"{CLUSTER}:{ACCOUNT}"
    outs = result.outs or {}
    assert set(p.OUTPUTS) <= set(outs)
    assert outs[p.RESET_COUNT] == 1 and outs[p.ACCOUNT_STATUS] == "Available"
    assert outs[p.ACCOUNT_TYPE] == "Super" and outs[p.EFFECTIVE_REGION] == "cn-hangzhou"
    assert outs[p.LAST_RESET_REQUEST_ID] == emu.resets()[0]["request_id"]
    assert NEW_PASSWORD not in public(outs)
    # The check's login is the managed password, kept only as an engine secret.
    assert c.is_secret(outs[p.SQL_CHECK_PASSWORD])
    assert c.plain(outs[p.SQL_CHECK_PASSWORD]) == NEW_PASSWORD
    assert [r["status"] for r in emu.resets()] == [200]
    assert emu.verify_password(CLUSTER, ACCOUNT, NEW_PASSWORD)


def test_create_without_password_keeps_the_password(
    emu: EmulatorProcess, provider: MakeProvider
) -> None:
    provider().create(inputs())
    (call,) = emu.resets()
    assert "AccountPassword" not in call["params"]
    assert emu.verify_password(CLUSTER, ACCOUNT, "Adm1n!pass")


def test_update_on_nonce_change_resets_exactly_once(
    emu: EmulatorProcess, provider: MakeProvider
) -> None:
    prov = provider()
    first = prov.create(inputs()).outs or {}
    emu.clear_requests()
    news = inputs(reset_nonce="2")
    assert prov.diff(f"{CLUSTER}:{ACCOUNT}", first, news).changes is True
    outs = prov.update(f"{CLUSTER}:{ACCOUNT}", first, news).outs or {}
    assert len(emu.resets()) == 1
    assert outs[p.RESET_COUNT] == 2 and outs[p.RESET_NONCE] == "2"
    assert set(p.OUTPUTS) <= set(outs)


def test_noop_diff_check_and_preview_make_no_request(
    emu: EmulatorProcess, provider: MakeProvider
) -> None:
    prov = provider()
    outs = prov.create(inputs(account_password=NEW_PASSWORD)).outs or {}
    emu.clear_requests()
    same = inputs(account_password=NEW_PASSWORD, __provider="blob-after-upgrade")
    assert prov.check(outs, same).failures == []
    assert prov.diff("id", outs, same).changes is False
    assert prov.diff("id", outs, inputs(account_password=None)).changes is False
    assert prov.check({}, inputs(account_password="short")).failures
    assert emu.requests() == []


def test_password_change_resets_with_the_new_password(
    emu: EmulatorProcess, provider: MakeProvider
) -> None:
    prov = provider()
    outs = prov.create(inputs(account_password=NEW_PASSWORD)).outs or {}
    news = inputs(account_password="An0ther!pass")
    assert prov.diff("id", outs, news).changes is True
    prov.update("id", outs, news)
    assert emu.verify_password(CLUSTER, ACCOUNT, "An0ther!pass")
    assert len(emu.resets()) == 2


@pytest.mark.parametrize(
    ("overrides", "needle", "code"),
    [
        (
            {p.DB_CLUSTER_ID: "pc-pgsql00000001", p.ACCOUNT_NAME: "pgadmin"},
            "only supports PolarDB for MySQL",
            ErrorCode.UNSUPPORTED_DB_TYPE,
        ),
        (
            {p.ACCOUNT_NAME: "app_rw"},
            "privileged account is 'dbadmin'",
            ErrorCode.NOT_PRIVILEGED_ACCOUNT,
        ),
        ({p.ACCOUNT_NAME: "nobody"}, "does not exist", ErrorCode.ACCOUNT_NOT_FOUND),
        ({p.DB_CLUSTER_ID: "pc-missing0001"}, "does not exist", ErrorCode.CLUSTER_NOT_FOUND),
    ],
)
def test_prechecks_refuse_with_clear_errors_and_no_reset(
    emu: EmulatorProcess,
    provider: MakeProvider,
    overrides: dict[str, str],
    needle: str,
    code: ErrorCode,
) -> None:
    with pytest.raises(ResetError, match=needle) as info:
        provider().create(inputs(account_password=NEW_PASSWORD, **overrides))
    assert info.value.code == code
    assert NEW_PASSWORD not in str(info.value)
    assert emu.resets() == []


def test_waits_for_a_cluster_in_maintenance(emu: EmulatorProcess, provider: MakeProvider) -> None:
    def end_maintenance_once_seen() -> None:
        # Logged once answered: the provider has seen Maintaining, and must look again.
        emu.wait_for(
            lambda: bool(emu.requests(action="DescribeDBClusterAttribute")),
            what="the provider's first look at the cluster",
        )
        emu.patch_cluster("pc-maint0000001", status="Running")

    ender = threading.Thread(target=end_maintenance_once_seen)
    ender.start()
    try:
        outs = provider().create(inputs(db_cluster_id="pc-maint0000001")).outs or {}
    finally:
        ender.join()
    assert outs[p.RESET_COUNT] == 1
    [_first, *later] = emu.requests(action="DescribeDBClusterAttribute")
    assert later, "the provider reset without looking at the cluster again"


def test_cluster_that_stays_in_maintenance_times_out(
    emu: EmulatorProcess, provider: MakeProvider
) -> None:
    start = time.monotonic()
    with pytest.raises(ResetTimeoutError, match=r"timed out after timeout_seconds=2 .*Maintaining"):
        provider().create(inputs(db_cluster_id="pc-maint0000001", timeout_seconds=2))
    assert time.monotonic() - start >= 2
    assert emu.resets() == []


def test_locked_account_stops_the_wait_at_once(
    emu: EmulatorProcess, provider: MakeProvider
) -> None:
    emu.patch_account(CLUSTER, ACCOUNT, lock_state="Lock")
    emu.clear_requests()
    with pytest.raises(ResetError, match="locked") as info:
        provider().create(inputs())
    assert info.value.code == ErrorCode.ACCOUNT_LOCKED
    # At once: the refused reset is followed by one look at the account (the cause), no
    # poll waiting for a change.
    actions = [r["action"] for r in emu.requests()]
    assert actions.count("ResetAccount") == 1
    assert actions[actions.index("ResetAccount") + 1 :] == ["DescribeAccounts"]


# -- faults and retries ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "error", "code": "ConcurrentTaskExceeded", "status": 403, "count": 2},
        {
            "kind": "error",
            "code": "Throttling.User",
            "status": 400,
            "retry_after_ms": 1200,
            "count": 1,
        },
        {"kind": "error", "code": "ServiceUnavailable", "status": 503, "count": 2},
        {"kind": "error", "code": "InternalError", "status": 500, "count": 1},
        {"kind": "drop", "count": 1},
        {"kind": "latency", "latency_ms": 500, "count": 1},
    ],
)
def test_transient_faults_are_retried_to_success(
    emu: EmulatorProcess, provider: MakeProvider, fault: dict[str, Any]
) -> None:
    emu.add_fault(action="ResetAccount", **fault)
    start = time.monotonic()
    outs = provider().create(inputs(account_password=NEW_PASSWORD)).outs or {}
    elapsed = time.monotonic() - start
    calls = emu.resets()
    expected = 1 if fault["kind"] == "latency" else fault["count"] + 1
    assert len(calls) == expected
    assert calls[-1]["status"] == 200 and outs[p.LAST_RESET_REQUEST_ID] == calls[-1]["request_id"]
    if "retry_after_ms" in fault:
        assert elapsed >= fault["retry_after_ms"] / 1000
    assert emu.verify_password(CLUSTER, ACCOUNT, NEW_PASSWORD)


def test_terminal_error_is_not_retried(emu: EmulatorProcess, provider: MakeProvider) -> None:
    emu.add_fault(action="ResetAccount", kind="error", code="Forbidden.RAM", status=403, count=5)
    with pytest.raises(ApiCallError, match="polardb:ResetAccount") as info:
        provider().create(inputs())
    assert (info.value.code, info.value.api_code) == (ErrorCode.PERMISSION_DENIED, "Forbidden.RAM")
    assert len(emu.resets()) == 1


def test_failure_outlasting_the_deadline_gives_a_clear_error(
    emu: EmulatorProcess, provider: MakeProvider
) -> None:
    emu.add_fault(
        action="ResetAccount", kind="error", code="ConcurrentTaskExceeded", status=403, count=100
    )
    start = time.monotonic()
    with pytest.raises(
        ApiCallError, match=r"busy.*Gave up after timeout_seconds=3 \(\d+\.\d s elapsed\)"
    ) as info:
        provider().create(inputs(timeout_seconds=3, account_password=NEW_PASSWORD))
    # Lower bounds only: it kept trying until the deadline (a loaded machine adds, never removes).
    reported = re.search(r"\((\d+\.\d) s elapsed\)", str(info.value))
    assert reported is not None and float(reported.group(1)) >= 3.0
    assert time.monotonic() - start >= 3
    assert info.value.code == ErrorCode.CLUSTER_BUSY
    assert "ConcurrentTaskExceeded" in str(info.value) and NEW_PASSWORD not in str(info.value)
    assert len(emu.resets()) >= 3


# -- read (refresh) --------------------------------------------------------------------------


def test_read_reports_drift_and_disappearance(emu: EmulatorProcess, provider: MakeProvider) -> None:
    prov = provider()
    outs = prov.create(inputs()).outs or {}
    emu.clear_requests()
    emu.patch_account(CLUSTER, ACCOUNT, lock_state="Lock")
    read = prov.read(f"{CLUSTER}:{ACCOUNT}", {**outs, "__provider": "blob"})
    assert read.id == f"{CLUSTER}:{ACCOUNT}"
    assert (read.outs or {})[p.ACCOUNT_LOCK_STATE] == "Lock"
    assert (read.outs or {})[p.RESET_COUNT] == 1
    assert emu.writes() == []
    emu.delete_account(CLUSTER, ACCOUNT)
    assert prov.read(f"{CLUSTER}:{ACCOUNT}", outs).id == ""
    gone = {**outs, p.DB_CLUSTER_ID: "pc-deleted00001"}
    assert prov.read(f"pc-deleted00001:{ACCOUNT}", gone).id == ""


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The provider's warnings (outside the provider host they go to its log)."""
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_privilege_check_without_a_sql_server_is_a_warning_not_drift(
    emu: EmulatorProcess, provider: MakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """The memory backend's endpoints never connect: create and refresh warn and succeed."""
    prov = provider()
    outs = prov.create(inputs(account_password=NEW_PASSWORD)).outs or {}
    assert outs[p.PRIVILEGES_OK] is None and outs[p.PRIVILEGES_CHECKED_AT]
    assert [r["action"] for r in emu.requests()][-1] == "DescribeDBClusterEndpoints"
    (warning,) = [w for w in warnings_in(caplog) if "not checked" in w]
    assert f"{CLUSTER}.emulator.invalid:3306" in warning and "not drift" in warning

    emu.clear_requests()
    caplog.clear()
    emu.add_fault(action="DescribeDBClusterEndpoints", kind="error", code="Forbidden.RAM")
    read = prov.read(f"{CLUSTER}:{ACCOUNT}", {**outs, "__provider": "blob"}).outs or {}
    assert read[p.PRIVILEGES_OK] is None and read[p.ACCOUNT_STATUS] == "Available"
    (warning,) = warnings_in(caplog)
    assert "could not be looked up" in warning and "polardb:DescribeDBClusterEndpoints" in warning
    assert emu.writes() == []
    assert NEW_PASSWORD not in caplog.text


def test_delete_makes_no_api_call(emu: EmulatorProcess, provider: MakeProvider) -> None:
    prov = provider()
    outs = prov.create(inputs()).outs or {}
    emu.clear_requests()
    prov.delete(f"{CLUSTER}:{ACCOUNT}", outs)
    assert emu.requests() == []


# -- credentials and endpoints ---------------------------------------------------------------


def test_credentials_from_environment(
    emu: EmulatorProcess, provider: MakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
    monkeypatch.setenv("ALIBABA_CLOUD_REGION", "cn-hangzhou")
    monkeypatch.setenv("ALIBABA_CLOUD_ENDPOINT_POLARDB", emu.base_url)
    provider({}).create(inputs())
    assert emu.resets()[0]["access_key_id"] == ACCESS_KEY_ID


def test_credentials_from_legacy_environment(
    emu: EmulatorProcess, provider: MakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALICLOUD_ACCESS_KEY", ACCESS_KEY_ID)
    monkeypatch.setenv("ALICLOUD_SECRET_KEY", ACCESS_KEY_SECRET)
    monkeypatch.setenv("ALICLOUD_REGION", "cn-hangzhou")
    provider({}).create(inputs(endpoint=emu.base_url))
    assert emu.resets()[0]["access_key_id"] == ACCESS_KEY_ID


def test_sts_credentials_from_config(emu: EmulatorProcess, provider: MakeProvider) -> None:
    config = stack_config(
        emu,
        **{
            "alicloud:accessKey": STS_KEY_ID,
            "alicloud:secretKey": STS_KEY_SECRET,
            "alicloud:securityToken": STS_TOKEN,
        },
    )
    provider(config).create(inputs())
    assert emu.resets()[0]["access_key_id"] == STS_KEY_ID


def test_wrong_secret_is_a_clear_error(emu: EmulatorProcess, provider: MakeProvider) -> None:
    config = stack_config(emu, **{"alicloud:secretKey": "not-the-secret"})
    with pytest.raises(ResetError, match="alicloud:secretKey") as info:
        provider(config).create(inputs())
    assert info.value.code == ErrorCode.INVALID_CREDENTIALS
    assert "SignatureDoesNotMatch" in str(info.value) and "not-the-secret" not in str(info.value)
    assert emu.resets() == []


def test_missing_region_fails_before_any_call(emu: EmulatorProcess, provider: MakeProvider) -> None:
    config = stack_config(emu, **{"alicloud:region": ""})
    with pytest.raises(ConfigurationError, match="no region") as info:
        provider(config).create(inputs())
    assert info.value.code == ErrorCode.INVALID_CONFIGURATION
    assert emu.requests() == []


def test_default_credential_chain_with_cli_profile(emu: EmulatorProcess, tmp_path: Path) -> None:
    """alicloud:profile selects an aliyun CLI profile (the chain reads HOME at import: subprocess)."""
    aliyun = tmp_path / ".aliyun"
    aliyun.mkdir()
    profile = {
        "mode": "AK",
        "name": "emu",
        "access_key_id": ACCESS_KEY_ID,
        "access_key_secret": ACCESS_KEY_SECRET,
        "region_id": "cn-hangzhou",
    }
    (aliyun / "config.json").write_text(json.dumps({"current": "emu", "profiles": [profile]}))
    script = f"""
import json
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi_polardb_reset import PrivilegedAccountResetProvider
prov = PrivilegedAccountResetProvider()
prov.configure(ConfigureRequest(Config({{"alicloud:profile": "emu", "alicloud:region": "cn-hangzhou"}}, "x")))
out = prov.create({{"db_cluster_id": "{CLUSTER}", "account_name": "{ACCOUNT}", "timeout_seconds": 30,
                    "endpoint": "{emu.base_url}"}})
print(json.dumps({{"id": out.id}}))
"""
    env = {k: v for k, v in os.environ.items() if k not in CRED_ENV}
    env.update(HOME=str(tmp_path), ALIBABA_CLOUD_ECS_METADATA_DISABLED="true")
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["id"] == f"{CLUSTER}:{ACCOUNT}"
    assert emu.resets()[0]["access_key_id"] == ACCESS_KEY_ID


def test_no_credentials_anywhere_is_a_clear_error(emu: EmulatorProcess, tmp_path: Path) -> None:
    script = f"""
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi_polardb_reset import PrivilegedAccountResetProvider, ConfigurationError
prov = PrivilegedAccountResetProvider()
prov.configure(ConfigureRequest(Config({{"alicloud:region": "cn-hangzhou"}}, "x")))
try:
    prov.create({{"db_cluster_id": "{CLUSTER}", "account_name": "{ACCOUNT}", "timeout_seconds": 30,
                 "endpoint": "{emu.base_url}"}})
except ConfigurationError as exc:
    print("CONFIG-ERROR", exc)
"""
    env = {k: v for k, v in os.environ.items() if k not in CRED_ENV}
    env.update(HOME=str(tmp_path), ALIBABA_CLOUD_ECS_METADATA_DISABLED="true")
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert "CONFIG-ERROR no Alibaba Cloud credentials found" in done.stdout, done.stderr
    assert emu.requests() == []


@pytest.fixture
def tls_emulator(tmp_path: Path) -> Iterator[EmulatorProcess]:
    """A TLS emulator of this test's own: a new port, so the SDK's pool of verified
    connections (per host and port) never carries over from another test, in any order."""
    seed = write_seed(tmp_path / "seed.yaml")
    process = EmulatorProcess(seed, tls=True)
    yield process
    process.stop()


def test_tls_without_the_ca_is_refused(tls_emulator: EmulatorProcess) -> None:
    prov = PrivilegedAccountResetProvider()
    prov.configure(ConfigureRequest(Config(stack_config(tls_emulator), "polardb-reset")))
    with pytest.raises(ResetError, match="could not be reached") as info:
        prov.create(inputs(timeout_seconds=2))
    assert info.value.code == ErrorCode.ENDPOINT_UNREACHABLE
    assert "SSLError" in str(info.value)


def test_tls_endpoint_with_ca_bundle(tls_emulator: EmulatorProcess) -> None:
    assert tls_emulator.protocol == "https" and tls_emulator.ca_file
    config = stack_config(tls_emulator, **{"polardbReset:caBundle": tls_emulator.ca_file})
    prov = PrivilegedAccountResetProvider()
    prov.configure(ConfigureRequest(Config(config, "polardb-reset")))
    outs = prov.create(inputs(account_password=NEW_PASSWORD)).outs or {}
    assert outs[p.EFFECTIVE_ENDPOINT].startswith("https://")
    assert tls_emulator.verify_password(CLUSTER, ACCOUNT, NEW_PASSWORD)


# -- secrets ---------------------------------------------------------------------------------


def test_no_secret_in_logs_errors_or_emulator_output(
    emu: EmulatorProcess, provider: MakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    prov = provider()
    outs = prov.create(inputs(account_password=NEW_PASSWORD)).outs or {}
    emu.add_fault(
        action="ResetAccount", kind="error", code="InvalidAccountPassword.Malformed", status=400
    )
    with pytest.raises(ResetError) as refused:
        prov.update("id", outs, inputs(account_password="Th1rd!password"))
    assert refused.value.code == ErrorCode.INVALID_PASSWORD
    emu.add_fault(action="ResetAccount", kind="drop", count=50)
    with pytest.raises(ResetError) as dropped:
        prov.update("id", outs, inputs(account_password="F0urth!password", timeout_seconds=2))
    assert dropped.value.code == ErrorCode.ENDPOINT_UNREACHABLE
    errors = [str(refused.value), str(dropped.value)]
    written = "\n".join(
        [
            caplog.text,
            *errors,
            public(outs),
            json.dumps(emu.requests()),
            json.dumps(emu.state()),
            emu.stderr_text(),
        ]
    )
    for secret in (
        NEW_PASSWORD,
        "Th1rd!password",
        "F0urth!password",
        ACCESS_KEY_SECRET,
        *SEED_PASSWORDS,
    ):
        assert secret not in written
        assert secret.replace("!", "%21") not in written
