"""Where credentials, region and endpoint come from (pure: config and env are passed in).

Order, first match wins (documented in the README):

* credentials: stack config ``alicloud:accessKey``/``secretKey``/``securityToken``;
  environment ``ALIBABA_CLOUD_ACCESS_KEY_ID``/``_SECRET``/``_SECURITY_TOKEN``;
  the older ``ALICLOUD_ACCESS_KEY``/``ALICLOUD_SECRET_KEY``/``ALICLOUD_SECURITY_TOKEN``;
  then Alibaba's default credential chain (profile from ``alicloud:profile`` or
  ``ALIBABA_CLOUD_PROFILE``, OIDC/RRSA, ini file, ECS RAM role).
* region: resource ``region``; config ``alicloud:region``; ``ALIBABA_CLOUD_REGION``; ``ALICLOUD_REGION``.
* endpoint: resource ``endpoint``; ``ALIBABA_CLOUD_ENDPOINT_POLARDB``; the ``polardb`` entry
  of config ``alicloud:endpoints``; otherwise the SDK's own region mapping. Plain ``http://``
  only to this machine, unless config ``polardbReset:allowInsecureEndpoint`` or
  ``POLARDB_RESET_ALLOW_INSECURE_ENDPOINT`` is true.
* CA bundle of the clusters' SQL endpoints (the privilege check): config
  ``polardbReset:sqlCaBundle``; ``POLARDB_RESET_SQL_CA_BUNDLE``; otherwise none (TLS when the
  server offers it, unverified).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..core import _validation
from ..core._errors import ConfigurationError

CONFIG_KEYS: Final = (
    "alicloud:accessKey",
    "alicloud:secretKey",
    "alicloud:securityToken",
    "alicloud:region",
    "alicloud:profile",
    "alicloud:endpoints",
    "polardbReset:caBundle",
    "polardbReset:sqlCaBundle",
    _validation.INSECURE_ENDPOINT_CONFIG,
)
_TRUE: Final = frozenset({"true", "1", "yes"})
_FALSE: Final = frozenset({"false", "0", "no"})


@dataclass(frozen=True)
class StaticCredentials:
    """An AccessKey pair (optionally STS); ``repr`` never shows the secret or token."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)
    source: str = "config"


@dataclass(frozen=True)
class ChainCredentials:
    """Defer to ``alibabacloud-credentials``' default chain, optionally with a named profile."""

    profile: str | None = None
    source: str = "default credential chain"


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything the API client needs besides the request itself."""

    region: str
    credentials: StaticCredentials | ChainCredentials
    endpoint: str | None = None
    protocol: str = "https"
    ca_file: str | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in messages or logs."""
        creds = self.credentials
        if isinstance(creds, StaticCredentials):
            return tuple(s for s in (creds.access_key_secret, creds.security_token) if s)
        return ()


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _first(*candidates: tuple[str, Any]) -> tuple[str, str] | None:
    for source, value in candidates:
        text = _str(value)
        if text:
            return source, text
    return None


def polardb_endpoint_from_config(raw: Any) -> str | None:
    """Read the ``polardb`` entry of pulumi-alicloud's ``alicloud:endpoints`` config.

    Accepts the list form pulumi-alicloud writes (``[{"polardb": "..."}]``), a
    single object, or their JSON text.
    """
    if raw is None or raw == "":
        return None
    value = raw
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(
                "config 'alicloud:endpoints' is not valid JSON; set it like "
                '[{"polardb": "polardb.cn-hangzhou.aliyuncs.com"}]'
            ) from exc
    entries = value if isinstance(value, list) else [value]
    for entry in entries:
        if isinstance(entry, Mapping) and _str(entry.get("polardb")):
            return _str(entry.get("polardb"))
    return None


