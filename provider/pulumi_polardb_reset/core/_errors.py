"""The provider's exceptions, their stable codes, and the mapping from API failures (pure).

Exception tree (the public ones are exported by the package)::

    Exception
    ├── ResetError               every failure a user can act on; .code is always one of ErrorCode
    │   ├── ConfigurationError   credentials, region or endpoint unusable (before any API call)
    │   ├── ApiCallError         a PolarDB API call failed; .api_code, .request_id, .action
    │   ├── ResetTimeoutError    a wait did not end within timeout_seconds
    │   └── OperationCancelledError  the engine cancelled the operation (native engine's Cancel)
    ├── ApiError                 internal: the client wrapper's failure signal (an ApiFailure)
    └── WaitTimeoutError         internal: the wait policy's signal (the last observation)

Anything else leaving the provider is a bug (ours or the SDK's) and keeps its
traceback. Every message names the cluster and the account and says what to
do next. The password is never part of a message: the client wrapper scrubs
server text with :func:`~._scrub.scrub_text` before it gets here.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Final


class ErrorCode(enum.StrEnum):
    """The stable codes of :class:`ResetError` (documented in the README; never renamed)."""

    INVALID_CONFIGURATION = "InvalidConfiguration"
    INVALID_INPUT = "InvalidInput"
    CLUSTER_NOT_FOUND = "ClusterNotFound"
    INVALID_CLUSTER_ID = "InvalidClusterId"
    UNSUPPORTED_DB_TYPE = "UnsupportedDBType"
    CLUSTER_NOT_RUNNING = "ClusterNotRunning"
    CLUSTER_NOT_READY = "ClusterNotReady"
    CLUSTER_BUSY = "ClusterBusy"
    ACCOUNT_NOT_FOUND = "AccountNotFound"
    INVALID_ACCOUNT_NAME = "InvalidAccountName"
    NOT_PRIVILEGED_ACCOUNT = "NotPrivilegedAccount"
    ACCOUNT_LOCKED = "AccountLocked"
    INVALID_PASSWORD = "InvalidPassword"  # noqa: S105 - a code, not a password
    PERMISSION_DENIED = "PermissionDenied"
    INVALID_CREDENTIALS = "InvalidCredentials"
    CLOCK_SKEW = "ClockSkew"
    THROTTLED = "Throttled"
    SERVICE_ERROR = "ServiceError"
    ENDPOINT_UNREACHABLE = "EndpointUnreachable"
    INVALID_RESPONSE = "InvalidResponse"
    API_REQUEST_FAILED = "ApiRequestFailed"
    TIMEOUT = "Timeout"
    CANCELLED = "Cancelled"
    RESET_FAILED = "ResetFailed"


#: Codes meaning "the cluster or the account does not exist" (refresh drops the resource).
GONE_CODES: Final = frozenset({ErrorCode.CLUSTER_NOT_FOUND, ErrorCode.ACCOUNT_NOT_FOUND})
#: Codes meaning "the API refused the caller's own credentials" (not a verdict on the
#: account: ``polardb-reset`` exits 3 for them, as Pulumi does for a failed authentication).
AUTH_CODES: Final = frozenset({ErrorCode.INVALID_CREDENTIALS, ErrorCode.PERMISSION_DENIED})


class ResetError(Exception):
    """A failure of a privileged account reset, with a message meant for the user.

    ``code`` is one of :class:`ErrorCode`; when an API call failed, ``api_code`` and
    ``request_id`` are PolarDB's. ``str()`` is the message plus a bracketed
    ``[code: api_code, request id ...]`` trailer.
    """

    default_code: ClassVar[str] = ErrorCode.RESET_FAILED

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        api_code: str | None = None,
        request_id: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code: str = code or self.default_code
        self.api_code = api_code
        self.request_id = request_id

    def __str__(self) -> str:
        detail = self.code + (f": {self.api_code}" if self.api_code else "")
        if self.request_id:
            detail += f", request id {self.request_id}"
        return f"{self.message} [{detail}]"


#: Finds the ``[code...]`` trailer of :meth:`ResetError.__str__` in an engine's message (the
#: only channel from a provider's failure to its caller); group 1 is the code.
CODE_PATTERN: Final = re.compile(
    r"\[(" + "|".join(sorted(ErrorCode, key=len, reverse=True)) + r")(?=[:,\]])"
)


def codes_in(message: str) -> set[str]:
    """The :class:`ErrorCode` values of the reset errors a message carries."""
    return {found[1] for found in CODE_PATTERN.finditer(message)}


class ConfigurationError(ResetError):
    """Credentials, region or endpoint are missing or unusable; raised before any API call."""

    default_code = ErrorCode.INVALID_CONFIGURATION


class ApiCallError(ResetError):
    """A PolarDB API call failed (after retries, when the failure was retryable)."""

    default_code = ErrorCode.API_REQUEST_FAILED

    def __init__(
        self,
        message: str,
        *,
        code: str,
        action: str,
        api_code: str,
        request_id: str | None = None,
        retryable: bool = False,
    ):
        super().__init__(message, code=code, api_code=api_code, request_id=request_id)
        self.action = action
        self.retryable = retryable


class ResetTimeoutError(ResetError):
    """The cluster or the account did not reach the awaited state within timeout_seconds."""

    default_code = ErrorCode.TIMEOUT


class OperationCancelledError(ResetError):
    """The engine cancelled the operation (Ctrl-C): its waits stopped; nothing was undone."""

    default_code = ErrorCode.CANCELLED


@dataclass(frozen=True)
class ApiFailure:
    """An error answer of the PolarDB API (or a transport failure), independent of the SDK.

    ``code`` is PolarDB's error code, or ``Transport`` / ``InvalidResponse`` when
    no API answer arrived.
    """

    code: str
    message: str
    status: int | None = None
    request_id: str | None = None
    retry_after_seconds: float | None = None
    transport: bool = False

    @property
    def retryable(self) -> bool:
        """Tell whether waiting and trying again may succeed."""
        return is_retryable(self.code, self.status, transport=self.transport)


class ApiError(Exception):
    """Internal: raised by the client wrapper for every failed call; carries the failure."""

    def __init__(self, failure: ApiFailure):
        super().__init__(f"{failure.code}: {failure.message}")
        self.failure = failure


class WaitTimeoutError(Exception):
    """Internal: the awaited condition did not hold before the deadline; carries the last result."""

    def __init__(self, last: object):
        super().__init__("deadline passed while waiting")
        self.last = last


#: Pseudo API code of a connection, TLS or timeout failure (no answer arrived).
TRANSPORT_CODE: Final = "Transport"
#: Pseudo API code of an answer that is not a PolarDB API response (a proxy's error page).
INVALID_RESPONSE_CODE: Final = "InvalidResponse"


@dataclass(frozen=True)
class _Context:
    """What a hint may name: the account, its cluster and region, the failed action, and
    the limit that applied (``timeout_seconds``, or the engine's ``customTimeouts.update``)."""

    who: str
    cluster: str
    region: str | None
    action: str | None
    timeout_setting: str = "timeout_seconds"

    @property
    def raise_limit(self) -> str:
        """What to raise for more time, as the user sets it."""
        if self.timeout_setting == "timeout_seconds":
            return "raise timeout_seconds"
        return f"raise the resource option {self.timeout_setting}"


def _not_found_cluster(c: _Context) -> str:
    in_region = f" in region '{c.region}'" if c.region else ""
    return (
        f"PolarDB cluster '{c.cluster}' does not exist{in_region}. Check db_cluster_id and the "
        "region (resource 'region', config 'alicloud:region' or ALIBABA_CLOUD_REGION)."
    )


def _forbidden(c: _Context) -> str:
    needed = f"polardb:{c.action}" if c.action else "the polardb actions"
    # Only `unlock: true` needs ModifyAccountLockState: its policy is a second file.
    listed = (
        "docs/ram-policy-unlock.json lists every action the provider needs with unlock: true"
        if c.action == "ModifyAccountLockState"
        else "docs/ram-policy.json lists every action the provider needs"
    )
    return (
        f"the credentials may not call {c.action or 'this action'} for {c.who}. Add "
        f'"{needed}" to the Action list of your RAM policy\'s statement for '
        f"acs:polardb:*:*:dbcluster/{c.cluster} ({listed})."
    )


@dataclass(frozen=True)
class _Rule:
    """What one kind of PolarDB error code means, for retries and for the user.

    A code matches by ``codes`` (exact), ``prefixes`` or ``contains``. ``retry``: waiting
    and trying again may succeed (None: only when the HTTP status is 5xx). ``error`` and
    ``hint``: the stable code and the sentence saying what to do (None: the status decides,
    as for a code no rule names).
    """

    retry: bool | None
    error: ErrorCode | None = None
    hint: Callable[[_Context], str] | None = None
    codes: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    contains: str | None = None

    def matches(self, code: str) -> bool:
        """Tell whether ``code`` is of this kind."""
        return (
            code in self.codes
            or (bool(self.prefixes) and code.startswith(self.prefixes))
            or (self.contains is not None and self.contains in code)
        )


#: PolarDB's codes for "this cluster does not exist" and "this account does not exist".
CLUSTER_NOT_FOUND_API_CODES: Final = frozenset(
    {"InvalidDBCluster.NotFound", "InvalidDBClusterId.NotFound"}
)
ACCOUNT_NOT_FOUND_API_CODES: Final = frozenset({"InvalidAccountName.NotFound"})

#: Every API error code the provider tells apart, once: the first rule that matches decides
#: both whether to retry and what to tell the user.
_RULES: Final = (
    _Rule(False, ErrorCode.CLUSTER_NOT_FOUND, _not_found_cluster, CLUSTER_NOT_FOUND_API_CODES),
    _Rule(
        False,
        ErrorCode.INVALID_CLUSTER_ID,
        lambda c: (
            f"'{c.cluster}' is not a valid PolarDB cluster ID; it looks like 'pc-' plus letters "
            "and digits."
        ),
        frozenset({"InvalidDBClusterId.Malformed"}),
    ),
    _Rule(
        False,
        ErrorCode.ACCOUNT_NOT_FOUND,
        lambda c: f"{c.who} does not exist. Set account_name to the cluster's privileged account.",
        ACCOUNT_NOT_FOUND_API_CODES,
    ),
    _Rule(
        False,
        ErrorCode.INVALID_ACCOUNT_NAME,
        lambda c: (
            f"PolarDB refused the account name for {c.who}: it must be the cluster's privileged "
            "(Super) account, 2-16 lowercase letters, digits or underscores."
        ),
        frozenset({"InvalidAccountName.Malformed"}),
    ),
    _Rule(
        False,
        ErrorCode.INVALID_PASSWORD,
        lambda c: (
            f"PolarDB refused the new password for {c.who}: use 8-32 characters with three of "
            "uppercase, lowercase, digits and !@#$%^&*()_+-=."
        ),
        frozenset({"InvalidAccountPassword.Malformed"}),
    ),
    _Rule(
        True,
        ErrorCode.CLUSTER_BUSY,
        lambda c: (
            f"cluster '{c.cluster}' is busy with another task, so {c.who} cannot be reset now. "
            f"Wait for the running task to finish (console: Task Center) or {c.raise_limit}."
        ),
        frozenset({"ConcurrentTaskExceeded"}),
    ),
    # The cluster's status refuses account changes: the states it passes through, retried;
    # any other OperationDenied only on a 5xx.
    *(
        _Rule(
            retry,
            ErrorCode.CLUSTER_NOT_READY,
            lambda c: (
                f"cluster '{c.cluster}' is not in a state that allows account changes (it must "
                f"be Running). Wait for maintenance to finish or {c.raise_limit}."
            ),
            codes,
            prefixes,
        )
        for retry, codes, prefixes in (
            (
                True,
                frozenset(
                    {
                        "OperationDenied.DBClusterStatus",
                        "OperationDenied.DBStatus",
                        "OperationDenied.DBInstanceStatus",
                        "IncorrectDBInstanceState",
                    }
                ),
                (),
            ),
            (None, frozenset(), ("OperationDenied",)),
        )
    ),
    _Rule(False, ErrorCode.PERMISSION_DENIED, _forbidden, prefixes=("Forbidden",)),
    _Rule(
        False,
        ErrorCode.INVALID_CREDENTIALS,
        lambda c: (
            "the AccessKey secret does not match the AccessKey ID. Check 'alicloud:secretKey' "
            "or ALIBABA_CLOUD_ACCESS_KEY_SECRET."
        ),
        frozenset({"SignatureDoesNotMatch", "IncompleteSignature"}),
    ),
    _Rule(
        False,
        ErrorCode.INVALID_CREDENTIALS,
        lambda c: (
            "the AccessKey ID is unknown or disabled. Check 'alicloud:accessKey' or "
            "ALIBABA_CLOUD_ACCESS_KEY_ID."
        ),
        prefixes=("InvalidAccessKeyId",),
    ),
    _Rule(
        False,
        ErrorCode.INVALID_CREDENTIALS,
        lambda c: "the STS security token is invalid or expired. Obtain fresh STS credentials.",
        prefixes=("InvalidSecurityToken",),
    ),
    _Rule(
        False,
        ErrorCode.CLOCK_SKEW,
        lambda c: "the request time was refused. Check that this machine's clock is correct (NTP).",
        prefixes=("InvalidTimeStamp",),
    ),
    # The rest of the request's own mistakes: retrying cannot help.
    _Rule(
        False,
        prefixes=(
            "InvalidDBCluster",
            "InvalidAccount",
            "MissingParameter",
            "InvalidParameter",
            "InvalidAction",
        ),
    ),
    _Rule(
        True,
        ErrorCode.THROTTLED,
        lambda c: (
            f"the PolarDB API throttled the requests for {c.who}. Retry later or {c.raise_limit}."
        ),
        contains="Throttling",
    ),
    _Rule(
        True,
        ErrorCode.INVALID_RESPONSE,
        lambda c: (
            "the endpoint answered with something that is not a PolarDB API response while "
            f"working on {c.who} (a proxy or gateway error page?). Check the endpoint and proxy "
            "settings."
        ),
        frozenset({INVALID_RESPONSE_CODE}),
    ),
    _Rule(
        True,
        ErrorCode.SERVICE_ERROR,
        lambda c: f"the PolarDB service failed while working on {c.who}. Retry later.",
        frozenset({"InternalError", "ServiceUnavailable"}),
    ),
    # Busy or flaky back ends: worth another try, said like any refused request.
    _Rule(
        True,
        codes=frozenset(
            {
                "LockTimeout",
                "InstanceConnectTimeoutFault",
                "Database.ConnectError",
                "Connect.Timeout",
            }
        ),
    ),
)


def _rule(code: str) -> _Rule | None:
    return next((rule for rule in _RULES if rule.matches(code)), None)


def is_retryable(code: str, status: int | None, *, transport: bool = False) -> bool:
    """Classify an API error: busy/throttled/5xx/transport errors are retryable, the rest terminal."""
    if transport:
        return True
    rule = _rule(code)
    if rule is not None and rule.retry is not None:
        return rule.retry
    return status is not None and status >= 500


def where(cluster: str, account: str) -> str:
    """The one way messages name an account: ``account 'a' on PolarDB cluster 'pc-x'``.

    :data:`WHERE_PATTERN` finds it again in a message (groups: account, cluster).
    """
    return f"account '{account}' on PolarDB cluster '{cluster}'"


#: Finds :func:`where`'s phrase in a message; groups 1 and 2 are the account and the cluster.
WHERE_PATTERN: Final = re.compile(r"account '([^']+)' on PolarDB cluster '([^']+)'")


def classify(
    failure: ApiFailure,
    *,
    cluster: str,
    account: str,
    region: str | None,
    action: str | None = None,
    timeout_setting: str = "timeout_seconds",
) -> tuple[ErrorCode, str]:
    """The stable code of an API failure and the sentence saying what to do.

    ``action`` is the API action that failed (it names the RAM permission to grant);
    ``timeout_setting`` the limit that applied, which a hint to wait longer names.
    """
    context = _Context(where(cluster, account), cluster, region, action, timeout_setting)
    rule = _rule(failure.code)
    if rule is not None and rule.error is not None and rule.hint is not None:
        return rule.error, rule.hint(context)
    if failure.transport:
        return ErrorCode.ENDPOINT_UNREACHABLE, (
            f"the PolarDB endpoint could not be reached while working on {context.who}. Check "
            "the endpoint, network access and proxy settings."
        )
    if failure.status is not None and failure.status >= 500:
        return ErrorCode.SERVICE_ERROR, (
            f"the PolarDB service failed while working on {context.who}. Retry later."
        )
    return ErrorCode.API_REQUEST_FAILED, f"PolarDB refused the request for {context.who}."


def describe_failure(
    failure: ApiFailure,
    *,
    action: str,
    cluster: str,
    account: str,
    region: str | None = None,
    timeout_seconds: float | None = None,
    elapsed_seconds: float | None = None,
    gave_up: bool = False,
    timeout_setting: str = "timeout_seconds",
) -> ApiCallError:
    """Turn an API failure into an :class:`ApiCallError` whose message says what to do.

    With ``gave_up`` (a retryable failure outlasted the deadline), the message
    says so, with the real time spent when ``elapsed_seconds`` is given.
    ``timeout_setting`` names the limit that applied (``customTimeouts.update`` under the
    engine's custom timeouts), in place of ``timeout_seconds`` in what to raise.
    """
    code, hint = classify(
        failure,
        cluster=cluster,
        account=account,
        region=region,
        action=action,
        timeout_setting=timeout_setting,
    )
    if gave_up and failure.retryable and timeout_seconds is not None:
        spent = f" ({elapsed_seconds:.1f} s elapsed)" if elapsed_seconds is not None else ""
        hint += f" Gave up after {timeout_setting}={timeout_seconds:g}{spent}."
    server = f" Service said: {failure.message}" if failure.message else ""
    return ApiCallError(
        f"{action}: {hint}{server}",
        code=code,
        action=action,
        api_code=failure.code,
        request_id=failure.request_id,
        retryable=failure.retryable,
    )
