"""Permission drift in the provider, without I/O: diff rows, check plans, outputs, messages.

The provider's ``read``/``create``/``update`` run here with the network replaced: the
PolarDB calls (``Resetter``) and the SQL login (``_check.check_account``) are stubbed, so
these tests pin the semantics (what is recorded, what warns, what fails, what resets).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import types
from collections.abc import Iterator, Mapping
from concurrent import futures
from typing import Any

import pulumi
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_polardb_reset import PrivilegedAccountResetProvider, ResetError
from pulumi_polardb_reset._engine_log import EngineLog
from pulumi_polardb_reset.cloud import _settings
from pulumi_polardb_reset.cloud._client import AccountInfo, EndpointAddress
from pulumi_polardb_reset.cloud._operations import ResetOutcome, Resetter, choose_sql_address
from pulumi_polardb_reset.core import _convert as c
from pulumi_polardb_reset.core import _diff, _fingerprint
from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.core._convert import normalize_inputs, validate_inputs
from pulumi_polardb_reset.core._errors import ErrorCode
from pulumi_polardb_reset.core._validation import parse_sql_endpoint
from pulumi_polardb_reset.drift import _check
from pulumi_polardb_reset.drift._sql import SqlCheckResult
from pulumi_polardb_reset.dynamic import _host
from pulumi_polardb_reset.dynamic._resource import resource_props
from pulumi_polardb_reset.dynamic._targets import TargetConfigError, parse_targets
from pulumi_polardb_reset.lifecycle import _crud

MANAGED = "Adm1n!pass"
GIVEN = "Current!pw9"
FINGERPRINT = _fingerprint.fingerprint(MANAGED)
ENDPOINT = "db.example:3306"

#: Outputs of a state written before the check existed (0.1.0).
OLD_STATE: dict[str, Any] = {
    p.DB_CLUSTER_ID: "pc-abc123",
    p.ACCOUNT_NAME: "dbadmin",
    p.RESET_NONCE: "1",
    p.TIMEOUT_SECONDS: 900,
    p.PASSWORD_FINGERPRINT: FINGERPRINT,
    p.LAST_RESET_AT: "2026-01-01T00:00:00Z",
    p.LAST_RESET_REQUEST_ID: "RID-0",
    p.RESET_COUNT: 1,
    p.ACCOUNT_STATUS: "Available",
    p.ACCOUNT_TYPE: "Super",
    p.ACCOUNT_LOCK_STATE: "UnLock",
    p.EFFECTIVE_REGION: "cn-hangzhou",
    p.EFFECTIVE_ENDPOINT: "https://polardb.aliyuncs.com",
    "__provider": "blob",
}
#: The same resource checked once, privileges ok, managed password.
CHECKED: dict[str, Any] = {
    **OLD_STATE,
    p.CHECK_PRIVILEGES: True,
    p.SQL_CHECK_PASSWORD: MANAGED,
    p.PRIVILEGES_OK: True,
    p.MISSING_PRIVILEGES: [],
    p.PRIVILEGES_CHECKED_AT: "2026-01-02T00:00:00Z",
    p.PASSWORD_OK: True,
}
#: New inputs as check() returns them (defaults applied), password managed.
NEWS: dict[str, Any] = normalize_inputs(
    {
        p.DB_CLUSTER_ID: "pc-abc123",
        p.ACCOUNT_NAME: "dbadmin",
        p.RESET_NONCE: "1",
        p.ACCOUNT_PASSWORD: MANAGED,
        "__provider": "blob",
    }
)
NEWS_UNMANAGED = {k: v for k, v in NEWS.items() if k != p.ACCOUNT_PASSWORD}


def decide_props(olds: Mapping[str, Any], news: Mapping[str, Any]) -> _diff.DiffDecision:
    """The diff decision for property maps, through the one conversion."""
    return _diff.decide(c.state_from_props(olds), c.inputs_from_props(news))


def decide(olds: dict[str, Any], **changes: Any) -> _diff.DiffDecision:
    news = {**NEWS, **changes}
    return decide_props(olds, {k: v for k, v in news.items() if v is not None})


# -- diff rows ---------------------------------------------------------------------------


def test_a_state_from_before_the_check_is_no_change() -> None:
    assert decide(OLD_STATE) == _diff.DiffDecision(changes=False)
    unmanaged = {k: v for k, v in OLD_STATE.items() if k != p.PASSWORD_FINGERPRINT}
    assert not decide_props(unmanaged, NEWS_UNMANAGED).changes
    # Inputs as an old program registers them (no check_privileges at all).
    legacy = {k: v for k, v in NEWS.items() if k != p.CHECK_PRIVILEGES}
    assert not decide_props(OLD_STATE, legacy).changes


@pytest.mark.parametrize(
    ("olds", "changes", "expected"),
    [
        # (old outputs, new inputs changed, (changes, reset))
        (CHECKED, {}, (False, False)),
        ({**CHECKED, p.PRIVILEGES_OK: None, p.MISSING_PRIVILEGES: None}, {}, (False, False)),
        ({**CHECKED, p.PASSWORD_OK: None}, {}, (False, False)),
        ({**CHECKED, p.PRIVILEGES_OK: False, p.MISSING_PRIVILEGES: ["RELOAD"]}, {}, (True, True)),
        (
            {**CHECKED, p.PRIVILEGES_OK: False, p.MISSING_PRIVILEGES: ["GRANT OPTION"]},
            {},
            (True, True),
        ),
        # Drift while the check is being switched off: record, do not reset.
        (
            {**CHECKED, p.PRIVILEGES_OK: False, p.MISSING_PRIVILEGES: ["RELOAD"]},
            {p.CHECK_PRIVILEGES: False},
            (True, False),
        ),
        ({**CHECKED, p.PASSWORD_OK: False, p.PRIVILEGES_OK: None}, {}, (True, True)),
        (CHECKED, {p.CHECK_PRIVILEGES: False}, (True, False)),
        (CHECKED, {p.CHECK_PRIVILEGES: p.UNKNOWN}, (True, False)),
        (CHECKED, {p.SQL_ENDPOINT: ENDPOINT}, (True, False)),
        ({**CHECKED, p.SQL_ENDPOINT: ENDPOINT}, {p.SQL_ENDPOINT: ENDPOINT}, (False, False)),
        ({**CHECKED, p.SQL_ENDPOINT: ENDPOINT}, {}, (True, False)),
        (CHECKED, {p.SQL_ENDPOINT: p.UNKNOWN}, (True, False)),
        # check_password is only the login when account_password is not set.
        (CHECKED, {p.CHECK_PASSWORD: GIVEN}, (False, False)),
        (CHECKED, {p.RESET_NONCE: "2"}, (True, True)),
    ],
)
def test_diff_rows(
    olds: dict[str, Any], changes: dict[str, Any], expected: tuple[bool, bool]
) -> None:
    decision = decide(olds, **changes)
    assert (decision.changes, decision.reset) == expected, decision.reasons
    assert decision.replaces == []


def test_drift_reasons_name_the_missing_privileges() -> None:
    olds = {**CHECKED, p.PRIVILEGES_OK: False, p.MISSING_PRIVILEGES: ["GRANT OPTION", "RELOAD"]}
    assert decide(olds).reasons == ["permission drift: missing GRANT OPTION, RELOAD"]
    both = {**olds, p.PASSWORD_OK: False}
    decision = decide(both)
    assert decision.reset and decision.reasons == [
        "permission drift: missing GRANT OPTION, RELOAD",
        "password drift: the managed password no longer logs in",
    ]
    # Drift and a nonce bump in one update: still one reset.
    assert decide(both, **{p.RESET_NONCE: "2"}).reset


def test_password_drift_needs_a_password_to_restore() -> None:
    olds = {**CHECKED, p.PASSWORD_OK: False}
    assert not decide_props(olds, NEWS_UNMANAGED).changes
    assert decide(olds, **{p.ACCOUNT_PASSWORD: p.UNKNOWN}).reset


@pytest.mark.parametrize(
    ("stored", "given", "changes"),
    [
        (None, None, False),
        (None, GIVEN, True),
        (GIVEN, GIVEN, False),
        (GIVEN, "Other!pw77", True),
        (GIVEN, None, True),  # removed: forget it (this resource did not set it)
        (MANAGED, None, False),  # the password this resource set: the account still has it
        (GIVEN, p.UNKNOWN, True),
    ],
)
def test_check_password_rows(stored: str | None, given: str | None, changes: bool) -> None:
    olds = {**CHECKED, p.SQL_CHECK_PASSWORD: stored}
    news = {**NEWS_UNMANAGED, p.CHECK_PASSWORD: given}
    decision = decide_props(olds, {k: v for k, v in news.items() if v is not None})
    assert (decision.changes, decision.reset) == (changes, False)


def test_diff_never_names_a_password() -> None:
    olds = {**CHECKED, p.SQL_CHECK_PASSWORD: GIVEN, p.PASSWORD_OK: False, p.PRIVILEGES_OK: False}
    decision = decide(olds, **{p.CHECK_PASSWORD: "Other!pw77"})
    text = " ".join(decision.reasons)
    assert MANAGED not in text and GIVEN not in text and "Other!pw77" not in text


def plan_from_outputs(outputs: Mapping[str, Any]) -> _check.CheckPlan:
    """The refresh's check plan for ``outputs``, through the one conversion."""
    return _check.plan_from_state(c.state_from_props(outputs))


