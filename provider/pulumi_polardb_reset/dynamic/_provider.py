"""The Pulumi dynamic provider behind :class:`PrivilegedAccountReset`.

The instance is pickled into state by *reference* (this module is installed
and importable), so it holds nothing: stack config captured by ``configure``
lives in a module-level mapping of the provider process, never on ``self``.

Compatibility promise: the ``__provider`` blob in every stack's state names this
class by import path, so every path ever written stays importable in every future
version: ``pulumi_polardb_reset.provider.PrivilegedAccountResetProvider`` (this
module, written since commit 7a8fda6) and
``pulumi_polardb_reset._provider.PrivilegedAccountResetProvider`` (written by 0.1.0
before that; ``_provider`` is now an alias module). ``tests/fixtures/pickled``
holds frozen blobs of both.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from ..cloud import _settings
from ..cloud._client import PolarDBClient
from ..cloud._operations import Resetter, Target
from ..core import _diff, _fingerprint, _validation
from ..core import _props as p
from ..core._errors import GONE_CODES, ErrorCode, ResetError
from ..drift import _check
from ..drift._sql import SqlCheckResult
from . import _host, _workers

log = logging.getLogger("pulumi_polardb_reset")
F = TypeVar("F", bound=Callable[..., Any])

_STACK_CONFIG: dict[str, Any] = {}
_CONFIG_LOCK = threading.Lock()


def _reported(method: F) -> F:
    """Log a bug (any exception but ResetError) with its traceback, then let it propagate."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ResetError:
            raise
        except Exception:
            log.exception(
                "%s failed with an unexpected error; this is a bug in pulumi-polardb-reset or "
                "the Alibaba Cloud SDK, please report it with this traceback",
                method.__name__,
            )
            raise

    return wrapper  # type: ignore[return-value]


