"""Check, diff, create, read, update and delete of one privileged account reset.

Engine-agnostic: every function takes typed values (:class:`ResetInputs`,
:class:`ResetState`), the provider's configuration (:class:`ProviderConfig`) and the
operation's hooks (:class:`Call`: warning sink, deadline, cancellation), and returns typed
values or raises :class:`ResetError`. No module state of an engine is read: an engine keeps
its own configuration and passes it in, so several providers (two regions, two accounts)
can share a process, and calls may run on any number of threads at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..cloud import _settings
from ..cloud._client import AccountInfo, PolarDBClient
from ..cloud._kms import KmsClient, SecretValue, read_secret
from ..cloud._operations import TIMEOUT_SECONDS_SETTING, Resetter, Target
from ..cloud._retry import LAST_ATTEMPT_SECONDS, Deadline
from ..core import _convert, _diff, _fingerprint, _health
from ..core import _props as p
from ..core._diff import DiffDecision
from ..core._errors import GONE_CODES, ErrorCode, OperationCancelledError, ResetError
from ..core._state import ROTATION_DRIFT, CheckRecord, ResetInputs, ResetState
from ..core._time import utc_now
from ..core._validation import Failure
from ..drift import _check
from ..drift._sql import SqlCheckResult, check_account

log = logging.getLogger("pulumi_polardb_reset")

#: A warning sink: receives one message (already free of secrets) a user should read.
Warn = Callable[[str], None]


def log_warning(message: str) -> None:
    """The default warning sink: the provider's log."""
    log.warning("warning: %s", message)


@dataclass(frozen=True)
class ProviderConfig:
    """The provider's configuration, as an engine received it.

    ``values``: the keys of :data:`~..cloud._settings.CONFIG_KEYS` under their full names
    (``alicloud:region``, ``polardbReset:sqlCaBundle``, ...), as stack config or provider
    properties give them; ``env``: the environment to read after them (``os.environ``).
    """

    values: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)

    def settings(self, target: ResetInputs | ResetState) -> _settings.ConnectionSettings:
        """Credentials, region and endpoint for ``target`` (raises ConfigurationError)."""
        overrides = {p.REGION: target.region, p.ENDPOINT: target.endpoint}
        return _settings.resolve(overrides, self.values, self.env)

    def allow_insecure_endpoint(self) -> bool:
        """The opt-in to a plain-http endpoint on another machine (malformed: false)."""
        return _settings.insecure_endpoint_allowed(self.values, self.env)

    def sql_ca_bundle(self) -> str | None:
        """The CA bundle that verifies the clusters' SQL endpoints, or None."""
        return _settings.sql_ca_bundle(self.values, self.env)


@dataclass(frozen=True)
class Call:
    """The hooks of one operation.

    ``warn`` receives warnings (drift found, a check that could not tell, a login without
    verified TLS). ``timeout_seconds`` is the engine's deadline for the whole operation
    (``customTimeouts``), replacing the resource's ``timeout_seconds`` when set. ``cancel``
    is set by the engine to stop the operation: waits and retries end at once with
    :class:`~..core._errors.OperationCancelledError` (an API call in flight ends within its
    own bound first; a SQL check within its own). ``now`` gives the current UTC time the
    account-health warnings count days from (injected by tests).
    """

    warn: Warn = log_warning
    timeout_seconds: float | None = None
    cancel: threading.Event | None = None
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    #: The setting ``timeout_seconds`` comes from, as messages name it (the resource option
    #: of this operation, e.g. ``customTimeouts.update``).
    timeout_setting: str = "customTimeouts"

    def seconds(self, inputs_timeout: float) -> float:
        """The operation's time limit: the engine's, else the resource's ``timeout_seconds``."""
        return float(self.timeout_seconds if self.timeout_seconds is not None else inputs_timeout)

    def target(self, cluster: str, account: str, region: str, inputs_timeout: float) -> Target:
        """The account to work on, with the operation's time limit and the setting it is from."""
        custom = self.timeout_seconds is not None
        return Target(
            cluster,
            account,
            region,
            self.seconds(inputs_timeout),
            timeout_setting=self.timeout_setting if custom else TIMEOUT_SECONDS_SETTING,
        )

    def deadline(self, inputs_timeout: float) -> Deadline:
        """The operation's deadline (:meth:`seconds` from now), heeding ``cancel``."""
        return Deadline(self.seconds(inputs_timeout), cancel=self.cancel)

    def resetter(
        self, client: PolarDBClient, target: Target, deadline: Deadline | None = None
    ) -> Resetter:
        """A resetter on ``target`` whose deadline (``target.timeout_seconds``, or the
        operation's ``deadline`` already running) heeds ``cancel``."""
        return Resetter(
            client,
            target,
            deadline=deadline or Deadline(target.timeout_seconds, cancel=self.cancel),
        )