def plan_for_inputs(
    inputs: Mapping[str, Any], previous: Mapping[str, Any] | None = None
) -> _check.CheckPlan:
    """The create/update check plan for property maps, through the one conversion."""
    state = None if previous is None else c.state_from_props(previous)
    return _check.plan_for_inputs(c.inputs_from_props(inputs), state)


# -- check plans -------------------------------------------------------------------------


def test_plan_from_outputs() -> None:
    assert plan_from_outputs(CHECKED) == _check.CheckPlan(True, MANAGED, True, None)
    # An old state: enabled by default, nothing to log in with.
    old = plan_from_outputs(OLD_STATE)
    assert old.enabled and not old.runs and old.skip_reason is not None
    given = plan_from_outputs(
        {**CHECKED, p.SQL_CHECK_PASSWORD: GIVEN, p.SQL_ENDPOINT: "[::1]:3307"}
    )
    assert (given.password, given.managed, given.sql_endpoint) == (GIVEN, False, ("::1", 3307))
    assert not plan_from_outputs({**CHECKED, p.CHECK_PRIVILEGES: False}).enabled


def test_plan_for_inputs_prefers_the_managed_password() -> None:
    both = {**NEWS, p.CHECK_PASSWORD: GIVEN}
    assert plan_for_inputs(both).password == MANAGED
    assert plan_for_inputs(both).managed
    given = plan_for_inputs({**NEWS_UNMANAGED, p.CHECK_PASSWORD: GIVEN})
    assert (given.password, given.managed) == (GIVEN, False)
    # account_password removed (no reset): the account keeps the password set last.
    kept = plan_for_inputs(NEWS_UNMANAGED, CHECKED)
    assert (kept.password, kept.managed) == (MANAGED, True)
    # A check_password removed is not kept.
    dropped = plan_for_inputs(NEWS_UNMANAGED, {**CHECKED, p.SQL_CHECK_PASSWORD: GIVEN})
    assert dropped.password is None and dropped.skip_reason
    assert not plan_for_inputs({**NEWS, p.CHECK_PRIVILEGES: False}).runs


