"""Short-lived credentials of a RAM role, from STS: the only module that talks to STS.

``AssumeRole`` (signed with an AccessKey) and ``AssumeRoleWithOIDC`` (an OIDC token from a
file, e.g. a CI system's identity token) go through the STS API SDK
(``alibabacloud-sts20150401``) with the endpoint, TLS and timeouts of the configuration, so
an STS endpoint set in config (a VPC endpoint, the emulator) works like the PolarDB one.
Alibaba's credential chain (``alibabacloud-credentials``) can do both too, but only over https
to its own endpoints with certifi's CA list.

The credentials are cached by the chain's own :class:`RefreshCachedSupplier` and renewed
before they expire; :meth:`RoleCredentialsProvider.expire` drops them when an API answer says
they expired anyway (clock skew, a revoked session), so the next call fetches new ones.
"""

from __future__ import annotations

import calendar
import logging
import threading
import time
from pathlib import Path
from typing import Any

from alibabacloud_credentials.provider.refreshable import (
    Credentials,
    RefreshCachedSupplier,
    RefreshResult,
)
from alibabacloud_credentials_api import ICredentialsProvider

from ..core import _scrub, _time
from ..core._errors import ConfigurationError
from ._settings import RoleCredentials

log = logging.getLogger("pulumi_polardb_reset")

#: Renew this long before the expiry STS gives (at most a quarter of the session's life).
RENEW_BEFORE_SECONDS = 300
#: Longest OIDC token file read (a JWT is a few KiB).
MAX_TOKEN_BYTES = 64 * 1024


class RoleCredentialsProvider(ICredentialsProvider):  # type: ignore[misc]  # untyped base
    """Credentials of ``role``, fetched from STS and renewed before they expire."""

    def __init__(self, role: RoleCredentials, *, ca_file: str | None, timeout_ms: int) -> None:
        self._role = role
        self._ca_file = ca_file
        self._timeout_ms = timeout_ms
        self._lock = threading.Lock()
        self._cache = self._new_cache()

    def _new_cache(self) -> RefreshCachedSupplier[Credentials]:
        return RefreshCachedSupplier(
            refresh_callable=self._refresh, refresh_callable_async=self._refresh_async
        )

    def get_credentials(self) -> Credentials:
        """The cached credentials, renewed first when they are about to expire."""
        with self._lock:
            cache = self._cache
        return cache._sync_call()

    async def get_credentials_async(self) -> Credentials:
        """As :meth:`get_credentials` (the SDK's async path is not used here)."""
        return self.get_credentials()

    def get_provider_name(self) -> str:
        """How the chain names this provider in its models."""
        return "oidc_role_arn" if self._role.oidc_token_file else "ram_role_arn"

    def expire(self) -> None:
        """Forget the cached credentials: an API answer said they expired."""
        with self._lock:
            self._cache = self._new_cache()

    async def _refresh_async(self) -> RefreshResult[Credentials]:
        return self._refresh()

    def _refresh(self) -> RefreshResult[Credentials]:
        token = read_token(self._role.oidc_token_file) if self._role.oidc_token_file else None
        # Registered before the call: the SDK's debug log may quote the token in the query.
        _scrub.register(self, (token,))
        answer = self._assume(token)
        expiration = calendar.timegm(time.strptime(answer.expiration, _time.TIMESTAMP_FORMAT))
        _scrub.register(self, (token, answer.access_key_secret, answer.security_token))
        life = max(expiration - int(time.time()), 0)
        log.debug("%s: STS credentials valid for %d s", self._role.source, life)
        return RefreshResult(
            value=Credentials(
                access_key_id=answer.access_key_id,
                access_key_secret=answer.access_key_secret,
                security_token=answer.security_token,
                expiration=expiration,
                provider_name=self.get_provider_name(),
            ),
            stale_time=expiration - min(RENEW_BEFORE_SECONDS, life // 4),
        )

    def _assume(self, token: str | None) -> Any:
        from alibabacloud_sts20150401 import models as sts_models
        from alibabacloud_sts20150401.client import Client
        from alibabacloud_tea_openapi import models as openapi

        role = self._role
        config = openapi.Config(
            endpoint=role.sts.host,
            protocol=role.sts.protocol,
            ca=self._ca_file,
            connect_timeout=self._timeout_ms,
            read_timeout=self._timeout_ms,
        )
        if role.base is not None:
            config.access_key_id = role.base.access_key_id
            config.access_key_secret = role.base.access_key_secret
            config.security_token = role.base.security_token
            request: Any = sts_models.AssumeRoleRequest(
                role_arn=role.role_arn,
                role_session_name=role.session_name,
                duration_seconds=role.duration_seconds,
            )
            call = Client(config).assume_role
        else:
            request = sts_models.AssumeRoleWithOIDCRequest(
                role_arn=role.role_arn,
                oidcprovider_arn=role.oidc_provider_arn,
                oidctoken=token,
                role_session_name=role.session_name,
                duration_seconds=role.duration_seconds,
            )
            call = Client(config).assume_role_with_oidc
        try:
            return call(request).body.credentials
        except Exception as exc:
            raise ConfigurationError(sts_refusal(role, exc)) from None


def read_token(path: str) -> str:
    """The OIDC token in ``path`` (read at each renewal: CI systems rewrite the file)."""
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(MAX_TOKEN_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the OIDC token file {path} (ALIBABA_CLOUD_OIDC_TOKEN_FILE): "
            f"{exc.strerror or type(exc).__name__}"
        ) from None
    token = raw.decode("utf-8", "replace").strip()
    if len(raw) > MAX_TOKEN_BYTES:
        raise ConfigurationError(
            f"the OIDC token file {path} is larger than {MAX_TOKEN_BYTES} bytes"
        )
    if not token:
        raise ConfigurationError(
            f"the OIDC token file {path} (ALIBABA_CLOUD_OIDC_TOKEN_FILE) is empty"
        )
    return token


def sts_refusal(role: RoleCredentials, exc: Exception) -> str:
    """One line saying why STS gave no credentials for ``role``."""
    code = getattr(exc, "code", None)
    data = getattr(exc, "data", None)
    message = ""
    if isinstance(data, dict):
        message = str(data.get("Message") or "")
    message = message or str(getattr(exc, "message", "") or type(exc).__name__)
    how = "AssumeRoleWithOIDC" if role.base is None else "AssumeRole"
    where = f"{role.sts.protocol}://{role.sts.host}"
    reason = f"{code}: {message}" if code else message
    return _scrub.scrub_text(
        f"STS refused {how} for {role.role_arn} ({where}): {reason.splitlines()[0][:300]}"
    )
