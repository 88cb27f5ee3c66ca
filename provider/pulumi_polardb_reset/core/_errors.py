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

RETRYABLE_CODES: Final = frozenset(
    {
        "ConcurrentTaskExceeded",
        "OperationDenied.DBClusterStatus",
        "OperationDenied.DBStatus",
        "OperationDenied.DBInstanceStatus",
        "IncorrectDBInstanceState",
        "LockTimeout",
        "InstanceConnectTimeoutFault",
        "Database.ConnectError",
        "Connect.Timeout",
        "InternalError",
        "ServiceUnavailable",
        INVALID_RESPONSE_CODE,
    }
)
TERMINAL_CODE_PREFIXES: Final = (
    "InvalidDBCluster",
    "InvalidAccount",
    "Forbidden",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidAccessKeyId",
    "InvalidSecurityToken",
    "InvalidTimeStamp",
    "MissingParameter",
    "InvalidParameter",
    "InvalidAction",
)
#: PolarDB's codes for "this cluster does not exist" and "this account does not exist".
CLUSTER_NOT_FOUND_API_CODES: Final = frozenset(
    {"InvalidDBCluster.NotFound", "InvalidDBClusterId.NotFound"}
)
ACCOUNT_NOT_FOUND_API_CODES: Final = frozenset({"InvalidAccountName.NotFound"})


def is_retryable(code: str, status: int | None, *, transport: bool = False) -> bool:
    """Classify an API error: busy/throttled/5xx/transport errors are retryable, the rest terminal."""
    if transport:
        return True
    if code.startswith(TERMINAL_CODE_PREFIXES):
        return False
    if code in RETRYABLE_CODES or "Throttling" in code:
        return True
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
) -> tuple[ErrorCode, str]:
    """The stable code of an API failure and the sentence saying what to do.

    ``action`` is the API action that failed (it names the RAM permission to grant).
    """
    who = where(cluster, account)
    code = failure.code
    in_region = f" in region '{region}'" if region else ""
    if code in CLUSTER_NOT_FOUND_API_CODES:
        return ErrorCode.CLUSTER_NOT_FOUND, (
            f"PolarDB cluster '{cluster}' does not exist{in_region}. Check db_cluster_id and the "
            "region (resource 'region', config 'alicloud:region' or ALIBABA_CLOUD_REGION)."
        )
    if code == "InvalidDBClusterId.Malformed":
        return ErrorCode.INVALID_CLUSTER_ID, (
            f"'{cluster}' is not a valid PolarDB cluster ID; it looks like 'pc-' plus letters and digits."
        )
    if code in ACCOUNT_NOT_FOUND_API_CODES:
        return ErrorCode.ACCOUNT_NOT_FOUND, (
            f"{who} does not exist. Set account_name to the cluster's privileged account."
        )
    if code == "InvalidAccountName.Malformed":
        return ErrorCode.INVALID_ACCOUNT_NAME, (
            f"PolarDB refused the account name for {who}: it must be the cluster's privileged "
            "(Super) account, 2-16 lowercase letters, digits or underscores."
        )
    if code == "InvalidAccountPassword.Malformed":
        return ErrorCode.INVALID_PASSWORD, (
            f"PolarDB refused the new password for {who}: use 8-32 characters with three of "
            "uppercase, lowercase, digits and !@#$%^&*()_+-=."
        )
    if code == "ConcurrentTaskExceeded":
        return ErrorCode.CLUSTER_BUSY, (
            f"cluster '{cluster}' is busy with another task, so {who} cannot be reset now. Wait "
            "for the running task to finish (console: Task Center) or raise timeout_seconds."
        )
    if code.startswith("OperationDenied") or code == "IncorrectDBInstanceState":
        return ErrorCode.CLUSTER_NOT_READY, (
            f"cluster '{cluster}' is not in a state that allows account changes (it must be "
            "Running). Wait for maintenance to finish or raise timeout_seconds."
        )
    if code.startswith("Forbidden"):
        needed = f"polardb:{action}" if action else "the polardb actions"
        # Only `unlock: true` needs ModifyAccountLockState: its policy is a second file.
        listed = (
            "docs/ram-policy-unlock.json lists every action the provider needs with unlock: true"
            if action == "ModifyAccountLockState"
            else "docs/ram-policy.json lists every action the provider needs"
        )
        return ErrorCode.PERMISSION_DENIED, (
            f"the credentials may not call {action or 'this action'} for {who}. Add "
            f'"{needed}" to the Action list of your RAM policy\'s statement for '
            f"acs:polardb:*:*:dbcluster/{cluster} ({listed})."
        )
    if code in ("SignatureDoesNotMatch", "IncompleteSignature"):
        return ErrorCode.INVALID_CREDENTIALS, (
            "the AccessKey secret does not match the AccessKey ID. Check 'alicloud:secretKey' "
            "or ALIBABA_CLOUD_ACCESS_KEY_SECRET."
        )
    if code.startswith("InvalidAccessKeyId"):
        return ErrorCode.INVALID_CREDENTIALS, (
            "the AccessKey ID is unknown or disabled. Check 'alicloud:accessKey' or "
            "ALIBABA_CLOUD_ACCESS_KEY_ID."
        )
    if code.startswith("InvalidSecurityToken"):
        return ErrorCode.INVALID_CREDENTIALS, (
            "the STS security token is invalid or expired. Obtain fresh STS credentials."
        )
    if code.startswith("InvalidTimeStamp"):
        return ErrorCode.CLOCK_SKEW, (
            "the request time was refused. Check that this machine's clock is correct (NTP)."
        )
    if "Throttling" in code:
        return ErrorCode.THROTTLED, (
            f"the PolarDB API throttled the requests for {who}. Retry later or raise timeout_seconds."
        )
    if failure.transport:
        return ErrorCode.ENDPOINT_UNREACHABLE, (
            f"the PolarDB endpoint could not be reached while working on {who}. Check the "
            "endpoint, network access and proxy settings."
        )
    if code == INVALID_RESPONSE_CODE:
        return ErrorCode.INVALID_RESPONSE, (
            f"the endpoint answered with something that is not a PolarDB API response while "
            f"working on {who} (a proxy or gateway error page?). Check the endpoint and proxy "
            "settings."
        )
    if code in ("InternalError", "ServiceUnavailable") or (
        failure.status is not None and failure.status >= 500
    ):
        return ErrorCode.SERVICE_ERROR, (
            f"the PolarDB service failed while working on {who}. Retry later."
        )
    return ErrorCode.API_REQUEST_FAILED, f"PolarDB refused the request for {who}."


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
    code, hint = classify(failure, cluster=cluster, account=account, region=region, action=action)
    if timeout_setting != "timeout_seconds":
        hint = hint.replace("raise timeout_seconds", f"raise the resource option {timeout_setting}")
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
