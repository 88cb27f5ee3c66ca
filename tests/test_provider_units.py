"""Unit tests of the provider's pure parts: validation, diff, errors, settings, retry policy."""

from __future__ import annotations

import base64
import string
import time

import dill
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_polardb_reset import PrivilegedAccountResetProvider, _diff, _fingerprint, _settings
from pulumi_polardb_reset import _props as p
from pulumi_polardb_reset._errors import (
    ApiFailure,
    ConfigurationError,
    describe_failure,
    is_retryable,
)
from pulumi_polardb_reset._retry import (
    ApiError,
    Backoff,
    Deadline,
    WaitTimeoutError,
    call_with_retries,
    wait_until,
)
from pulumi_polardb_reset._validation import (
    PASSWORD_SPECIALS,
    normalize_inputs,
    password_problems,
    validate_account_name,
    validate_inputs,
)

LOWER, UPPER, DIGITS = string.ascii_lowercase, string.ascii_uppercase, string.digits
VALID = {"db_cluster_id": "pc-abc123", "account_name": "dbadmin"}


# -- validation -----------------------------------------------------------------------------


def _classes(pw: str) -> int:
    return sum(
        (
            any(c in UPPER for c in pw),
            any(c in LOWER for c in pw),
            any(c in DIGITS for c in pw),
            any(c in PASSWORD_SPECIALS for c in pw),
        )
    )


@given(st.text(alphabet=LOWER + UPPER + DIGITS + PASSWORD_SPECIALS, min_size=0, max_size=40))
def test_password_policy_matches_the_rules(pw: str) -> None:
    ok = 8 <= len(pw) <= 32 and _classes(pw) >= 3
    assert (password_problems(pw) == []) == ok


@given(
    st.text(min_size=8, max_size=32).filter(
        lambda s: any(c not in LOWER + UPPER + DIGITS + PASSWORD_SPECIALS for c in s)
    )
)
def test_password_with_foreign_characters_is_refused_without_echo(pw: str) -> None:
    problems = password_problems(pw)
    assert any("not allowed" in x for x in problems)
    failures = validate_inputs({**VALID, "account_password": pw})
    assert [f.property for f in failures] == ["account_password"]
    if len(pw.strip()) >= 3:
        assert pw not in failures[0].reason


@given(st.from_regex(r"[a-z][a-z0-9_]{0,14}[a-z0-9]", fullmatch=True))
def test_valid_account_names_pass(name: str) -> None:
    assert validate_account_name(name) is None or name in {"root", "admin"}


