"""The one place where API errors are defined.

Every error the emulator can return is an :class:`ApiError` carrying the error
code, a realistic message and the HTTP status. The catalogue below holds the
default status and message of each code; :func:`api_error` builds an error from
it, optionally overriding the message (to add specifics) or the status (a few
actions document a different status for the same code).
"""

from __future__ import annotations

from typing import Any, Final


class ApiError(Exception):
    """An error response: ``{"RequestId", "Code", "Message"}`` with an HTTP status."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        retry_after_ms: int | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        # Only set by injected throttling faults: rendered as x-acs-retry-after.
        self.retry_after_ms = retry_after_ms
        #: More fields of the error document (Forbidden.RAM's AccessDeniedDetail).
        self.extra: dict[str, Any] = {}


class AuthError(ApiError):
    """An authentication failure (signature, key, token, timestamp or nonce)."""


# code -> (HTTP status, default message). Messages follow the wording of the
# public API reference where it exists.
CATALOG: Final[dict[str, tuple[int, str]]] = {
    # --- ResetAccount (seed document) -----------------------------------
    "InvalidAccountName.Malformed": (400, "The specified parameter AccountName is not valid."),
    "ConcurrentTaskExceeded": (403, "The number of concurrent tasks exceeds the quota."),
    "InvalidDBCluster.NotFound": (404, "The DBClusterId provided does not exist in our records."),
    "InvalidDBClusterId.Malformed": (404, "The specified parameter DBClusterId is not valid."),
    "InvalidDBClusterId.NotFound": (
        404,
        "The DBInstanceId provided does not exist in our records.",
    ),
    # --- DescribeAccounts ------------------------------------------------
    "InvalidPageSize.Malformed": (400, "The specified parameter PageSize is not valid."),
    "InvalidPageNumber.Malformed": (400, "The specified parameter PageNumber is not valid."),
    "Database.ConnectError": (400, "The database connection failed."),
    "Account.QueryError": (400, "Failed to query the accounts of the cluster."),
    "Connect.Timeout": (400, "The connection to the database timed out."),
    # --- DescribeDBClusterAttribute --------------------------------------
    "Forbidden.RAM": (
        403,
        "User not authorized to operate on the specified resource, or this API doesn't "
        "support RAM.",
    ),
    # --- CreateAccount / ModifyAccountPassword / DeleteAccount -----------
    "InvalidAccountPassword.Malformed": (
        400,
        "The specified parameter AccountPassword is not valid.",
    ),
    "InvalidAccountType.Malformed": (400, "The specified parameter AccountType is not valid."),
    "LockTimeout": (400, "The request processing has failed due to lock timeout."),
    "InvalidAccountName.Duplicate": (400, "The specified account name already exists."),
    "InvalidAccountName.NotFound": (404, "The specified account does not exist."),
    "OperationDenied.DBClusterStatus": (
        400,
        "The operation is not permitted due to status of cluster.",
    ),
    "OperationDenied.AccountStatus": (
        400,
        "The operation is not permitted due to status of account.",
    ),
    # Chosen by the emulator (no documented code): ResetAccount on a
    # PostgreSQL or Oracle cluster.
    "OperationDenied.DBType": (
        400,
        "The operation is not permitted due to type of cluster. "
        "Only PolarDB for MySQL clusters support this operation.",
    ),
    "InvalidParameter": (400, "The specified parameter is not valid."),
    "InvalidRegionId.NotFound": (404, "The specified RegionId does not exist."),
    # --- gateway / authentication ----------------------------------------
    "MissingParameter": (400, "A required parameter is not supplied."),
    "InvalidAction.NotFound": (
        404,
        "Specified api is not found, please check your url and method.",
    ),
    "InvalidVersion": (400, "Specified parameter Version is not valid."),
    "UnsupportedSignatureAlgorithm": (400, "The specified signature algorithm is not supported."),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "SignatureDoesNotMatch": (
        400,
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    ),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "InvalidTimeStamp.Format": (400, "Specified time stamp or date value is not well formatted."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "InvalidSecurityToken.Malformed": (400, "The specified SecurityToken is malformed."),
    "InvalidSecurityToken.MismatchWithAccessKey": (
        400,
        "The specified SecurityToken mismatch with the AccessKey.",
    ),
    # --- HTTP-level errors (emulator choices: the reference documents none) --
    "MalformedRequest": (400, "The request is not valid HTTP (request line, headers or body)."),
    "UnsupportedHTTPMethod": (405, "The HTTP method is not supported: the API takes POST /."),
    "RequestTimeout": (408, "The request was not received in time."),
    "RequestEntityTooLarge": (413, "The request is too large."),
    # --- service-wide ------------------------------------------------------
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure of the server."),
    "InternalError": (500, "The request processing has failed due to some unknown error."),
}


def api_error(code: str, message: str | None = None, status: int | None = None) -> ApiError:
    """Build an :class:`ApiError` for ``code`` from the catalogue.

    ``message`` replaces the default message; ``status`` overrides the default
    status (for actions whose reference documents another status). Unknown
    codes (from injected faults) default to 400.
    """
    default_status, default_message = CATALOG.get(code, (400, f"The request failed: {code}."))
    return ApiError(code, message or default_message, status or default_status)


def auth_error(code: str, message: str | None = None) -> AuthError:
    """Build an :class:`AuthError` for ``code`` from the catalogue."""
    status, default_message = CATALOG[code]
    return AuthError(code, message or default_message, status)


def missing_parameter(name: str) -> ApiError:
    """The error for a mandatory parameter that was not supplied."""
    return api_error(
        "MissingParameter",
        f'The input parameter "{name}" that is mandatory for processing this request '
        "is not supplied.",
    )