# -- recorded outputs and messages -------------------------------------------------------


def result(**fields: Any) -> SqlCheckResult:
    base: dict[str, Any] = {"status": "ok", "endpoint": ENDPOINT, "password_ok": True}
    return SqlCheckResult(**{**base, **fields})


OK = result()
DRIFT = result(status="drift", missing_privileges=("GRANT OPTION", "RELOAD"))
UNREACHABLE = result(
    status="unknown", password_ok=None, cause=f"the SQL endpoint {ENDPOINT} refused the connection"
)
REFUSED = result(status="unknown", password_ok=False, cause="access denied")


@pytest.mark.parametrize(
    ("check", "managed", "expected"),
    [
        (OK, True, (True, [], True)),
        (OK, False, (True, [], None)),
        (DRIFT, True, (False, ["GRANT OPTION", "RELOAD"], True)),
        (UNREACHABLE, True, (None, None, None)),
        (REFUSED, True, (None, None, False)),
        (REFUSED, False, (None, None, None)),
    ],
)
def test_record(check: SqlCheckResult, managed: bool, expected: tuple[Any, ...]) -> None:
    outs = c.check_record_props(_check.record(check, managed=managed, checked_at="T"))
    assert (outs[p.PRIVILEGES_OK], outs[p.MISSING_PRIVILEGES], outs[p.PASSWORD_OK]) == expected
    assert outs[p.PRIVILEGES_CHECKED_AT] == "T"
    assert c.check_record_props(_check.record(None, managed=True, checked_at="T")) == dict.fromkeys(
        p.CHECK_RESULT_OUTPUTS
    )