@dataclass(frozen=True)
class CheckOutcome:
    """What :func:`check` found: typed inputs, or the failures (one per property).

    ``props`` is the property map to hand back to the engine (defaults applied, a numeric
    nonce as its string, secrets and unknown values as they came).
    """

    inputs: ResetInputs | None
    failures: tuple[Failure, ...]
    props: dict[str, Any]


def check(props: Mapping[str, Any], config: ProviderConfig) -> CheckOutcome:
    """Validate a property map of inputs (no API call); values unknown at preview pass."""
    failures = _convert.validate_inputs(
        props, allow_insecure_endpoint=config.allow_insecure_endpoint()
    )
    normalized = _convert.normalize_inputs(props)
    inputs = None if failures else _convert.inputs_from_props(normalized)
    return CheckOutcome(inputs, tuple(failures), normalized)


def require_inputs(props: Mapping[str, Any], config: ProviderConfig) -> ResetInputs:
    """The typed inputs of ``props``, or a :class:`ResetError` (``InvalidInput``) naming each failure."""
    outcome = check(props, config)
    if outcome.inputs is None:
        raise ResetError(
            "; ".join(f.reason for f in outcome.failures), code=ErrorCode.INVALID_INPUT
        )
    return outcome.inputs


def diff(state: ResetState, inputs: ResetInputs) -> DiffDecision:
    """Reset when the password or the nonce changes or the last check found drift; replace on a new target.

    A changed check setting is an update without a reset.
    """
    return _diff.decide(state, inputs)


def create(inputs: ResetInputs, config: ProviderConfig, call: Call = Call()) -> ResetState:
    """Reset the account (unlocking it first when it is locked and ``unlock`` is set) and
    return what was done (``inputs`` from :func:`check`)."""
    return _reset(inputs, None, config, call, unlock=inputs.unlock)


def update(
    state: ResetState, inputs: ResetInputs, config: ProviderConfig, call: Call = Call()
) -> ResetState:
    """Reset again (nonce or password changed, or drift) and return the new state.

    A locked account with ``unlock`` is unlocked first (ModifyAccountLockState); when that
    is all the diff asked for, no reset unless the check after the unlock finds drift.
    When only settings changed, no reset: record them and check once.
    """
    decision = _diff.decide(state, inputs)
    if decision.reset or decision.replaces:
        return _reset(inputs, state, config, call, unlock=decision.unlock)
    if decision.unlock:
        return _unlock(state, inputs, config, call)
    return _record_settings(state, inputs, config, call)


def read(
    resource_id: str, state: ResetState | None, config: ProviderConfig, call: Call = Call()
) -> ResetState | None:
    """Refresh status, type, lock state, password expiry and the SQL check; None when the
    account is gone.

    ``state`` may be None or lack the cluster and account (``pulumi import`` knows only the
    ID, ``<db_cluster_id>:<account_name>``). The check's outcome is recorded (drift makes
    the next diff an update); one that cannot tell (unreachable, timeout) records null and
    warns, and the refresh succeeds. Makes no write call.
    """
    state = state if state is not None else _convert.state_from_props({})
    cluster, account = state.db_cluster_id, state.account_name
    from_id = p.parse_resource_id(resource_id)
    if (not cluster or not account) and from_id is not None:  # an import: the ID says which
        cluster, account = from_id
    settings = config.settings(state)
    resetter = _resetter(state, config, call, cluster=cluster, account=account, settings=settings)
    try:
        match = resetter.find_account()
    except ResetError as exc:
        if exc.code in GONE_CODES:
            log.info("refresh %s: cluster %s not found; removing from state", resource_id, cluster)
            return None
        raise
    if match is None:
        log.info(
            "refresh %s: account %s no longer exists; removing from state", resource_id, account
        )
        return None
    refreshed = replace(state, db_cluster_id=cluster, account_name=account, **_observed(match))
    # A locked account or an expired password cannot log in to be checked: say that once,
    # and record the check as not run (null) rather than a stale result.
    unusable = _health_warnings(refreshed, call)
    if unusable:
        return replace(refreshed, check=_check.record(None, managed=False, checked_at=utc_now()))
    secret: SecretValue | None = None
    if state.account_password_secret:
        secret = _secret(
            state.account_password_secret,
            state.account_password_secret_stage,
            config,
            settings,
            resetter.deadline,
        )
        refreshed = replace(refreshed, account_password_secret_latest_version=secret.version_id)
        if refreshed.rotated:
            # The account still has the applied version's password: no check with the new
            # one (it would only say "refused"); the next update resets with it.
            call.warn(_rotation_warning(refreshed))
            record = _check.record(None, managed=True, checked_at=utc_now(), cause=ROTATION_DRIFT)
            return replace(refreshed, check=record)
    # Unreachable or unreadable is not drift: the check records null and warns.
    plan = _check.plan_from_state(state, secret.value if secret is not None else None)
    _, check = _run_check(resetter, plan, config, call)
    return replace(refreshed, check=check)