class PrivilegedAccountResetProvider(ResourceProvider):
    """CRUD for a privileged account reset: create and update call PolarDB ``ResetAccount``."""

    # State pickles this class by reference: its module must stay the public path.
    __module__ = "pulumi_polardb_reset.provider"

    # Pickled by reference, the provider carries no secret: no need to hide it.
    serialize_as_secret_always = False

    def __getstate__(self) -> dict[str, Any]:
        # Nothing on the instance belongs in state, whatever a caller attached.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        pass

    # -- engine hooks ----------------------------------------------------------

    @_reported
    def configure(self, req: ConfigureRequest) -> None:
        """Capture the stack config keys the provider reads (credentials, region, endpoints)."""
        _workers.widen_running_host()  # on a worker thread of the host, if this is one
        values = {key: req.config.get(key) for key in _settings.CONFIG_KEYS}
        with _CONFIG_LOCK:
            _STACK_CONFIG.clear()
            _STACK_CONFIG.update({k: v for k, v in values.items() if v is not None})

    @_reported
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs per property (no API call); unknown values pass."""
        found = _validation.validate_inputs(news, allow_insecure_endpoint=_allow_insecure())
        failures = [CheckFailure(f.property, f.reason) for f in found]
        return CheckResult(_validation.normalize_inputs(news), failures)

    @_reported
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Reset when the password or the nonce changes or the last check found drift; replace on a new target.

        A changed check setting is an update without a reset.
        """
        decision = _diff.decide(olds, news)
        if decision.reasons:
            log.info("diff %s: %s", _id, "; ".join(decision.reasons))
        return DiffResult(
            changes=decision.changes,
            replaces=decision.replaces or None,
            delete_before_replace=False,
        )

    @_reported
    def create(self, props: dict[str, Any]) -> CreateResult:
        """Reset the account and record what was done."""
        outs = _reset(props, previous=None)
        return CreateResult(p.resource_id(outs[p.DB_CLUSTER_ID], outs[p.ACCOUNT_NAME]), outs)

    @_reported
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Reset again (nonce or password changed, or drift) and return the complete outputs.

        When only check settings changed, no reset: record them and check once.
        """
        decision = _diff.decide(olds, news)
        if decision.reset or decision.replaces:
            return UpdateResult(_reset(news, previous=olds))
        return UpdateResult(_record_settings(news, previous=olds))

    @_reported
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh status, type, lock state and the SQL check; a blank ID when the account is gone.

        The check's outcome is recorded (drift makes the next diff an update); one that
        cannot tell (unreachable, timeout) records null and warns, and the refresh succeeds.
        """
        inputs = {k: p.plain(v) for k, v in props.items() if not k.startswith("__")}
        cluster, account = _target_names(inputs, id_)
        settings = _resolve(inputs)
        timeout = float(inputs.get(p.TIMEOUT_SECONDS) or p.DEFAULT_TIMEOUT_SECONDS)
        resetter = Resetter(
            PolarDBClient(settings), Target(cluster, account, settings.region, timeout)
        )
        try:
            match = resetter.find_account()
        except ResetError as exc:
            if exc.code in GONE_CODES:
                log.info("refresh %s: cluster %s not found; removing from state", id_, cluster)
                return ReadResult("", {})
            raise
        if match is None:
            log.info("refresh %s: account %s no longer exists; removing from state", id_, account)
            return ReadResult("", {})
        outs = {k: v for k, v in inputs.items() if k in p.OUTPUTS}
        outs.update(
            {
                p.DB_CLUSTER_ID: cluster,
                p.ACCOUNT_NAME: account,
                p.ACCOUNT_STATUS: match.status,
                p.ACCOUNT_TYPE: match.type,
                p.ACCOUNT_LOCK_STATE: match.lock_state,
                p.SQL_CHECK_PASSWORD: p.secret(inputs.get(p.SQL_CHECK_PASSWORD)),
            }
        )
        # Unreachable or unreadable is not drift: the check records null and warns.
        plan = _check.plan_from_outputs(inputs)
        result = _run_check(resetter, plan)
        outs.update(_check.record(result, managed=plan.managed, checked_at=_check.now()))
        return ReadResult(id_, outs)

    @_reported
    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forget the resource. A reset cannot be undone, so no API call is made."""
        log.info("delete %s: a reset cannot be undone; no API call made", _id)


def _target_names(inputs: Mapping[str, Any], id_: str) -> tuple[str, str]:
    cluster, account = inputs.get(p.DB_CLUSTER_ID), inputs.get(p.ACCOUNT_NAME)
    if (not cluster or not account) and ":" in id_:
        cluster, account = id_.split(":", 1)
    return str(cluster), str(account)


def _allow_insecure() -> bool:
    """The opt-in to a plain-http endpoint on another machine (config, then environment)."""
    with _CONFIG_LOCK:
        config = dict(_STACK_CONFIG)
    return _settings.insecure_endpoint_allowed(config, os.environ)


def _resolve(inputs: Mapping[str, Any]) -> _settings.ConnectionSettings:
    with _CONFIG_LOCK:
        config = dict(_STACK_CONFIG)
    return _settings.resolve(inputs, config, os.environ)


def _reset(news: Mapping[str, Any], previous: Mapping[str, Any] | None) -> dict[str, Any]:
    inputs = {k: p.plain(v) for k, v in _validation.normalize_inputs(news).items()}
    failures = _validation.validate_inputs(
        {k: v for k, v in inputs.items() if not k.startswith("__")},
        allow_insecure_endpoint=_allow_insecure(),
    )
    if failures:
        raise ResetError("; ".join(f.reason for f in failures), code=ErrorCode.INVALID_INPUT)
    password: str | None = inputs.get(p.ACCOUNT_PASSWORD)
    old = previous or {}
    plan = _check.plan_for_inputs(inputs, old)
    settings = _resolve(inputs)
    timeout = float(inputs[p.TIMEOUT_SECONDS])
    client = PolarDBClient(settings, extra_secrets=_secrets(password, plan.password))
    target = Target(inputs[p.DB_CLUSTER_ID], inputs[p.ACCOUNT_NAME], settings.region, timeout)
    # One resetter, so one deadline: the check after the reset uses what remains of it.
    resetter = Resetter(client, target)
    outcome = resetter.run(password)

    if password is not None:
        fingerprint = _fingerprint.fingerprint(password)
    else:
        # No password this time: the account keeps the one set last, if any.
        fingerprint = p.plain(old.get(p.PASSWORD_FINGERPRINT))
    outs = {
        p.DB_CLUSTER_ID: target.cluster_id,
        p.ACCOUNT_NAME: target.account_name,
        p.RESET_NONCE: inputs.get(p.RESET_NONCE),
        p.TIMEOUT_SECONDS: inputs[p.TIMEOUT_SECONDS],
        p.REGION: inputs.get(p.REGION),
        p.ENDPOINT: inputs.get(p.ENDPOINT),
        p.PASSWORD_FINGERPRINT: fingerprint,
        p.LAST_RESET_AT: dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        p.LAST_RESET_REQUEST_ID: outcome.request_id,
        p.RESET_COUNT: int(p.plain(old.get(p.RESET_COUNT)) or 0) + 1,
        p.ACCOUNT_STATUS: outcome.account.status,
        p.ACCOUNT_TYPE: outcome.account.type,
        p.ACCOUNT_LOCK_STATE: outcome.account.lock_state,
        p.EFFECTIVE_REGION: settings.region,
        p.EFFECTIVE_ENDPOINT: client.endpoint,
        **_check_settings(inputs, plan),
    }
    # Once the reset has settled: are the privileges (and the password) really back?
    result = _run_check(resetter, plan)
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
    outs.update(_check.record(result, managed=plan.managed, checked_at=_check.now()))
    return outs


def _check_settings(inputs: Mapping[str, Any], plan: _check.CheckPlan) -> dict[str, Any]:
    """The check's settings as outputs (read sees only outputs), the login as a secret."""
    return {
        p.CHECK_PRIVILEGES: plan.enabled,
        p.SQL_ENDPOINT: inputs.get(p.SQL_ENDPOINT),
        # Secret here too, not only through the resource's additional_secret_outputs.
        p.SQL_CHECK_PASSWORD: p.secret(plan.password if plan.enabled else None),
    }