def test_warnings_say_what_happened() -> None:
    managed = _check.CheckPlan(True, MANAGED, True)
    given = _check.CheckPlan(True, GIVEN, False)
    where = {"cluster": "pc-abc123", "account": "dbadmin"}
    assert _check.warning_for(OK, managed, **where) is None
    assert _check.warning_for(None, _check.CheckPlan(False), **where) is None
    drift = _check.warning_for(DRIFT, managed, **where)
    assert drift is not None and "missing GRANT OPTION, RELOAD" in drift and ENDPOINT in drift
    unreachable = _check.warning_for(UNREACHABLE, managed, **where)
    assert unreachable is not None and "not drift" in unreachable and "refused" in unreachable
    assert "password drift" in str(_check.warning_for(REFUSED, managed, **where))
    assert "check_password was refused" in str(_check.warning_for(REFUSED, given, **where))
    skipped = plan_from_outputs(OLD_STATE)
    assert "not stored in its state" in str(_check.warning_for(None, skipped, **where))
    unmanaged = {**CHECKED, p.SQL_CHECK_PASSWORD: None}
    skipped = plan_from_outputs(unmanaged)
    assert "no password to log in with" in str(_check.warning_for(None, skipped, **where))
    lookup = _check.warning_for(
        None, managed, cause="its SQL endpoint could not be looked up", **where
    )
    assert lookup is not None and "looked up" in lookup
    for message in (drift, unreachable, lookup):
        assert MANAGED not in str(message)


def test_drift_after_a_reset_is_a_failure() -> None:
    managed = _check.CheckPlan(True, MANAGED, True)
    where = {"cluster": "pc-abc123", "account": "dbadmin", "request_id": "RID-9"}
    error = _check.drift_error(DRIFT, managed, **where)
    assert error is not None and error.code == ErrorCode.RESET_FAILED
    assert "RID-9" in str(error) and "GRANT OPTION, RELOAD" in str(error)
    assert "refused" in str(_check.drift_error(REFUSED, managed, **where))
    assert _check.drift_error(OK, managed, **where) is None
    assert _check.drift_error(UNREACHABLE, managed, **where) is None  # a warning, not a failure
    assert _check.drift_error(REFUSED, _check.CheckPlan(True, GIVEN, False), **where) is None


# -- the cluster endpoint ----------------------------------------------------------------


def address(kind: str, net: str, host: str, port: int | None = 3306) -> EndpointAddress:
    return EndpointAddress(kind, net, host, "10.0.0.1", port)