def _rotation_warning(state: ResetState) -> str:
    who = f"account {state.account_name} of cluster {state.db_cluster_id}"
    return (
        f"{who}: {ROTATION_DRIFT} (KMS secret '{state.account_password_secret}' is at version "
        f"{state.account_password_secret_latest_version}, the account has version "
        f"{state.account_password_secret_version}); `pulumi up --refresh` or "
        "`polardb-reset remediate` resets it with the new value"
    )


def _secret(
    name: str,
    stage: str | None,
    config: ProviderConfig,
    settings: _settings.ConnectionSettings,
    deadline: Deadline,
) -> SecretValue:
    """The value of the password's KMS secret (GetSecretValue), within ``deadline``."""
    kms = _settings.resolve_kms(settings, config.values, config.env)
    return read_secret(KmsClient(kms), name, stage, deadline)


def _inputs_secret(
    inputs: ResetInputs,
    config: ProviderConfig,
    settings: _settings.ConnectionSettings,
    deadline: Deadline,
) -> SecretValue | None:
    """The inputs' KMS secret, read, or None when the password does not come from KMS."""
    if not inputs.account_password_secret:
        return None
    return _secret(
        inputs.account_password_secret,
        inputs.account_password_secret_stage,
        config,
        settings,
        deadline,
    )


def _secret_outputs(inputs: ResetInputs, secret: SecretValue | None) -> dict[str, Any]:
    """The secret's name, stage and the version applied (IDs only, never the value)."""
    version = secret.version_id if secret is not None else None
    return {
        "account_password_secret": inputs.account_password_secret,
        "account_password_secret_stage": inputs.account_password_secret_stage,
        "account_password_secret_version": version,
        "account_password_secret_latest_version": version,
    }


def delete(resource_id: str) -> None:
    """Forget the resource. A reset cannot be undone, so no API call is made."""
    log.info("delete %s: a reset cannot be undone; no API call made", resource_id)


# -- the steps ---------------------------------------------------------------------------


def _resetter(
    values: ResetInputs | ResetState,
    config: ProviderConfig,
    call: Call,
    *secrets: str | None,
    cluster: str | None = None,
    account: str | None = None,
    settings: _settings.ConnectionSettings | None = None,
    deadline: Deadline | None = None,
) -> Resetter:
    """The one setup of a resetter: on the account ``values`` name (or ``cluster`` and
    ``account``), with their region and endpoint resolved (unless ``settings`` are), the
    ``secrets`` kept out of the client's logs and errors, and the operation's deadline (or
    ``deadline``, already running: one deadline for a whole operation)."""
    settings = settings or config.settings(values)
    client = PolarDBClient(settings, extra_secrets=_secrets(*secrets))
    target = call.target(
        cluster or values.db_cluster_id,
        account or values.account_name,
        settings.region,
        values.timeout_seconds,
    )
    return call.resetter(client, target, deadline)


def _secrets(*values: str | None) -> tuple[str, ...]:
    return tuple(v for v in values if v)


def _observed(account: AccountInfo) -> dict[str, Any]:
    """What DescribeAccounts said about the account, as recorded outputs."""
    return {
        "account_status": account.status,
        "account_type": account.type,
        "account_lock_state": account.lock_state,
        "account_locked": _health.is_locked(account.lock_state),
        "password_expires_at": _health.expires_at(account.password_valid_time),
    }


def _health_settings(inputs: ResetInputs) -> dict[str, Any]:
    """The account-health settings, recorded (refresh sees only the state)."""
    return {
        "unlock": inputs.unlock,
        "password_expiry_warning_days": inputs.password_expiry_warning_days,
    }