@pytest.mark.parametrize("name", ["a", "Admin1", "1abc", "abc_", "a-b", "x" * 17, "root", ""])
def test_invalid_account_names_fail_with_the_property(name: str) -> None:
    failures = validate_inputs({**VALID, "account_name": name})
    assert [f.property for f in failures] == ["account_name"]


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"db_cluster_id": "rm-abc"}, "db_cluster_id"),
        ({"db_cluster_id": "pc-ABC"}, "db_cluster_id"),
        ({"reset_nonce": 1.5}, "reset_nonce"),
        ({"reset_nonce": True}, "reset_nonce"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": "10"}, "timeout_seconds"),
        ({"region": "Hangzhou"}, "region"),
        ({"endpoint": "http://x/path"}, "endpoint"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_each_bad_input_names_its_property(props: dict[str, object], prop: str) -> None:
    assert [f.property for f in validate_inputs({**VALID, **props})] == [prop]


def test_unknowns_at_preview_are_accepted() -> None:
    unknown = {k: p.UNKNOWN for k in p.INPUTS}
    assert validate_inputs(unknown) == []


def test_normalize_applies_defaults_and_stringifies_nonce() -> None:
    out = normalize_inputs({**VALID, "reset_nonce": 7})
    assert out["timeout_seconds"] == p.DEFAULT_TIMEOUT_SECONDS
    assert out["reset_nonce"] == "7"


# -- fingerprint and diff --------------------------------------------------------------------


def test_fingerprint_is_salted_and_verifiable() -> None:
    a, b = _fingerprint.fingerprint("Adm1n!pass"), _fingerprint.fingerprint("Adm1n!pass")
    assert a != b and "Adm1n!pass" not in a
    assert _fingerprint.matches("Adm1n!pass", a) and not _fingerprint.matches("Other!pass1", a)
    assert not _fingerprint.matches("Adm1n!pass", None)
    assert not _fingerprint.matches("Adm1n!pass", "garbage")


OLD = {
    "db_cluster_id": "pc-abc123",
    "account_name": "dbadmin",
    "reset_nonce": "1",
    "timeout_seconds": 900,
    "region": None,
    "endpoint": None,
    p.PASSWORD_FINGERPRINT: _fingerprint.fingerprint("Adm1n!pass"),
    "__provider": "old-blob",
}
SAME = {
    **{k: v for k, v in OLD.items() if k in p.INPUTS},
    "account_password": "Adm1n!pass",
    "__provider": "old-blob",
}


@pytest.mark.parametrize(
    ("change", "changes", "replaces"),
    [
        ({}, False, []),
        ({"__provider": "new-blob-after-upgrade"}, False, []),
        ({"reset_nonce": "2"}, True, []),
        ({"reset_nonce": None}, True, []),
        ({"reset_nonce": p.UNKNOWN}, True, []),
        ({"account_password": "N3w!passw0rd"}, True, []),
        ({"account_password": None}, False, []),
        ({"account_password": p.UNKNOWN}, True, []),
        ({"region": "cn-shanghai"}, False, []),
        ({"endpoint": "http://127.0.0.1:1"}, False, []),
        ({"timeout_seconds": 60}, False, []),
        ({"db_cluster_id": "pc-other1"}, True, ["db_cluster_id"]),
        ({"account_name": "otheradmin"}, True, ["account_name"]),
    ],
)
def test_diff_table(change: dict[str, object], changes: bool, replaces: list[str]) -> None:
    decision = _diff.decide(OLD, {**SAME, **change})
    assert decision.changes is changes
    assert decision.replaces == replaces


def test_password_set_for_the_first_time_resets() -> None:
    olds = {**OLD, p.PASSWORD_FINGERPRINT: None}
    assert _diff.decide(olds, SAME).changes


def test_nonce_int_and_str_are_the_same_nonce() -> None:
    assert not _diff.decide({**OLD, "reset_nonce": "7"}, {**SAME, "reset_nonce": 7}).changes


# -- error mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "needle"),
    [
        ("InvalidDBCluster.NotFound", 404, "does not exist"),
        ("InvalidDBClusterId.NotFound", 404, "does not exist"),
        ("InvalidDBClusterId.Malformed", 404, "not a valid PolarDB cluster ID"),
        ("InvalidAccountName.Malformed", 400, "privileged"),
        ("ConcurrentTaskExceeded", 403, "busy"),
        ("Forbidden.RAM", 403, "polardb:ResetAccount"),
        ("SignatureDoesNotMatch", 400, "alicloud:secretKey"),
        ("InvalidAccessKeyId.NotFound", 404, "alicloud:accessKey"),
        ("Throttling.User", 400, "throttled"),
        ("ServiceUnavailable", 503, "failed"),
        ("OperationDenied.DBClusterStatus", 400, "Running"),
    ],
)
def test_error_messages_name_cluster_account_and_remedy(
    code: str, status: int, needle: str
) -> None:
    err = describe_failure(
        ApiFailure(code=code, message="server text", status=status, request_id="RID-1"),
        action="ResetAccount",
        cluster="pc-abc123",
        account="dbadmin",
    )
    text = str(err)
    assert needle in text and code in text and "RID-1" in text
    assert "pc-abc123" in text or "alicloud" in text or "clock" in text


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        ("ConcurrentTaskExceeded", 403, True),
        ("Throttling.User", 400, True),
        ("OperationDenied.DBClusterStatus", 400, True),
        ("InternalError", 500, True),
        ("SomethingNew", 502, True),
        ("InvalidDBCluster.NotFound", 404, False),
        ("InvalidAccountName.Malformed", 400, False),
        ("Forbidden.RAM", 403, False),
        ("SignatureDoesNotMatch", 400, False),
        ("InvalidAccessKeyId.NotFound", 404, False),
    ],
)
def test_retry_classification(code: str, status: int, retryable: bool) -> None:
    assert is_retryable(code, status) is retryable


# -- settings --------------------------------------------------------------------------------


def test_settings_precedence_config_over_env() -> None:
    config = {
        "alicloud:accessKey": "CFGID",
        "alicloud:secretKey": "cfgsecret",
        "alicloud:region": "cn-beijing",
    }
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "ENVID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "envsecret",
        "ALIBABA_CLOUD_REGION": "cn-shanghai",
    }
    s = _settings.resolve({}, config, env)
    assert isinstance(s.credentials, _settings.StaticCredentials)
    assert (s.credentials.access_key_id, s.region) == ("CFGID", "cn-beijing")
    assert "cfgsecret" not in repr(s)


def test_settings_env_then_legacy_env_then_chain() -> None:
    env = {
        "ALICLOUD_ACCESS_KEY": "OLDID",
        "ALICLOUD_SECRET_KEY": "old",
        "ALICLOUD_REGION": "cn-qingdao",
    }
    s = _settings.resolve({}, {}, env)
    assert isinstance(s.credentials, _settings.StaticCredentials)
    assert (s.credentials.access_key_id, s.region) == ("OLDID", "cn-qingdao")
    chain = _settings.resolve({"region": "cn-hangzhou"}, {"alicloud:profile": "prod"}, {})
    assert chain.credentials == _settings.ChainCredentials(profile="prod")