def _secrets(*values: str | None) -> tuple[str, ...]:
    return tuple(v for v in values if v)


def _run_check(resetter: Resetter, plan: _check.CheckPlan) -> SqlCheckResult | None:
    """Run the check when it should; warn about drift or anything that kept it from telling."""
    if not plan.enabled:
        return None
    result: SqlCheckResult | None = None
    cause: str | None = None
    if plan.runs:
        with _CONFIG_LOCK:
            config = dict(_STACK_CONFIG)
        ca_bundle = _settings.sql_ca_bundle(config, os.environ)
        result, cause = _check.perform(resetter, plan, ca_bundle=ca_bundle, warn=_host.warn)
    t = resetter.target
    message = _check.warning_for(
        result, plan, cluster=t.cluster_id, account=t.account_name, cause=cause
    )
    if message is not None:
        _host.warn(message)
    return result


def _record_settings(news: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """An update without a reset: keep the outputs, record new check settings, check once."""
    inputs = {k: p.plain(v) for k, v in _validation.normalize_inputs(news).items()}
    outs = {k: p.plain(v) for k, v in previous.items() if k in p.OUTPUTS}
    settings = _resolve(inputs)
    timeout = float(inputs[p.TIMEOUT_SECONDS])
    plan = _check.plan_for_inputs(inputs, previous)
    client = PolarDBClient(settings, extra_secrets=_secrets(plan.password))
    target = Target(inputs[p.DB_CLUSTER_ID], inputs[p.ACCOUNT_NAME], settings.region, timeout)
    # Only the check settings change; region, endpoint and timeout stay as recorded, as
    # when they change without a reset being due.
    outs.update(_check_settings(inputs, plan))
    result = _run_check(Resetter(client, target), plan)
    outs.update(_check.record(result, managed=plan.managed, checked_at=_check.now()))
    return outs


# In the dynamic provider host, errors become one line (checked, see _host), and resets in
# flight no longer hold every worker the engine's next Check needs (see _workers).
_host.adopt_running_host()
_workers.widen_running_host()