def test_choose_sql_address() -> None:
    assert choose_sql_address([]) is None
    answer = [
        address("Custom", "Private", "custom.example"),
        address("Primary", "Private", "primary.example"),
        address("Cluster", "Public", "public.example"),
        address("Cluster", "Private", "cluster.example", 3307),
    ]
    assert choose_sql_address(answer) == ("cluster.example", 3307)
    assert choose_sql_address(answer[:3]) == ("public.example", 3306)
    assert choose_sql_address(answer[:2]) == ("primary.example", 3306)
    assert choose_sql_address([address("Cluster", "Private", "", 3306)]) == ("10.0.0.1", 3306)
    assert choose_sql_address([address("Cluster", "Private", "x", None)]) is None
    assert choose_sql_address(answer[:1]) is None


# -- inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({p.CHECK_PRIVILEGES: "yes"}, p.CHECK_PRIVILEGES),
        ({p.SQL_ENDPOINT: "mysql://db:3306"}, p.SQL_ENDPOINT),
        ({p.SQL_ENDPOINT: "db:70000"}, p.SQL_ENDPOINT),
        ({p.CHECK_PASSWORD: ""}, p.CHECK_PASSWORD),
        ({p.CHECK_PASSWORD: "x" * 129}, p.CHECK_PASSWORD),
    ],
)
def test_bad_check_inputs_name_their_property(props: dict[str, Any], prop: str) -> None:
    failures = validate_inputs({p.DB_CLUSTER_ID: "pc-abc123", p.ACCOUNT_NAME: "dbadmin", **props})
    assert [f.property for f in failures] == [prop]
    assert "x" * 20 not in failures[0].reason


def test_check_inputs_defaults_and_endpoint_parsing() -> None:
    assert normalize_inputs({})[p.CHECK_PRIVILEGES] is True
    assert normalize_inputs({p.CHECK_PRIVILEGES: False})[p.CHECK_PRIVILEGES] is False
    assert parse_sql_endpoint("pc-x.rwlb.rds.aliyuncs.com:3306") == (
        "pc-x.rwlb.rds.aliyuncs.com",
        3306,
    )
    assert parse_sql_endpoint("10.0.0.5") == ("10.0.0.5", 3306)
    assert parse_sql_endpoint("[::1]:3307") == ("::1", 3307)
    assert parse_sql_endpoint("db:0") is None
    # A short weak password is fine: it is checked, never set.
    ok = {p.DB_CLUSTER_ID: "pc-abc123", p.ACCOUNT_NAME: "dbadmin", p.CHECK_PASSWORD: "old"}
    assert validate_inputs(ok) == []


def test_check_password_is_registered_as_a_secret(
    current_event_loop: asyncio.AbstractEventLoop,
) -> None:
    props = resource_props(None, {p.CHECK_PASSWORD: GIVEN, p.CHECK_PRIVILEGES: False})
    password = props[p.CHECK_PASSWORD]
    assert isinstance(password, pulumi.Output)
    # Secret, as the engine will store it (encrypted), and still the value given.
    assert current_event_loop.run_until_complete(password.is_secret()) is True
    assert current_event_loop.run_until_complete(password.future()) == GIVEN
    assert props[p.CHECK_PRIVILEGES] is False
    assert {p.CHECK_PASSWORD, p.SQL_CHECK_PASSWORD} <= set(p.SECRET_OUTPUTS)


def test_targets_take_check_keys() -> None:
    (target,) = parse_targets(
        [
            {
                "name": "a",
                "dbClusterId": "pc-abc123",
                "accountName": "dbadmin",
                "checkPrivileges": False,
                "sqlEndpoint": ENDPOINT,
            }
        ]
    )
    args = target.args(None, GIVEN)
    assert (args.check_privileges, args.sql_endpoint, args.check_password) == (
        False,
        ENDPOINT,
        GIVEN,
    )
    with pytest.raises(TargetConfigError, match=r"\(a\)\.checkPrivileges must be true or false"):
        parse_targets(
            [{"name": "a", "dbClusterId": "pc-a1", "accountName": "x", "checkPrivileges": "no"}]
        )
    with pytest.raises(TargetConfigError, match=r"\(a\)\.sqlEndpoint must be a string"):
        parse_targets(
            [{"name": "a", "dbClusterId": "pc-a1", "accountName": "x", "sqlEndpoint": 3306}]
        )


