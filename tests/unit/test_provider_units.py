"""Unit tests of the provider's pure parts: validation, diff, errors, settings, retry policy."""

from __future__ import annotations

import base64
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import dill
import pytest
from conftest import FakeClock
from hypothesis import assume, given
from hypothesis import strategies as st

from pulumi_polardb_reset import PrivilegedAccountResetProvider
from pulumi_polardb_reset.cloud import _settings
from pulumi_polardb_reset.cloud._retry import Backoff, Deadline, call_with_retries, wait_until
from pulumi_polardb_reset.core import _convert as c
from pulumi_polardb_reset.core import _diff, _fingerprint
from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.core._convert import normalize_inputs, validate_inputs
from pulumi_polardb_reset.core._errors import (
    ApiCallError,
    ApiError,
    ApiFailure,
    ConfigurationError,
    ErrorCode,
    ResetError,
    ResetTimeoutError,
    WaitTimeoutError,
    describe_failure,
    is_retryable,
)
from pulumi_polardb_reset.core._validation import (
    PASSWORD_SPECIALS,
    password_problems,
    validate_account_name,
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
    assume(name not in {"root", "admin"})  # documented reserved names: refused below
    assert validate_account_name(name) is None


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


def decide_props(olds: Mapping[str, Any], news: Mapping[str, Any]) -> _diff.DiffDecision:
    """The diff decision for property maps, through the one conversion."""
    return _diff.decide(c.state_from_props(olds), c.inputs_from_props(news))


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
    decision = decide_props(OLD, {**SAME, **change})
    assert decision.changes is changes
    assert decision.replaces == replaces


def test_password_set_for_the_first_time_resets() -> None:
    olds = {**OLD, p.PASSWORD_FINGERPRINT: None}
    assert decide_props(olds, SAME).changes


def test_nonce_int_and_str_are_the_same_nonce() -> None:
    assert not decide_props({**OLD, "reset_nonce": "7"}, {**SAME, "reset_nonce": 7}).changes


# -- error mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_code", "status", "code", "needle"),
    [
        ("InvalidDBCluster.NotFound", 404, ErrorCode.CLUSTER_NOT_FOUND, "does not exist"),
        ("InvalidDBClusterId.NotFound", 404, ErrorCode.CLUSTER_NOT_FOUND, "does not exist"),
        ("InvalidDBClusterId.Malformed", 404, ErrorCode.INVALID_CLUSTER_ID, "not a valid"),
        ("InvalidAccountName.NotFound", 404, ErrorCode.ACCOUNT_NOT_FOUND, "does not exist"),
        ("InvalidAccountName.Malformed", 400, ErrorCode.INVALID_ACCOUNT_NAME, "privileged"),
        ("InvalidAccountPassword.Malformed", 400, ErrorCode.INVALID_PASSWORD, "8-32 characters"),
        ("ConcurrentTaskExceeded", 403, ErrorCode.CLUSTER_BUSY, "busy"),
        ("OperationDenied.DBClusterStatus", 400, ErrorCode.CLUSTER_NOT_READY, "Running"),
        ("IncorrectDBInstanceState", 400, ErrorCode.CLUSTER_NOT_READY, "Running"),
        ("Forbidden.RAM", 403, ErrorCode.PERMISSION_DENIED, "polardb:ResetAccount"),
        ("SignatureDoesNotMatch", 400, ErrorCode.INVALID_CREDENTIALS, "alicloud:secretKey"),
        ("InvalidAccessKeyId.NotFound", 404, ErrorCode.INVALID_CREDENTIALS, "alicloud:accessKey"),
        ("InvalidSecurityToken.Expired", 400, ErrorCode.INVALID_CREDENTIALS, "STS"),
        ("InvalidTimeStamp.Expired", 400, ErrorCode.CLOCK_SKEW, "clock"),
        ("Throttling.User", 400, ErrorCode.THROTTLED, "throttled"),
        ("ServiceUnavailable", 503, ErrorCode.SERVICE_ERROR, "service failed"),
        ("SomethingNew", 502, ErrorCode.SERVICE_ERROR, "service failed"),
        ("InvalidResponse", None, ErrorCode.INVALID_RESPONSE, "not a PolarDB API response"),
        ("SomethingElse", 400, ErrorCode.API_REQUEST_FAILED, "refused the request"),
    ],
)
def test_api_failures_map_to_stable_codes_and_say_what_to_do(
    api_code: str, status: int | None, code: ErrorCode, needle: str
) -> None:
    err = describe_failure(
        ApiFailure(code=api_code, message="server text", status=status, request_id="RID-1"),
        action="ResetAccount",
        cluster="pc-abc123",
        account="dbadmin",
    )
    assert (err.code, err.api_code, err.request_id, err.action) == (
        code,
        api_code,
        "RID-1",
        "ResetAccount",
    )
    assert needle in err.message and "server text" in err.message
    assert str(err).endswith(f" [{code}: {api_code}, request id RID-1]")


