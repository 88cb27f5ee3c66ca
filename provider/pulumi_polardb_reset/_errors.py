"""Errors users can act on, and the mapping from API error codes to them (pure).

Every message names the cluster and the account and says what to do next. The
password is never part of a message: the client wrapper scrubs server text
with :func:`redact` before it gets here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final


class ResetError(Exception):
    """A failure of a privileged account reset, with a message meant for the user."""

    def __init__(self, message: str, *, code: str | None = None, request_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        return self.message


class ConfigurationError(ResetError):
    """Credentials, region or endpoint are missing or unusable; raised before any API call."""


@dataclass(frozen=True)
class ApiFailure:
    """An error answer of the PolarDB API (or a transport failure), independent of the SDK."""

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


def is_retryable(code: str, status: int | None, *, transport: bool = False) -> bool:
    """Classify an API error: busy/throttled/5xx/transport errors are retryable, the rest terminal."""
    if transport:
        return True
    if code.startswith(TERMINAL_CODE_PREFIXES):
        return False
    if code in RETRYABLE_CODES or "Throttling" in code:
        return True
    return status is not None and status >= 500


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of each secret in ``text`` with ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _where(cluster: str, account: str) -> str:
    return f"account '{account}' on PolarDB cluster '{cluster}'"


def describe_failure(
    failure: ApiFailure,
    *,
    action: str,
    cluster: str,
    account: str,
    region: str | None = None,
    timeout_seconds: float | None = None,
    gave_up: bool = False,
) -> ResetError:
    """Turn an API failure into a :class:`ResetError` whose message says what to do."""
    where = _where(cluster, account)
    code = failure.code
    in_region = f" in region '{region}'" if region else ""
    hint: str
    if code in ("InvalidDBCluster.NotFound", "InvalidDBClusterId.NotFound"):
        hint = (
            f"PolarDB cluster '{cluster}' does not exist{in_region}. Check db_cluster_id and the "
            "region (resource 'region', config 'alicloud:region' or ALIBABA_CLOUD_REGION)."
        )
    elif code == "InvalidDBClusterId.Malformed":
        hint = f"'{cluster}' is not a valid PolarDB cluster ID; it looks like 'pc-' plus letters and digits."
    elif code == "InvalidAccountName.NotFound":
        hint = f"{where} does not exist. Set account_name to the cluster's privileged account."
    elif code == "InvalidAccountName.Malformed":
        hint = (
            f"PolarDB refused the account name for {where}: it must be the cluster's privileged "
            "(Super) account, 2-16 lowercase letters, digits or underscores."
        )
    elif code == "InvalidAccountPassword.Malformed":
        hint = (
            f"PolarDB refused the new password for {where}: use 8-32 characters with three of "
            "uppercase, lowercase, digits and !@#$%^&*()_+-=."
        )
    elif code == "ConcurrentTaskExceeded":
        hint = (
            f"cluster '{cluster}' is busy with another task, so {where} cannot be reset now. Wait "
            "for the running task to finish (console: Task Center) or raise timeout_seconds."
        )
    elif code.startswith("OperationDenied"):
        hint = (
            f"cluster '{cluster}' is not in a state that allows account changes (it must be "
            "Running). Wait for maintenance to finish or raise timeout_seconds."
        )
    elif code.startswith("Forbidden"):
        hint = (
            f"the credentials may not reset {where}. Grant the RAM permissions "
            "polardb:ResetAccount, polardb:DescribeAccounts and polardb:DescribeDBClusterAttribute."
        )
    elif code in ("SignatureDoesNotMatch", "IncompleteSignature"):
        hint = (
            "the AccessKey secret does not match the AccessKey ID. Check 'alicloud:secretKey' "
            "or ALIBABA_CLOUD_ACCESS_KEY_SECRET."
        )
    elif code.startswith("InvalidAccessKeyId"):
        hint = (
            "the AccessKey ID is unknown or disabled. Check 'alicloud:accessKey' or "
            "ALIBABA_CLOUD_ACCESS_KEY_ID."
        )
    elif code.startswith("InvalidSecurityToken"):
        hint = "the STS security token is invalid or expired. Obtain fresh STS credentials."
    elif code.startswith("InvalidTimeStamp"):
        hint = "the request time was refused. Check that this machine's clock is correct (NTP)."
    elif "Throttling" in code:
        hint = f"the PolarDB API throttled the requests for {where}. Retry later or raise timeout_seconds."
    elif failure.transport:
        hint = (
            f"the PolarDB endpoint could not be reached while working on {where}. Check the "
            "endpoint, network access and proxy settings."
        )
    elif failure.status is not None and failure.status >= 500:
        hint = f"the PolarDB service failed while working on {where}. Retry later."
    else:
        hint = f"{action} failed for {where}."
    if gave_up and failure.retryable and timeout_seconds is not None:
        hint += f" Gave up after timeout_seconds={timeout_seconds:g}."
    detail = (
        f" [{code}" + (f", request id {failure.request_id}" if failure.request_id else "") + "]"
    )
    server = f" Service said: {failure.message}" if failure.message else ""
    return ResetError(f"{action}: {hint}{server}{detail}", code=code, request_id=failure.request_id)