def test_sql_ca_bundle_settings() -> None:
    assert _settings.sql_ca_bundle({}, {}) is None
    assert _settings.sql_ca_bundle({}, {"POLARDB_RESET_SQL_CA_BUNDLE": "/env.pem"}) == "/env.pem"
    config = {"polardbReset:sqlCaBundle": "/config.pem", "polardbReset:caBundle": "/api.pem"}
    assert _settings.sql_ca_bundle(config, {"POLARDB_RESET_SQL_CA_BUNDLE": "/e"}) == "/config.pem"
    assert "polardbReset:sqlCaBundle" in _settings.CONFIG_KEYS


# -- the provider's methods, network stubbed ---------------------------------------------


class Calls:
    """What the stubbed network saw."""

    def __init__(self) -> None:
        self.resets: list[str | None] = []
        self.logins: list[tuple[str, int, str, str, str | None]] = []
        self.lookups = 0


@pytest.fixture
def net(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Calls, list[SqlCheckResult]]]:
    """Stub PolarDB (Resetter) and the SQL login; queue the check results to return."""
    calls = Calls()
    results: list[SqlCheckResult] = []
    account = AccountInfo("dbadmin", "Available", "Super", "UnLock")

    def run(self: Resetter, password: str | None) -> ResetOutcome:
        calls.resets.append(password)
        return ResetOutcome("RID-NEW", account)

    def sql_endpoint(self: Resetter) -> tuple[str, int]:
        calls.lookups += 1
        return "cluster.example", 3306

    def check_account(
        host: str, port: int, user: str, password: str, **kwargs: Any
    ) -> SqlCheckResult:
        calls.logins.append((host, port, user, password, kwargs.get("ca_bundle")))
        return results.pop(0)

    monkeypatch.setattr(Resetter, "run", run)
    monkeypatch.setattr(Resetter, "find_account", lambda self: account)
    monkeypatch.setattr(Resetter, "sql_endpoint", sql_endpoint)
    monkeypatch.setattr(_crud, "check_account", check_account)
    monkeypatch.delenv("POLARDB_RESET_SQL_CA_BUNDLE", raising=False)
    yield calls, results


@pytest.fixture
def provider() -> PrivilegedAccountResetProvider:
    prov = PrivilegedAccountResetProvider()
    config = {
        "alicloud:accessKey": "LTAI5tUnitKey",
        "alicloud:secretKey": "unit-secret",
        "alicloud:region": "cn-hangzhou",
        "polardbReset:sqlCaBundle": "/etc/polardb-ca.pem",
    }
    prov.configure(ConfigureRequest(Config(config, "polardb-reset")))
    return prov