def test_transport_failure_is_endpoint_unreachable() -> None:
    failure = ApiFailure(code="Transport", message="ConnectionError: refused", transport=True)
    err = describe_failure(failure, action="DescribeAccounts", cluster="pc-a1", account="dbadmin")
    assert err.code == ErrorCode.ENDPOINT_UNREACHABLE and err.retryable
    assert "could not be reached" in err.message and "'pc-a1'" in err.message


def test_gave_up_message_states_timeout_and_real_elapsed_time() -> None:
    failure = ApiFailure(code="ConcurrentTaskExceeded", message="", status=403)
    err = describe_failure(
        failure,
        action="ResetAccount",
        cluster="pc-a1",
        account="dbadmin",
        timeout_seconds=30,
        elapsed_seconds=31.26,
        gave_up=True,
    )
    assert "Gave up after timeout_seconds=30 (31.3 s elapsed)." in str(err)
    terminal = describe_failure(
        ApiFailure(code="Forbidden.RAM", message="", status=403),
        action="ResetAccount",
        cluster="pc-a1",
        account="dbadmin",
        timeout_seconds=30,
        gave_up=True,
    )
    assert "Gave up" not in str(terminal)


def test_every_reset_error_has_a_stable_code() -> None:
    assert ResetError("x").code == ErrorCode.RESET_FAILED
    assert ConfigurationError("no region").code == ErrorCode.INVALID_CONFIGURATION
    assert str(ConfigurationError("no region")) == "no region [InvalidConfiguration]"
    assert ResetTimeoutError("slow").code == ErrorCode.TIMEOUT
    assert issubclass(ApiCallError, ResetError) and issubclass(ResetTimeoutError, ResetError)


def test_every_code_is_documented_in_the_resource_reference() -> None:
    page = (Path(__file__).parents[2] / "docs" / "resource.md").read_text()
    section = page.split("\n## Errors and retries\n", 1)[1].split("\n## ", 1)[0]
    missing = [c.value for c in ErrorCode if f"`{c.value}`" not in section]
    assert missing == []


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


def deadline_on(clock: FakeClock, seconds: float) -> Deadline:
    """A deadline ``seconds`` from now on ``clock`` (it moves only when the policy sleeps)."""
    return Deadline(seconds, clock=clock, sleep=clock.sleep)


def _failing(codes: list[str]) -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= len(codes):
            raise ApiError(ApiFailure(code=codes[len(calls) - 1], message="x", status=403))
        return "ok"

    return calls, call


def test_retryable_errors_are_retried_until_success() -> None:
    calls, call = _failing(["ConcurrentTaskExceeded", "Throttling.User"])
    assert call_with_retries(call, deadline=Deadline(5), backoff=FAST) == "ok"
    assert len(calls) == 3


def test_terminal_errors_are_not_retried() -> None:
    calls, call = _failing(["Forbidden.RAM"])
    with pytest.raises(ApiError) as info:
        call_with_retries(call, deadline=Deadline(5), backoff=FAST)
    assert info.value.failure.code == "Forbidden.RAM"
    assert len(calls) == 1