def _credentials(
    config: Mapping[str, Any], env: Mapping[str, str]
) -> StaticCredentials | ChainCredentials:
    pairs = (
        (
            "stack config alicloud:accessKey/alicloud:secretKey",
            "alicloud:accessKey",
            "alicloud:secretKey",
            "alicloud:securityToken",
            config,
        ),
        (
            "ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALIBABA_CLOUD_SECURITY_TOKEN",
            env,
        ),
        (
            "ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY",
            "ALICLOUD_ACCESS_KEY",
            "ALICLOUD_SECRET_KEY",
            "ALICLOUD_SECURITY_TOKEN",
            env,
        ),
    )
    for source, id_key, secret_key, token_key, where in pairs:
        key_id, secret = _str(where.get(id_key)), _str(where.get(secret_key))
        if key_id and secret:
            return StaticCredentials(key_id, secret, _str(where.get(token_key)), source)
        if key_id or secret:
            missing = secret_key if key_id else id_key
            raise ConfigurationError(
                f"credentials from {source} are incomplete: {missing} is not set. "
                "Set both the AccessKey ID and secret, or neither."
            )
    profile = _first(
        ("config", config.get("alicloud:profile")),
        ("env", env.get("ALIBABA_CLOUD_PROFILE")),
        ("env", env.get("ALICLOUD_PROFILE")),
    )
    return ChainCredentials(profile=profile[1] if profile else None)


def allow_insecure_endpoint(config: Mapping[str, Any], env: Mapping[str, str]) -> bool:
    """The opt-in to a plain-http endpoint on another machine: config, then environment.

    ``true``/``false`` (also ``1``/``0``, ``yes``/``no``, any case, or a YAML boolean); unset
    is false. Raises :class:`ConfigurationError` for anything else, naming the source.
    """
    for source, value in (
        (
            f"config {_validation.INSECURE_ENDPOINT_CONFIG}",
            config.get(_validation.INSECURE_ENDPOINT_CONFIG),
        ),
        (_validation.INSECURE_ENDPOINT_ENV, env.get(_validation.INSECURE_ENDPOINT_ENV)),
    ):
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigurationError(f"{source} must be true or false (got {str(value)[:32]!r})")
    return False


def insecure_endpoint_allowed(config: Mapping[str, Any], env: Mapping[str, str]) -> bool:
    """:func:`allow_insecure_endpoint`, with a malformed setting taken as false (for preview).

    ``resolve`` reports the malformed setting when it matters.
    """
    try:
        return allow_insecure_endpoint(config, env)
    except ConfigurationError:
        return False


def resolve(
    inputs: Mapping[str, Any], config: Mapping[str, Any], env: Mapping[str, str]
) -> ConnectionSettings:
    """Resolve connection settings for one resource, or raise :class:`ConfigurationError`."""
    region = _first(
        ("resource", inputs.get("region")),
        ("config", config.get("alicloud:region")),
        ("env", env.get("ALIBABA_CLOUD_REGION")),
        ("env", env.get("ALICLOUD_REGION")),
    )
    if region is None:
        raise ConfigurationError(
            "no region is configured: set the resource's 'region', stack config "
            "'alicloud:region' (pulumi config set alicloud:region cn-hangzhou) or ALIBABA_CLOUD_REGION."
        )
    endpoint_value = _first(
        ("resource", inputs.get("endpoint")),
        ("env ALIBABA_CLOUD_ENDPOINT_POLARDB", env.get("ALIBABA_CLOUD_ENDPOINT_POLARDB")),
        (
            "config alicloud:endpoints",
            polardb_endpoint_from_config(config.get("alicloud:endpoints")),
        ),
    )
    endpoint: str | None = None
    protocol = "https"
    if endpoint_value is not None:
        source, text = endpoint_value
        reason = _validation.validate_endpoint(text, allow_insecure=True)
        if reason is None and text.lower().startswith("http://"):
            # Read only when it matters: a malformed opt-in is an error only here.
            allow = allow_insecure_endpoint(config, env)
            reason = _validation.validate_endpoint(text, allow_insecure=allow)
        if reason:
            raise ConfigurationError(f"{reason} (from {source})")
        if "://" in text:
            protocol, text = text.split("://", 1)
        endpoint = text.rstrip("/")
    ca = _first(
        ("config", config.get("polardbReset:caBundle")),
        ("env", env.get("POLARDB_RESET_CA_BUNDLE")),
    )
    return ConnectionSettings(
        region=region[1],
        credentials=_credentials(config, env),
        endpoint=endpoint,
        protocol=protocol,
        ca_file=ca[1] if ca else None,
    )


def sql_ca_bundle(config: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    """The CA bundle that verifies the clusters' SQL endpoints, or None (not verified).

    Separate from ``polardbReset:caBundle``: PolarDB's SQL certificates come from its own
    CA, the API's from public ones.
    """
    found = _first(
        ("config", config.get("polardbReset:sqlCaBundle")),
        ("env", env.get("POLARDB_RESET_SQL_CA_BUNDLE")),
    )
    return found[1] if found else None
