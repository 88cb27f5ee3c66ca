"""The privilege check of one resource: what to check with, and what to record and say.

:func:`plan_from_state` and :func:`plan_for_inputs` decide (purely, on typed values) whether a
check runs and which password logs in; :func:`record` turns a result into the recorded
:class:`~..core._state.CheckRecord`; :func:`drift_error` and :func:`warning_for` word what the
user reads; :func:`warn_cleartext_once` words the warning about a login without verified TLS.
Running a plan (the endpoint lookup through the PolarDB API, then ``_sql``) is the lifecycle
layer's job, which owns both.

The login password: the managed ``account_password`` when the resource sets one, else the
user's ``check_password``. Either is kept in state as the secret output
``sql_check_password``, because refresh (``read``) is given only the outputs. A password
from a KMS secret is never kept: create, update and refresh read it (GetSecretValue) and
hand it to the plan. "Managed" is
decided by the password fingerprint: a stored login password that matches
``account_password_fingerprint`` is the one this resource set, so its refusal is password
drift; a refused ``check_password`` only means the check cannot log in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ..core import _fingerprint, _validation
from ..core._errors import ErrorCode, ResetError, where
from ..core._hosts import is_loopback_host
from ..core._state import CheckRecord, ResetInputs, ResetState
from ._sql import SqlCheckResult, format_endpoint

#: Socket timeouts of the SQL login and queries, and the bound of the whole check.
CONNECT_TIMEOUT_SECONDS: Final = 5.0
READ_TIMEOUT_SECONDS: Final = 10.0
CHECK_DEADLINE_SECONDS: Final = 30.0

#: Where warnings go: the engine adapter's sink (one message, already free of secrets).
Warn = Callable[[str], None]

_warned_cleartext: set[str] = set()
_warned_lock = threading.Lock()


@dataclass(frozen=True)
class CheckPlan:
    """Whether to check, and how.

    ``password`` is None when the check is skipped (``skip_reason`` says why, or it is
    disabled). ``managed`` tells whether the password is the one this resource set.
    ``sql_endpoint`` is the user's ``host:port`` override, parsed.
    """

    enabled: bool
    password: str | None = None
    managed: bool = False
    sql_endpoint: tuple[str, int] | None = None
    skip_reason: str | None = None

    @property
    def runs(self) -> bool:
        """Tell whether a SQL check will run."""
        return self.enabled and self.password is not None


def _endpoint(value: str | None) -> tuple[str, int] | None:
    return _validation.parse_sql_endpoint(value) if value is not None else None


_SKIPPED_WITHOUT_LOGIN: Final = (
    "no password to log in with: the resource manages no account_password and has no check_password"
)


_SKIPPED_NOT_STORED: Final = (
    "the password this resource set is not stored in its state (written before the privilege "
    "check existed); it is from the next reset on, or set check_password"
)


_SKIPPED_SECRET_UNREAD: Final = "the password's KMS secret was not read"  # noqa: S105


def plan_from_state(state: ResetState, secret_value: str | None = None) -> CheckPlan:
    """The check a refresh makes, from the resource's recorded state (pure); with a KMS
    secret, ``secret_value`` is the value read at the applied version (the managed login)."""
    if not state.check_privileges:
        return CheckPlan(enabled=False)
    endpoint = _endpoint(state.sql_endpoint)
    if state.account_password_secret:
        if secret_value is None:
            return CheckPlan(True, sql_endpoint=endpoint, skip_reason=_SKIPPED_SECRET_UNREAD)
        return CheckPlan(True, secret_value, True, endpoint)
    password = state.sql_check_password
    if not password:
        # A fingerprint without a stored login: a state from before the check.
        legacy = state.written_before_check and state.password_fingerprint
        reason = _SKIPPED_NOT_STORED if legacy else _SKIPPED_WITHOUT_LOGIN
        return CheckPlan(enabled=True, sql_endpoint=endpoint, skip_reason=reason)
    managed = _fingerprint.matches(password, state.password_fingerprint)
    return CheckPlan(True, password, managed, endpoint)


def login_password(
    inputs: ResetInputs, previous: ResetState | None, secret_value: str | None = None
) -> tuple[str | None, bool]:
    """The password the check after create/update logs in with, and whether it is managed.

    ``account_password`` when set (managed); the KMS secret's value (``secret_value``, read
    by the caller; managed, never stored); else ``check_password``; else the password stored
    before, if it is the one this resource set (removing ``account_password`` keeps the
    account's password, so it still logs in); else none.
    """
    if inputs.account_password:
        return inputs.account_password, True
    if inputs.account_password_secret:
        return secret_value, secret_value is not None
    if inputs.check_password:
        return inputs.check_password, False
    stored = previous.sql_check_password if previous is not None else None
    if (
        previous is not None
        and stored
        and _fingerprint.matches(stored, previous.password_fingerprint)
    ):
        return stored, True
    return None, False


def plan_for_inputs(
    inputs: ResetInputs, previous: ResetState | None = None, secret_value: str | None = None
) -> CheckPlan:
    """The check create/update makes, from the new inputs (and the state before) (pure)."""
    if not inputs.check_privileges:
        return CheckPlan(enabled=False)
    endpoint = _endpoint(inputs.sql_endpoint)
    password, managed = login_password(inputs, previous, secret_value)
    if password is None:
        reason = _SKIPPED_SECRET_UNREAD if inputs.account_password_secret else None
        return CheckPlan(
            enabled=True,
            sql_endpoint=endpoint,
            skip_reason=reason or _SKIPPED_WITHOUT_LOGIN,
        )
    return CheckPlan(True, password, managed, endpoint)


def record(
    result: SqlCheckResult | None,
    *,
    managed: bool,
    checked_at: str,
    cause: str | None = None,
) -> CheckRecord:
    """What to record for ``result`` (None: not checked) (pure).

    ``privileges_ok`` true/false/null; ``missing_privileges`` sorted names when checked,
    null when not; ``password_ok`` only for a managed password; ``privileges_checked_at``
    when a check was attempted (even one that could not tell); ``cause`` why it could not
    tell (:func:`cause_of`).
    """
    if result is None:
        return CheckRecord(cause=cause)
    missing = None if result.status == "unknown" else tuple(result.missing_privileges)
    return CheckRecord(
        privileges_ok=result.privileges_ok,
        missing_privileges=missing,
        privileges_checked_at=checked_at,
        password_ok=result.password_ok if managed else None,
        cause=cause,
    )


def cause_of(
    result: SqlCheckResult | None, plan: CheckPlan, cause: str | None = None
) -> str | None:
    """Why the check could not tell, with what to do (pure); None when it told or is disabled.

    ``cause`` explains a check that did not run (``result`` None).
    """
    if not plan.enabled:
        return None
    if plan.password is None:
        return (
            f"{plan.skip_reason}. Set check_password (a secret) or account_password, or "
            "check_privileges=false to silence this"
        )
    if result is None:
        return cause or "the check did not run"
    if result.password_ok is False and not plan.managed:
        return (
            f"check_password was refused at {result.endpoint} (access denied). Update "
            "check_password to the account's current password"
        )
    if result.status == "unknown":
        return result.cause
    return None


def warning_for(
    result: SqlCheckResult | None,
    plan: CheckPlan,
    *,
    cluster: str,
    account: str,
    cause: str | None = None,
) -> str | None:
    """What to warn about after a check (pure): drift found, or why nothing could be told.

    ``cause`` explains a check that did not run (``result`` None). Returns None when there
    is nothing to say (the check passed, or it is disabled).
    """
    who = where(cluster, account)
    if not plan.enabled:
        return None
    if result is not None and result.status == "drift":
        return (
            f"permission drift: {who} is missing {', '.join(result.missing_privileges)} "
            f"(checked over SQL at {result.endpoint}); `pulumi up` resets it."
        )
    if result is not None and result.password_ok is False and plan.managed:
        return (
            f"password drift: the password this resource set for {who} no longer logs in "
            f"at {result.endpoint} (changed out of band?); `pulumi up` resets it."
        )
    not_told = cause_of(result, plan, cause)
    if not_told is None:
        return None
    unknown = result is not None and result.status == "unknown" and result.password_ok is not False
    return f"privileges of {who} not checked{' (not drift)' if unknown else ''}: {not_told}."


def drift_error(
    result: SqlCheckResult, plan: CheckPlan, *, cluster: str, account: str, request_id: str
) -> ResetError | None:
    """The failure of a create/update whose reset did not restore the account, else None (pure)."""
    who = where(cluster, account)
    if result.status == "drift":
        return ResetError(
            f"ResetAccount completed (request id {request_id}), but {who} still lacks "
            f"{', '.join(result.missing_privileges)} when checked over SQL at {result.endpoint}. "
            "Check the account's grants (console or Alibaba Cloud support); the next "
            "`pulumi up` resets it again. Set check_privileges=false to skip the check.",
            code=ErrorCode.RESET_FAILED,
        )
    if result.password_ok is False and plan.managed:
        return ResetError(
            f"ResetAccount completed (request id {request_id}), but the password it set for "
            f"{who} is refused at {result.endpoint} (access denied). Check that the account "
            "may log in from this machine, or set check_privileges=false to skip the check.",
            code=ErrorCode.RESET_FAILED,
        )
    return None


def warn_cleartext_once(
    host: str, port: int, ca_bundle: str | None, result: SqlCheckResult, warn: Warn
) -> None:
    """Warn once per endpoint when a login went to another machine without verified TLS."""
    if ca_bundle or is_loopback_host(host):
        return
    if result.transport is None and result.password_ok is None:
        return  # nothing reached a server (unreachable, refused before the login)
    endpoint = format_endpoint(host, port)
    with _warned_lock:
        if endpoint in _warned_cleartext:
            return
        _warned_cleartext.add(endpoint)
    how = (
        "over an encrypted but unverified TLS session"
        if result.transport == "unverified-tls"
        else "in cleartext (the server offered no TLS)"
        if result.transport == "cleartext"
        else "without verified TLS"
    )
    warn(
        f"the privilege check logged in to {endpoint} {how}: the login and the grants can be "
        "read or altered on the way. Set config polardbReset:sqlCaBundle (or "
        "POLARDB_RESET_SQL_CA_BUNDLE) to PolarDB's SSL CA certificate to require verified TLS."
    )