@pytest.mark.parametrize("timeout", [3, 10, 30, 900])
def test_retries_use_the_whole_timeout(timeout: int) -> None:
    """Default backoff: the last attempt starts at the deadline, never a sleep earlier."""
    clock = FakeClock()
    attempts: list[float] = []

    def call() -> str:
        attempts.append(clock.now)
        raise ApiError(ApiFailure(code="ConcurrentTaskExceeded", message="busy", status=403))

    with pytest.raises(ApiError) as info:
        call_with_retries(call, deadline=deadline_on(clock, timeout))
    assert info.value.failure.code == "ConcurrentTaskExceeded"
    assert attempts[0] == 0 and attempts[-1] == pytest.approx(timeout)
    assert clock.now == pytest.approx(timeout)
    # Only the last sleep is cut short, to what remained.
    assert all(s >= 1.0 for s in clock.sleeps[:-1]) and len(attempts) == len(clock.sleeps) + 1


@pytest.mark.parametrize("timeout", [3, 10, 30, 900])
def test_waits_use_the_whole_timeout(timeout: int) -> None:
    clock = FakeClock()
    polls: list[float] = []

    def probe() -> str:
        polls.append(clock.now)
        return "Creating"

    with pytest.raises(WaitTimeoutError) as info:
        wait_until(probe, lambda s: s == "Available", deadline=deadline_on(clock, timeout))
    assert info.value.last == "Creating"
    assert polls[0] == 0 and polls[-1] == pytest.approx(timeout)
    assert clock.now == pytest.approx(timeout)


def test_slow_calls_give_up_once_the_deadline_has_passed() -> None:
    clock = FakeClock()
    starts: list[float] = []

    def call() -> str:
        starts.append(clock.now)
        clock.now += 2.0  # each attempt takes 2 s
        raise ApiError(ApiFailure(code="ServiceUnavailable", message="x", status=503))

    with pytest.raises(ApiError):
        call_with_retries(call, deadline=deadline_on(clock, 10), backoff=FAST)
    assert starts[-1] < 10 <= clock.now
    assert clock.now - starts[-1] == pytest.approx(2.0)


def test_retry_after_is_honoured() -> None:
    clock = FakeClock()
    attempts: list[float] = []

    def call() -> str:
        attempts.append(clock.now)
        if len(attempts) == 1:
            raise ApiError(
                ApiFailure(code="Throttling.User", message="x", status=400, retry_after_seconds=7)
            )
        return "ok"

    assert call_with_retries(call, deadline=deadline_on(clock, 30), backoff=FAST) == "ok"
    assert attempts == [0, 7]


def test_retry_after_beyond_the_deadline_is_cut_to_the_deadline() -> None:
    clock = FakeClock()
    attempts: list[float] = []

    def call() -> str:
        attempts.append(clock.now)
        raise ApiError(
            ApiFailure(code="Throttling.User", message="x", status=400, retry_after_seconds=60)
        )

    with pytest.raises(ApiError) as info:
        call_with_retries(call, deadline=deadline_on(clock, 5), backoff=FAST)
    assert info.value.failure.code == "Throttling.User"
    assert attempts == [0, 5]


def test_an_exception_that_is_not_an_api_error_is_never_retried() -> None:
    clock = FakeClock()
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        raise TypeError("unsupported operand type(s)")

    with pytest.raises(TypeError, match="unsupported operand"):
        call_with_retries(call, deadline=deadline_on(clock, 30))
    assert calls == [1] and clock.sleeps == []


def test_wait_until_polls_until_done() -> None:
    seen = iter(["Creating", "Creating", "Available"])
    clock = FakeClock()
    assert (
        wait_until(lambda: next(seen), lambda s: s == "Available", deadline=deadline_on(clock, 5))
        == "Available"
    )
    assert len(clock.sleeps) == 2


# -- pickling --------------------------------------------------------------------------------


def test_provider_pickles_by_reference_and_small() -> None:
    provider = PrivilegedAccountResetProvider()
    provider.leaked = "ALIBABA-SECRET"  # type: ignore[attr-defined]
    blob = dill.dumps(provider, recurse=True)
    encoded = base64.b64encode(blob)
    assert len(encoded) < 200, len(encoded)
    assert b"ALIBABA-SECRET" not in blob
    assert b"pulumi_polardb_reset.provider" in blob
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