def test_settings_endpoint_precedence_and_scheme() -> None:
    cfg = {
        "alicloud:region": "cn-hangzhou",
        "alicloud:endpoints": '[{"polardb": "cfg.example:443"}]',
    }
    assert _settings.resolve({}, cfg, {}).endpoint == "cfg.example:443"
    env = {"ALIBABA_CLOUD_ENDPOINT_POLARDB": "http://127.0.0.1:8080"}
    s = _settings.resolve({}, cfg, env)
    assert (s.endpoint, s.protocol) == ("127.0.0.1:8080", "http")
    s = _settings.resolve({"endpoint": "https://res.example"}, cfg, env)
    assert (s.endpoint, s.protocol) == ("res.example", "https")
    assert _settings.resolve({}, {"alicloud:region": "cn-hangzhou"}, {}).endpoint is None


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({}, "no region"),
        ({"alicloud:region": "cn-hangzhou", "alicloud:accessKey": "ID"}, "alicloud:secretKey"),
        (
            {"alicloud:region": "cn-hangzhou", "alicloud:endpoints": "{not json"},
            "alicloud:endpoints",
        ),
    ],
)
def test_settings_errors_are_specific(config: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigurationError, match=needle):
        _settings.resolve({}, config, {})


# -- retry policy ----------------------------------------------------------------------------

FAST = Backoff(initial=0.01, maximum=0.02, jitter=0)


def _failing(codes: list[str]) -> tuple[list[int], object]:
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= len(codes):
            raise ApiError(ApiFailure(code=codes[len(calls) - 1], message="x", status=403))
        return "ok"

    return calls, call


def test_retryable_errors_are_retried_until_success() -> None:
    calls, call = _failing(["ConcurrentTaskExceeded", "Throttling.User"])
    assert call_with_retries(call, deadline=Deadline(5), backoff=FAST) == "ok"  # type: ignore[arg-type]
    assert len(calls) == 3


def test_terminal_errors_are_not_retried() -> None:
    calls, call = _failing(["Forbidden.RAM"])
    with pytest.raises(ApiError):
        call_with_retries(call, deadline=Deadline(5), backoff=FAST)  # type: ignore[arg-type]
    assert len(calls) == 1


def test_retries_stop_at_the_deadline() -> None:
    calls, call = _failing(["ServiceUnavailable"] * 1000)
    start = time.monotonic()
    with pytest.raises(ApiError):
        call_with_retries(call, deadline=Deadline(0.3), backoff=FAST)  # type: ignore[arg-type]
    assert time.monotonic() - start < 2
    assert 3 < len(calls) < 1000


def test_retry_after_is_honoured() -> None:
    calls: list[float] = []

    def call() -> str:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise ApiError(
                ApiFailure(code="Throttling.User", message="x", status=400, retry_after_seconds=0.3)
            )
        return "ok"

    assert call_with_retries(call, deadline=Deadline(5), backoff=FAST) == "ok"
    assert calls[1] - calls[0] >= 0.3


def test_wait_until_polls_and_times_out_with_last_value() -> None:
    seen = iter(["Creating", "Creating", "Available"])
    assert (
        wait_until(
            lambda: next(seen), lambda s: s == "Available", deadline=Deadline(5), backoff=FAST
        )
        == "Available"
    )
    with pytest.raises(WaitTimeoutError) as info:
        wait_until(
            lambda: "Creating", lambda s: s == "Available", deadline=Deadline(0.1), backoff=FAST
        )
    assert info.value.last == "Creating"


# -- pickling --------------------------------------------------------------------------------


def test_provider_pickles_by_reference_and_small() -> None:
    provider = PrivilegedAccountResetProvider()
    provider.leaked = "ALIBABA-SECRET"  # type: ignore[attr-defined]
    blob = dill.dumps(provider, recurse=True)
    encoded = base64.b64encode(blob)
    assert len(encoded) < 200, len(encoded)
    assert b"ALIBABA-SECRET" not in blob
    assert b"pulumi_polardb_reset._provider" in blob
    assert isinstance(dill.loads(blob), PrivilegedAccountResetProvider)


def test_importing_the_package_does_not_import_the_sdk() -> None:
    """The SDK (and the credential chain, which reads env at import) load only for a call."""
    import subprocess
    import sys

    code = (
        "import sys, pulumi_polardb_reset\n"
        "print(sorted(m for m in sys.modules if m.startswith(('alibabacloud', 'darabonba', 'Tea'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
