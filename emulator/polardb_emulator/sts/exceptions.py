"""STS's own error codes (the gateway's are in ``polardb_emulator._exceptions``).

Codes and messages follow STS's published error list (API 2015-04-01).
"""

from __future__ import annotations

from typing import Final

from .._exceptions import CATALOG as GATEWAY_CATALOG
from .._exceptions import ApiError
from .._exceptions import api_error as _build

CATALOG: Final[dict[str, tuple[int, str]]] = {
    "InvalidParameter.RoleArn": (400, "The parameter RoleArn is wrongly formed."),
    "InvalidParameter.DurationSeconds": (
        400,
        "The Min/Max value of DurationSeconds is 15min/the role's max session duration.",
    ),
    "InvalidParameter.RoleSessionName": (400, "The parameter RoleSessionName is wrongly formed."),
    "EntityNotExist.Role": (404, "The specified Role not exists."),
    "NoPermission": (
        403,
        "You are not authorized to do this action. You should be authorized by RAM.",
    ),
    "AuthenticationFail.NoPermission": (401, "There is no permission."),
    "AuthenticationFail.OIDCToken.Invalid": (401, "The Jwt content is invalid."),
    "AuthenticationFail.OIDCToken.Expired": (401, "This JsonWebToken is expired."),
    "AuthenticationFail.OIDCToken.AudienceNotMatch": (401, "Invalid audience."),
    "AuthenticationFail.OIDCToken.IssuerNotMatch": (401, "Invalid issuer."),
    "AuthenticationFail.OIDCToken.InvalidSignature": (
        401,
        "OIDC token validate failed: invalid signature.",
    ),
}


_ALL: Final = {**GATEWAY_CATALOG, **CATALOG}


def api_error(code: str, message: str | None = None, status: int | None = None) -> ApiError:
    """An STS error from this catalogue, else the gateway's (unknown codes: 400)."""
    return _build(code, message, status, catalog=_ALL)


__all__ = ["CATALOG", "ApiError", "api_error"]