def _health_warnings(state: ResetState, call: Call, *, expiry: bool = True) -> bool:
    """Warn about a locked account and a password that expires soon (or has expired);
    return whether the account cannot log in (locked, or its password expired)."""
    now, warn = call.now(), call.warn
    locked = state.account_locked is True
    if locked:
        warn(_health.lock_warning(state.db_cluster_id, state.account_name, unlock=state.unlock))
    if expiry:
        message = _health.expiry_warning(
            state.db_cluster_id,
            state.account_name,
            state.password_expires_at,
            warning_days=state.password_expiry_warning_days,
            now=now,
        )
        if message is not None:
            warn(message)
    days = _health.days_left(state.password_expires_at, now)
    return locked or (days is not None and days <= 0)


def _unlock(
    state: ResetState, inputs: ResetInputs, config: ProviderConfig, call: Call
) -> ResetState:
    """An update that unlocks the account, then checks it; drift found then is repaired
    by a reset in the same update (nothing else asked for one)."""
    settings = config.settings(inputs)
    deadline = call.deadline(inputs.timeout_seconds)
    secret = _inputs_secret(inputs, config, settings, deadline) if inputs.check_privileges else None
    plan = _check.plan_for_inputs(inputs, state, secret.value if secret is not None else None)
    resetter = _resetter(
        inputs,
        config,
        call,
        inputs.account_password,
        plan.password,
        settings=settings,
        deadline=deadline,
    )
    target = resetter.target
    unlocked = resetter.unlock()
    recorded = replace(
        state,
        **_check_settings(inputs, plan),
        **_health_settings(inputs),
        **_observed(unlocked.account),
    )
    result: SqlCheckResult | None = None
    cause: str | None = None
    if plan.enabled and plan.runs:
        result, cause = _perform(resetter, plan, ca_bundle=config.sql_ca_bundle(), warn=call.warn)
    checked = replace(
        recorded,
        check=_check.record(
            result,
            managed=plan.managed,
            checked_at=utc_now(),
            cause=_check.cause_of(result, plan, cause),
        ),
    )
    if _diff.drift_reasons(checked, inputs):
        # Unlocked, the account shows drift a reset repairs (grants, or the managed
        # password): repair it now rather than warn that the next `pulumi up` will.
        return _reset(inputs, checked, config, call, resetter=resetter)
    if plan.enabled:
        message = _check.warning_for(
            result, plan, cluster=target.cluster_id, account=target.account_name, cause=cause
        )
        if message is not None:
            call.warn(message)
    return checked


def _reset(
    inputs: ResetInputs,
    previous: ResetState | None,
    config: ProviderConfig,
    call: Call,
    *,
    unlock: bool = False,
    resetter: Resetter | None = None,
) -> ResetState:
    settings = config.settings(inputs)
    # One deadline: the secret's read, the reset and the check after it share it.
    deadline = resetter.deadline if resetter is not None else call.deadline(inputs.timeout_seconds)
    secret = _inputs_secret(inputs, config, settings, deadline)
    password = secret.value if secret is not None else inputs.account_password
    plan = _check.plan_for_inputs(inputs, previous, secret.value if secret is not None else None)
    if resetter is None:
        resetter = _resetter(
            inputs, config, call, password, plan.password, settings=settings, deadline=deadline
        )
    client, target = resetter.client, resetter.target
    if unlock:
        # A reset never unlocks: with unlock set, a locked account is unlocked first.
        resetter.unlock()
    outcome = resetter.run(password)

    fingerprint: str | None
    if secret is not None:
        fingerprint = None  # the secret's version ID stands for it: nothing of the value kept
    elif password is not None:
        fingerprint = _fingerprint.fingerprint(password)
    else:
        # No password this time: the account keeps the one set last, if any.
        fingerprint = previous.password_fingerprint if previous is not None else None
    state = ResetState(
        db_cluster_id=target.cluster_id,
        account_name=target.account_name,
        reset_nonce=inputs.reset_nonce,
        timeout_seconds=inputs.timeout_seconds,
        region=inputs.region,
        endpoint=inputs.endpoint,
        password_fingerprint=fingerprint,
        last_reset_at=utc_now(),
        last_reset_request_id=outcome.request_id,
        reset_count=(previous.reset_count if previous is not None else 0) + 1,
        effective_region=target.region,
        effective_endpoint=client.endpoint,
        **_observed(outcome.account),
        **_check_settings(inputs, plan),
        **_health_settings(inputs),
        **_secret_outputs(inputs, secret),
    )
    if previous is None or previous.password_expires_at != state.password_expires_at:
        # Said once: refresh says it again while it holds, a reset only when it is news.
        _health_warnings(state, call)
    # Once the reset has settled: are the privileges (and the password) really back?
    result, check = _run_check(resetter, plan, config, call)
    if result is not None:
        error = _check.drift_error(
            result,
            plan,
            cluster=target.cluster_id,
            account=target.account_name,
            request_id=outcome.request_id,
        )
        if error is not None:
            raise error
    return replace(state, check=check)


