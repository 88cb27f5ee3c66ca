"""The errors every service of the emulator shares: the error type and the gateway's codes.

Every error the emulator returns is an :class:`ApiError` carrying the error code, a
realistic message and the HTTP status. :data:`CATALOG` holds what the API gateway
answers for any service (authentication, RAM, unknown actions, HTTP-level and
service-wide errors); each service's own codes live in its package's ``exceptions``
module (``polardb/exceptions.py``), whose ``api_error`` looks there first, then here.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    "Forbidden.RAM": (
        403,
        "User not authorized to operate on the specified resource, or this API doesn't "
        "support RAM.",
    ),
    "InvalidParameter": (400, "The specified parameter is not valid."),
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
    "InvalidSecurityToken.Expired": (400, "Specified SecurityToken is expired."),
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


def api_error(
    code: str,
    message: str | None = None,
    status: int | None = None,
    *,
    catalog: Mapping[str, tuple[int, str]] = CATALOG,
) -> ApiError:
    """Build an :class:`ApiError` for ``code`` from ``catalog`` (default: the gateway's).

    ``message`` replaces the default message; ``status`` overrides the default
    status (for actions whose reference documents another status). Unknown
    codes (from injected faults) default to 400.
    """
    default_status, default_message = catalog.get(code, (400, f"The request failed: {code}."))
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
