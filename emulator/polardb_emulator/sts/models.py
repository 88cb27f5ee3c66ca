"""STS's domain: roles (trust and permission policies), OIDC identity providers, sessions.

A role's trust policy says who may assume it (RAM's format)::

    {"Version": "1",
     "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"Federated": ["acs:ram::<uid>:oidc-provider/github"]},
                    "Condition": {"StringEquals": {"oidc:aud": "sts.aliyuncs.com"},
                                  "StringLike": {"oidc:sub": "repo:org/repo:*"}}}]}

``Principal.RAM`` (``acs:ram::<uid>:root``: any AccessKey of the account) serves
``AssumeRole``; ``Principal.Federated`` names the OIDC providers of ``AssumeRoleWithOIDC``.
Conditions: ``StringEquals`` and ``StringLike`` (``*`` wildcard) on the token's claims as
``oidc:iss``, ``oidc:aud`` and ``oidc:sub``; any other operator is refused when the seed is
loaded (ignoring one would trust more than RAM does).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .._ram import Policy, matches

#: STS's bounds on DurationSeconds (the upper one per role: ``max_session_seconds``).
MIN_SESSION_SECONDS = 900
DEFAULT_SESSION_SECONDS = 3600
CONDITION_OPERATORS = ("StringEquals", "StringLike")
CONDITION_KEYS = ("oidc:iss", "oidc:aud", "oidc:sub")


@dataclass(frozen=True)
class TrustStatement:
    """One Allow statement of a trust policy: who, and on which token claims."""

    ram_principals: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    #: (operator, claim key, accepted values)
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def admits_claims(self, claims: Mapping[str, str]) -> bool:
        """Whether every condition holds for the token's claims (``oidc:sub``, ...)."""
        for operator, key, values in self.conditions:
            actual = claims.get(key, "")
            if operator == "StringEquals" and actual not in values:
                return False
            if operator == "StringLike" and not any(matches(v, actual) for v in values):
                return False
        return True


@dataclass(frozen=True)
class Role:
    """A RAM role: its ARN, who may assume it, what its sessions may do."""

    name: str
    arn: str
    trust: tuple[TrustStatement, ...]
    policy: Policy | None = field(default=None, repr=False, compare=False)
    max_session_seconds: int = DEFAULT_SESSION_SECONDS


@dataclass(frozen=True)
class OidcProvider:
    """An OIDC identity provider registered in RAM: issuer, audiences (client IDs), keys."""

    name: str
    arn: str
    issuer: str
    client_ids: tuple[str, ...]
    #: The issuer's JWKS document (``{"keys": [...]}``): public keys only.
    jwks: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass
class Session:
    """Credentials issued by STS for a role: valid until ``expires_at`` (epoch seconds)."""

    access_key_id: str
    secret: str = field(repr=False)
    security_token: str = field(repr=False)
    role: Role
    session_name: str
    expires_at: float

    @property
    def expiration(self) -> str:
        """``Expiration`` as STS writes it (UTC, seconds)."""
        return datetime.fromtimestamp(self.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Sessions:
    """The sessions issued so far (thread-safe: the admin API expires them from its handler)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._by_key: dict[str, Session] = {}

    def issue(self, role: Role, session_name: str, seconds: int) -> Session:
        """New credentials for ``role``, valid ``seconds`` from now."""
        session = Session(
            access_key_id=f"STS.{secrets.token_hex(12)}",
            secret=secrets.token_urlsafe(30),
            security_token=f"CAIS{secrets.token_urlsafe(96)}",
            role=role,
            session_name=session_name,
            expires_at=self._clock() + seconds,
        )
        with self._lock:
            self._by_key[session.access_key_id] = session
        return session

    def get(self, access_key_id: str) -> Session | None:
        """The session of an STS AccessKey ID, expired or not."""
        with self._lock:
            return self._by_key.get(access_key_id)

    def expired(self, session: Session) -> bool:
        """Whether ``session`` is past its expiry."""
        return self._clock() >= session.expires_at

    def expire_all(self) -> int:
        """End every session now (as if their time had passed); how many were live."""
        now = self._clock()
        with self._lock:
            live = [s for s in self._by_key.values() if s.expires_at > now]
            for session in live:
                session.expires_at = now
        return len(live)

    def clear(self) -> None:
        """Forget every session (emulator reset)."""
        with self._lock:
            self._by_key.clear()


@dataclass
class StsService:
    """What STS knows: the seed's roles and OIDC providers, and the sessions it issued."""

    account_id: str
    roles: dict[str, Role] = field(default_factory=dict)  # by ARN, lower case
    oidc_providers: dict[str, OidcProvider] = field(default_factory=dict)  # by ARN
    sessions: Sessions = field(default_factory=Sessions)

    def role(self, arn: str) -> Role | None:
        """The role an ARN names (role names are case-insensitive in RAM)."""
        return self.roles.get(arn.lower())


def role_arn(account_id: str, name: str) -> str:
    """``acs:ram::<uid>:role/<name>`` (RAM writes role names in lower case in ARNs)."""
    return f"acs:ram::{account_id}:role/{name.lower()}"


def oidc_provider_arn(account_id: str, name: str) -> str:
    """``acs:ram::<uid>:oidc-provider/<name>``."""
    return f"acs:ram::{account_id}:oidc-provider/{name}"