def _check_settings(inputs: ResetInputs, plan: _check.CheckPlan) -> dict[str, Any]:
    """The check's settings, recorded (read sees only the state), the login kept as a secret."""
    return {
        "check_privileges": plan.enabled,
        "sql_endpoint": inputs.sql_endpoint,
        # A KMS secret's value is read again when needed, never kept.
        "sql_check_password": (
            plan.password if plan.enabled and not inputs.account_password_secret else None
        ),
        "written_before_check": False,
    }


def _record_settings(
    state: ResetState, inputs: ResetInputs, config: ProviderConfig, call: Call
) -> ResetState:
    """An update without a reset: keep the state, record new check settings, check once."""
    settings = config.settings(inputs)
    deadline = call.deadline(inputs.timeout_seconds)
    secret = _inputs_secret(inputs, config, settings, deadline) if inputs.check_privileges else None
    plan = _check.plan_for_inputs(inputs, state, secret.value if secret is not None else None)
    # Only the settings change; region, endpoint and timeout stay as recorded, as when
    # they change without a reset being due.
    recorded = replace(state, **_check_settings(inputs, plan), **_health_settings(inputs))
    if not inputs.account_password_secret:
        # The secret was removed: forget it (the account keeps the password it set).
        recorded = replace(recorded, **_secret_outputs(inputs, None))
    resetter = _resetter(inputs, config, call, plan.password, settings=settings, deadline=deadline)
    _, check = _run_check(resetter, plan, config, call)
    return replace(recorded, check=check)


def _run_check(
    resetter: Resetter, plan: _check.CheckPlan, config: ProviderConfig, call: Call
) -> tuple[SqlCheckResult | None, CheckRecord]:
    """Run the check when it should; warn about drift or anything that kept it from telling.

    Returns the result (None: not run) and what to record of it, the cause included.
    """
    if not plan.enabled:
        return None, CheckRecord()
    result: SqlCheckResult | None = None
    cause: str | None = None
    if plan.runs:
        result, cause = _perform(resetter, plan, ca_bundle=config.sql_ca_bundle(), warn=call.warn)
    t = resetter.target
    message = _check.warning_for(
        result, plan, cluster=t.cluster_id, account=t.account_name, cause=cause
    )
    if message is not None:
        call.warn(message)
    check = _check.record(
        result,
        managed=plan.managed,
        checked_at=utc_now(),
        cause=_check.cause_of(result, plan, cause),
    )
    return result, check


def _perform(
    resetter: Resetter, plan: _check.CheckPlan, *, ca_bundle: str | None, warn: Warn
) -> tuple[SqlCheckResult | None, str | None]:
    """Run the check ``plan`` describes; return the result, or None and why it did not run.

    Never raises for an unreachable endpoint or a failed endpoint lookup: those are causes.
    """
    assert plan.password is not None
    target = resetter.target
    if plan.sql_endpoint is not None:
        host, port = plan.sql_endpoint
    else:
        try:
            host, port = resetter.sql_endpoint()
        except OperationCancelledError:
            raise
        except ResetError as exc:
            return None, (
                f"its SQL endpoint could not be looked up ({exc}); set sql_endpoint, or grant "
                "polardb:DescribeDBClusterEndpoints"
            )
    remaining = resetter.deadline.remaining()
    result = check_account(
        host,
        port,
        target.account_name,
        plan.password,
        connect_timeout=_check.CONNECT_TIMEOUT_SECONDS,
        read_timeout=_check.READ_TIMEOUT_SECONDS,
        ca_bundle=ca_bundle,
        # Within the operation's deadline; with no time left, as long as a last API attempt
        # gets (a login on a near network takes well under that), so the operation ends
        # close to timeout_seconds whatever the SQL endpoint does.
        deadline=min(_check.CHECK_DEADLINE_SECONDS, max(remaining, LAST_ATTEMPT_SECONDS)),
    )
    _check.warn_cleartext_once(host, port, ca_bundle, result, warn)
    return result, None