def read(provider: PrivilegedAccountResetProvider, outputs: dict[str, Any]) -> dict[str, Any]:
    """The outputs of a refresh of ``outputs``."""
    outs = provider.read("pc-abc123:dbadmin", outputs).outs
    assert outs is not None
    return outs


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_read_records_drift_and_warns(
    net: tuple[Calls, list[SqlCheckResult]],
    provider: PrivilegedAccountResetProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls, results = net
    results.append(DRIFT)
    outs = read(provider, dict(CHECKED))
    assert (outs[p.PRIVILEGES_OK], outs[p.MISSING_PRIVILEGES]) == (
        False,
        ["GRANT OPTION", "RELOAD"],
    )
    assert outs[p.PASSWORD_OK] is True and outs[p.PRIVILEGES_CHECKED_AT] != "2026-01-02T00:00:00Z"
    assert c.is_secret(outs[p.SQL_CHECK_PASSWORD])
    assert calls.logins == [("cluster.example", 3306, "dbadmin", MANAGED, "/etc/polardb-ca.pem")]
    assert calls.resets == []  # refresh never resets
    (warning,) = warnings_of(caplog)
    assert "missing GRANT OPTION, RELOAD" in warning
    # ... and the next diff resets.
    assert provider.diff("id", outs | {p.SQL_CHECK_PASSWORD: MANAGED}, NEWS).changes


def test_read_of_an_unreachable_endpoint_is_null_and_one_warning(
    net: tuple[Calls, list[SqlCheckResult]],
    provider: PrivilegedAccountResetProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, results = net
    results.append(UNREACHABLE)
    drifted = {**CHECKED, p.PRIVILEGES_OK: False, p.MISSING_PRIVILEGES: ["RELOAD"]}
    outs = read(provider, drifted)
    # Unknown now: the older drift is not kept (nor is it reset on an unknown).
    assert (outs[p.PRIVILEGES_OK], outs[p.MISSING_PRIVILEGES], outs[p.PASSWORD_OK]) == (
        None,
        None,
        None,
    )
    (warning,) = warnings_of(caplog)
    assert ENDPOINT in warning and "refused the connection" in warning
    assert not provider.diff("id", outs | {p.SQL_CHECK_PASSWORD: MANAGED}, NEWS).changes


def test_read_uses_the_endpoint_override_and_skips_without_login(
    net: tuple[Calls, list[SqlCheckResult]],
    provider: PrivilegedAccountResetProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls, results = net
    results.append(OK)
    provider.read("id", {**CHECKED, p.SQL_ENDPOINT: "10.1.2.3:3307"})
    assert calls.lookups == 0 and calls.logins[0][:2] == ("10.1.2.3", 3307)

    outs = read(provider, dict(OLD_STATE))
    assert all(outs[k] is None for k in p.CHECK_RESULT_OUTPUTS if k != p.PRIVILEGES_CHECK_CAUSE)
    assert len(calls.logins) == 1  # no login without a password
    # Why, said once and recorded as data (the command reads the output, not the warning).
    (warning,) = [w for w in warnings_of(caplog) if "not checked" in w]
    assert "not stored in its state" in outs[p.PRIVILEGES_CHECK_CAUSE]
    assert warning.endswith(f"not checked: {outs[p.PRIVILEGES_CHECK_CAUSE]}.")

    caplog.clear()
    outs = read(provider, {**CHECKED, p.CHECK_PRIVILEGES: False})
    assert outs[p.PRIVILEGES_OK] is None and warnings_of(caplog) == []
    assert outs[p.PRIVILEGES_CHECK_CAUSE] is None  # disabled: nothing to explain
    assert len(calls.logins) == 1


def test_create_checks_once_after_the_reset_and_fails_on_drift(
    net: tuple[Calls, list[SqlCheckResult]], provider: PrivilegedAccountResetProvider
) -> None:
    calls, results = net
    results.append(OK)
    outs = provider.create(dict(NEWS)).outs or {}
    assert calls.resets == [MANAGED] and len(calls.logins) == 1
    assert (outs[p.PRIVILEGES_OK], outs[p.PASSWORD_OK], outs[p.CHECK_PRIVILEGES]) == (
        True,
        True,
        True,
    )
    assert c.plain(outs[p.SQL_CHECK_PASSWORD]) == MANAGED

    results.append(DRIFT)
    with pytest.raises(ResetError, match=r"still lacks GRANT OPTION, RELOAD") as info:
        provider.create(dict(NEWS))
    assert info.value.code == ErrorCode.RESET_FAILED and MANAGED not in str(info.value)

    results.append(UNREACHABLE)  # not drift: the create succeeds, null recorded
    outs = provider.create(dict(NEWS)).outs or {}
    assert outs[p.PRIVILEGES_OK] is None


def test_update_for_drift_resets_and_for_settings_only_records(
    net: tuple[Calls, list[SqlCheckResult]], provider: PrivilegedAccountResetProvider
) -> None:
    calls, results = net
    drifted = {**CHECKED, p.PRIVILEGES_OK: False, p.MISSING_PRIVILEGES: ["RELOAD"]}
    results.append(OK)
    outs = provider.update("id", drifted, dict(NEWS)).outs or {}
    assert calls.resets == [MANAGED]
    assert outs[p.PRIVILEGES_OK] is True and outs[p.RESET_COUNT] == 2

    results.append(DRIFT)
    moved = {**NEWS, p.SQL_ENDPOINT: "10.1.2.3:3307"}
    assert provider.diff("id", CHECKED, moved).changes
    outs = provider.update("id", CHECKED, moved).outs or {}
    assert calls.resets == [MANAGED]  # no second reset
    assert outs[p.SQL_ENDPOINT] == "10.1.2.3:3307" and outs[p.RESET_COUNT] == 1
    assert outs[p.PRIVILEGES_OK] is False  # recorded, reset by the next up
    assert calls.logins[-1][:2] == ("10.1.2.3", 3307)

    off = {**NEWS, p.CHECK_PRIVILEGES: False}
    outs = provider.update("id", drifted, off).outs or {}
    assert calls.resets == [MANAGED] and outs[p.CHECK_PRIVILEGES] is False
    assert outs[p.PRIVILEGES_OK] is None and outs[p.SQL_CHECK_PASSWORD] is None


# -- engine warnings -------------------------------------------------------------------------


def test_warn_goes_to_the_engine_in_the_provider_host(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import grpc  # type: ignore[import-untyped]
    from pulumi.runtime.proto import engine_pb2_grpc

    received: list[Any] = []

    class Engine(engine_pb2_grpc.EngineServicer):
        def Log(self, request: Any, context: Any) -> Any:  # noqa: N802 - the gRPC name
            from google.protobuf import empty_pb2  # type: ignore[import-untyped]

            received.append(request)
            return empty_pb2.Empty()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    engine_pb2_grpc.add_EngineServicer_to_server(Engine(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        host = types.ModuleType(_host.HOST_MODULE)
        monkeypatch.setattr(_host, "running_host", lambda: host)
        monkeypatch.setattr(sys, "argv", ["__main__.py", f"127.0.0.1:{port}"])
        # A fresh client, so that this test's engine address is the one looked up.
        monkeypatch.setattr(_host, "_engine", EngineLog())
        monkeypatch.setattr(_host, "_engine_connected", [])
        assert _host.engine_address() == f"127.0.0.1:{port}"
        _host.warn("privileges of account 'dbadmin' not checked")
    finally:
        server.stop(0)
    (request,) = received
    assert request.message == "privileges of account 'dbadmin' not checked"
    assert request.severity == 2  # WARNING
    assert not warnings_of(caplog)


def test_warn_outside_the_host_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_host, "_engine", EngineLog())
    monkeypatch.setattr(_host, "_engine_connected", [])
    monkeypatch.setattr(sys, "argv", ["pytest", "127.0.0.1:1"])
    assert _host.engine_address() is None  # not the provider host: argv means nothing
    _host.warn("something to know")
    assert warnings_of(caplog) == ["warning: something to know"]


def test_cleartext_warning_once_per_non_loopback_endpoint(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_check, "_warned_cleartext", set())
    clear = result(transport="cleartext")
    _check.warn_cleartext_once(
        "127.0.0.1", 3306, None, clear, _host.warn
    )  # never leaves the machine
    _check.warn_cleartext_once(
        "10.0.0.5", 3306, "/etc/polardb-ca.pem", clear, _host.warn
    )  # verified
    _check.warn_cleartext_once("10.0.0.9", 3306, None, UNREACHABLE, _host.warn)  # nothing was sent
    assert warnings_of(caplog) == []
    for _ in range(3):
        _check.warn_cleartext_once("10.0.0.5", 3306, None, clear, _host.warn)
    unverified = result(transport="unverified-tls")
    _check.warn_cleartext_once("pc-x.rwlb.rds.aliyuncs.com", 3306, None, unverified, _host.warn)
    _check.warn_cleartext_once("10.0.0.7", 3306, None, REFUSED, _host.warn)  # a login was attempted
    first, second, third = warnings_of(caplog)
    assert "10.0.0.5:3306 in cleartext" in first and "polardbReset:sqlCaBundle" in first
    assert "pc-x.rwlb.rds.aliyuncs.com:3306 over an encrypted but unverified" in second
    assert "10.0.0.7:3306 without verified TLS" in third
