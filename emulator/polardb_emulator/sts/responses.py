"""STS's actions (API 2015-04-01): parameters in, the answer document out.

``AssumeRoleWithOIDC`` is anonymous, as on Alibaba Cloud: the OIDC token is the credential,
so the gateway lets it through unsigned (:data:`ANONYMOUS_ACTIONS`). ``AssumeRole`` is signed
and authorised by the gateway first (``sts:AssumeRole`` on the role's ARN in the caller's
policy), then the role's trust policy must name the caller's account.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any, Final

import jwt

from .exceptions import api_error
from .models import MIN_SESSION_SECONDS, OidcProvider, Role, Session, StsService

API_VERSION: Final = "2015-04-01"
SERVICE: Final = "sts"
ANONYMOUS_ACTIONS: Final = frozenset({"AssumeRoleWithOIDC"})
_SESSION_NAME = re.compile(r"[\w.@-]{2,64}")
#: Longest OIDC token read (a JWT of an identity provider is a few KiB).
MAX_TOKEN_CHARS: Final = 10_000

#: (service, caller AccessKey ID or None for anonymous calls, parameters, request ID)
Handler = Callable[[StsService, str | None, Mapping[str, str], str], dict[str, Any]]


def _role(service: StsService, params: Mapping[str, str]) -> Role:
    arn = params.get("RoleArn", "")
    if not arn:
        raise api_error(
            "MissingParameter",
            'The input parameter "RoleArn" that is mandatory '
            "for processing this request is not supplied.",
        )
    if not arn.startswith("acs:ram::") or ":role/" not in arn:
        raise api_error("InvalidParameter.RoleArn")
    role = service.role(arn)
    if role is None:
        raise api_error("EntityNotExist.Role", f"The specified Role not exists: {arn[:200]}.")
    return role


def _seconds(role: Role, params: Mapping[str, str]) -> int:
    raw = params.get("DurationSeconds") or "3600"
    try:
        seconds = int(raw)
    except ValueError:
        seconds = -1
    if not MIN_SESSION_SECONDS <= seconds <= role.max_session_seconds:
        raise api_error(
            "InvalidParameter.DurationSeconds",
            f"The Min/Max value of DurationSeconds is {MIN_SESSION_SECONDS}s/"
            f"{role.max_session_seconds}s (the role's maximum session duration).",
        )
    return seconds


def _session_name(params: Mapping[str, str]) -> str:
    name = params.get("RoleSessionName", "")
    if not _SESSION_NAME.fullmatch(name):
        raise api_error("InvalidParameter.RoleSessionName")
    return name


def _credentials(session: Session, request_id: str, role: Role) -> dict[str, Any]:
    return {
        "RequestId": request_id,
        "AssumedRoleUser": {
            "Arn": f"{role.arn}/{session.session_name}",
            "AssumedRoleId": f"{secrets.randbelow(10**17):017d}:{session.session_name}",
        },
        "Credentials": {
            "AccessKeyId": session.access_key_id,
            "AccessKeySecret": session.secret,
            "SecurityToken": session.security_token,
            "Expiration": session.expiration,
        },
    }


def assume_role(
    service: StsService, caller: str | None, params: Mapping[str, str], request_id: str
) -> dict[str, Any]:
    """AssumeRole: the caller's account must be trusted by the role."""
    role = _role(service, params)
    name = _session_name(params)
    seconds = _seconds(role, params)
    root = f"acs:ram::{service.account_id}:root"
    if not any(root in s.ram_principals or "*" in s.ram_principals for s in role.trust):
        raise api_error(
            "NoPermission",
            f"You are not authorized to do this action: the trust policy of {role.arn} does "
            f"not name {root}.",
        )
    return _credentials(service.sessions.issue(role, name, seconds), request_id, role)


def _verified_claims(provider: OidcProvider, token: str) -> dict[str, Any]:
    """The token's claims, once its signature, issuer, audience and expiry are verified."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise api_error("AuthenticationFail.OIDCToken.Invalid", "The OIDCToken can not empty.")
    try:
        header = jwt.get_unverified_header(token)
        keys = jwt.PyJWKSet.from_dict(dict(provider.jwks)).keys
        kid = header.get("kid")
        key = next((k for k in keys if kid is None or k.key_id == kid), None)
        if key is None:
            raise api_error(
                "AuthenticationFail.OIDCToken.InvalidSignature",
                "OIDC token validate failed: no key of the provider's JWKS has the token's kid.",
            )
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=list(provider.client_ids),
            issuer=provider.issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise api_error("AuthenticationFail.OIDCToken.Expired") from None
    except jwt.InvalidAudienceError:
        raise api_error(
            "AuthenticationFail.OIDCToken.AudienceNotMatch",
            "Invalid audience: the token's aud is none of the provider's client IDs.",
        ) from None
    except jwt.InvalidIssuerError:
        raise api_error(
            "AuthenticationFail.OIDCToken.IssuerNotMatch",
            "Invalid issuer: the token's iss is not the provider's issuer URL.",
        ) from None
    except jwt.InvalidSignatureError:
        raise api_error("AuthenticationFail.OIDCToken.InvalidSignature") from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise api_error(
            "AuthenticationFail.OIDCToken.Invalid", "The Jwt content is invalid."
        ) from None
    return claims


def assume_role_with_oidc(
    service: StsService, caller: str | None, params: Mapping[str, str], request_id: str
) -> dict[str, Any]:
    """AssumeRoleWithOIDC: a verified token of a provider the role trusts, its conditions met."""
    provider_arn = params.get("OIDCProviderArn", "")
    provider = service.oidc_providers.get(provider_arn)
    if provider is None:
        raise api_error("AuthenticationFail.NoPermission", "No such OIDC Provider registered.")
    role = _role(service, params)
    name = _session_name(params)
    seconds = _seconds(role, params)
    claims = _verified_claims(provider, params.get("OIDCToken", ""))
    audience = claims["aud"] if isinstance(claims["aud"], str) else ",".join(claims["aud"])
    facts = {"oidc:iss": str(claims["iss"]), "oidc:aud": audience, "oidc:sub": str(claims["sub"])}
    trusted = [s for s in role.trust if provider.arn in s.federated]
    if not any(s.admits_claims(facts) for s in trusted):
        raise api_error(
            "AuthenticationFail.NoPermission",
            f"There is no permission: the trust policy of {role.arn} does not admit this "
            f"token of {provider.arn} (sub {facts['oidc:sub'][:200]}).",
        )
    answer = _credentials(service.sessions.issue(role, name, seconds), request_id, role)
    answer["OIDCTokenInfo"] = {
        "Subject": facts["oidc:sub"],
        "Issuer": facts["oidc:iss"],
        "ClientIds": audience,
    }
    return answer


ACTIONS: Final[Mapping[str, Handler]] = {
    "AssumeRole": assume_role,
    "AssumeRoleWithOIDC": assume_role_with_oidc,
}
