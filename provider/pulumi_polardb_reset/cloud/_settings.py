"""Where credentials, region and endpoint come from (pure: config and env are passed in).

Order, first match wins (documented in the README):

* credentials: stack config ``alicloud:accessKey``/``secretKey``/``securityToken``;
  environment ``ALIBABA_CLOUD_ACCESS_KEY_ID``/``_SECRET``/``_SECURITY_TOKEN``;
  the older ``ALICLOUD_ACCESS_KEY``/``ALICLOUD_SECRET_KEY``/``ALICLOUD_SECURITY_TOKEN``;
  then Alibaba's default credential chain (profile from ``alicloud:profile`` or
  ``ALIBABA_CLOUD_PROFILE``, ini file, ECS RAM role).
* a RAM role on top (short-lived STS credentials, :mod:`._sts`): with an AccessKey above, the
  role of config ``alicloud:assumeRole`` (``roleArn``, ``sessionName``, ``sessionExpiration``,
  as pulumi-alicloud reads it), ``polardbReset:roleArn`` or ``ALIBABA_CLOUD_ROLE_ARN`` is
  assumed with ``AssumeRole``; without one, an OIDC token (config
  ``alicloud:assumeRoleWithOidc``, ``polardbReset:roleArn`` + ``polardbReset:oidcProviderArn`` +
  ``polardbReset:oidcTokenFile``, or Alibaba's ``ALIBABA_CLOUD_ROLE_ARN`` +
  ``ALIBABA_CLOUD_OIDC_PROVIDER_ARN`` + ``ALIBABA_CLOUD_OIDC_TOKEN_FILE``) is exchanged with
  ``AssumeRoleWithOIDC``. STS endpoint: config ``polardbReset:stsEndpoint``;
  ``ALIBABA_CLOUD_ENDPOINT_STS``; the ``sts`` entry of ``alicloud:endpoints``;
  ``sts.<ALIBABA_CLOUD_STS_REGION>.aliyuncs.com``; ``sts.aliyuncs.com``.
* region: resource ``region``; config ``alicloud:region``; ``ALIBABA_CLOUD_REGION``; ``ALICLOUD_REGION``.
* endpoint: resource ``endpoint``; ``ALIBABA_CLOUD_ENDPOINT_POLARDB``; the ``polardb`` entry
  of config ``alicloud:endpoints``; otherwise the SDK's own region mapping. Plain ``http://``
  only to this machine, unless config ``polardbReset:allowInsecureEndpoint`` or
  ``POLARDB_RESET_ALLOW_INSECURE_ENDPOINT`` is true.
* KMS endpoint (``accountPasswordSecret``): config ``polardbReset:kmsEndpoint``;
  ``ALIBABA_CLOUD_ENDPOINT_KMS``; the ``kms`` entry
  of ``alicloud:endpoints``; otherwise the SDK's mapping for the region. Same credentials.
* CA bundle of the clusters' SQL endpoints (the privilege check): config
  ``polardbReset:sqlCaBundle``; ``POLARDB_RESET_SQL_CA_BUNDLE``; otherwise none (TLS when the
  server offers it, unverified).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
    "alicloud:assumeRole",
    "alicloud:assumeRoleWithOidc",
    "polardbReset:roleArn",
    "polardbReset:roleSessionName",
    "polardbReset:oidcProviderArn",
    "polardbReset:oidcTokenFile",
    "polardbReset:stsEndpoint",
    "polardbReset:kmsEndpoint",
)
#: Alibaba's default for STS sessions (AssumeRole accepts 900 s up to the role's maximum).
DEFAULT_SESSION_SECONDS: Final = 3600
MIN_SESSION_SECONDS: Final = 900
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
class StsEndpoint:
    """Where STS is: ``host[:port]`` and the protocol (https unless a local endpoint says http)."""

    host: str
    protocol: str = "https"


@dataclass(frozen=True)
class RoleCredentials:
    """Short-lived credentials of a RAM role, from STS (:mod:`._sts` fetches and renews them).

    With ``base`` (an AccessKey), ``AssumeRole`` signed by it; otherwise
    ``AssumeRoleWithOIDC`` with the OIDC token read from ``oidc_token_file`` at each renewal
    (CI systems rotate the file). ``repr`` never shows the base secret.
    """

    role_arn: str
    session_name: str
    sts: StsEndpoint
    base: StaticCredentials | None = field(default=None, repr=False)
    oidc_provider_arn: str | None = None
    oidc_token_file: str | None = None
    duration_seconds: int = DEFAULT_SESSION_SECONDS
    source: str = "config"


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything the API client needs besides the request itself."""

    region: str
    credentials: StaticCredentials | ChainCredentials | RoleCredentials
    endpoint: str | None = None
    protocol: str = "https"
    ca_file: str | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in messages or logs."""
        creds = self.credentials
        # A role's issued credentials are registered with the scrubber as they arrive (_sts).
        base = creds.base if isinstance(creds, RoleCredentials) else creds
        if isinstance(base, StaticCredentials):
            return tuple(s for s in (base.access_key_secret, base.security_token) if s)
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
    return _endpoint_from_config(raw, "polardb")


def _endpoint_from_config(raw: Any, service: str) -> str | None:
    entries = _config_json(
        raw, "alicloud:endpoints", f'[{{"{service}": "{service}.aliyuncs.com"}}]'
    )
    for entry in entries if isinstance(entries, list) else [entries]:
        if isinstance(entry, Mapping) and _str(entry.get(service)):
            return _str(entry.get(service))
    return None


def _config_json(raw: Any, key: str, example: str) -> Any:
    """A structured config value as the engine gives it: the object, or its JSON text."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"config '{key}' is not valid JSON; set it like {example}"
        ) from exc


def _credentials(
    config: Mapping[str, Any], env: Mapping[str, str]
) -> StaticCredentials | ChainCredentials | RoleCredentials:
    base = _access_key(config, env)
    if isinstance(base, StaticCredentials):
        return _assumed_role(base, config, env) or base
    return _oidc_role(config, env) or base


def _role_object(config: Mapping[str, Any], key: str, example: str) -> Mapping[str, Any]:
    value = _config_json(config.get(key), key, example)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"config '{key}' must be an object like {example}")
    return value


def _session(
    obj: Mapping[str, Any], name_key: str, config: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[str, int]:
    name = _first(
        ("config", obj.get(name_key)),
        ("config", config.get("polardbReset:roleSessionName")),
        ("env", env.get("ALIBABA_CLOUD_ROLE_SESSION_NAME")),
    )
    raw_seconds = obj.get("sessionExpiration")
    seconds = DEFAULT_SESSION_SECONDS
    if raw_seconds not in (None, ""):
        try:
            seconds = int(str(raw_seconds))
        except ValueError:
            seconds = -1
        if seconds < MIN_SESSION_SECONDS:
            raise ConfigurationError(
                f"sessionExpiration must be a number of seconds, at least {MIN_SESSION_SECONDS} "
                f"(got {str(raw_seconds)[:32]!r})"
            )
    return (name[1] if name else "pulumi-polardb-reset"), seconds


def _assumed_role(
    base: StaticCredentials, config: Mapping[str, Any], env: Mapping[str, str]
) -> RoleCredentials | None:
    obj = _role_object(config, "alicloud:assumeRole", '{"roleArn": "acs:ram::<uid>:role/<name>"}')
    role = _first(
        ("config alicloud:assumeRole", obj.get("roleArn")),
        ("config polardbReset:roleArn", config.get("polardbReset:roleArn")),
        ("ALIBABA_CLOUD_ROLE_ARN", env.get("ALIBABA_CLOUD_ROLE_ARN")),
    )
    if role is None:
        return None
    name, seconds = _session(obj, "sessionName", config, env)
    return RoleCredentials(
        role_arn=role[1],
        session_name=name,
        sts=sts_endpoint(config, env),
        base=base,
        duration_seconds=seconds,
        source=f"role {role[1]} ({role[0]}) assumed with {base.source}",
    )


def _oidc_role(config: Mapping[str, Any], env: Mapping[str, str]) -> RoleCredentials | None:
    obj = _role_object(
        config,
        "alicloud:assumeRoleWithOidc",
        '{"roleArn": "...", "oidcProviderArn": "...", "oidcTokenFile": "/path/to/token"}',
    )
    role = _first(
        ("config", obj.get("roleArn")),
        ("config", config.get("polardbReset:roleArn")),
        ("env", env.get("ALIBABA_CLOUD_ROLE_ARN")),
    )
    provider = _first(
        ("config", obj.get("oidcProviderArn")),
        ("config", config.get("polardbReset:oidcProviderArn")),
        ("env", env.get("ALIBABA_CLOUD_OIDC_PROVIDER_ARN")),
    )
    token_file = _first(
        ("config", obj.get("oidcTokenFile")),
        ("config", config.get("polardbReset:oidcTokenFile")),
        ("env", env.get("ALIBABA_CLOUD_OIDC_TOKEN_FILE")),
    )
    if provider is None and token_file is None:
        return None
    if role is None or provider is None or token_file is None:
        missing = [
            name
            for name, value in (
                ("the role ARN (ALIBABA_CLOUD_ROLE_ARN)", role),
                ("the OIDC provider ARN (ALIBABA_CLOUD_OIDC_PROVIDER_ARN)", provider),
                ("the OIDC token file (ALIBABA_CLOUD_OIDC_TOKEN_FILE)", token_file),
            )
            if value is None
        ]
        raise ConfigurationError(
            f"OIDC credentials are incomplete: {' and '.join(missing)} not set. Set the role "
            "ARN, the OIDC provider ARN and the token file together."
        )
    name, seconds = _session(obj, "roleSessionName", config, env)
    return RoleCredentials(
        role_arn=role[1],
        session_name=name,
        sts=sts_endpoint(config, env),
        oidc_provider_arn=provider[1],
        oidc_token_file=token_file[1],
        duration_seconds=seconds,
        source=f"role {role[1]} assumed with the OIDC token in {token_file[1]}",
    )


def sts_endpoint(config: Mapping[str, Any], env: Mapping[str, str]) -> StsEndpoint:
    """Where STS answers: configured, else Alibaba's public (or regional) endpoint."""
    found = _configured_endpoint("sts", config, env)
    if found is None:
        region = _str(env.get("ALIBABA_CLOUD_STS_REGION"))
        return StsEndpoint(f"sts.{region}.aliyuncs.com" if region else "sts.aliyuncs.com")
    protocol, host = found
    return StsEndpoint(host, protocol)


def _configured_endpoint(
    service: str, config: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[str, str] | None:
    """``(protocol, host[:port])`` of another service's endpoint (``sts``, ``kms``) as
    configured: config ``polardbReset:<service>Endpoint``, ``ALIBABA_CLOUD_ENDPOINT_<SERVICE>``,
    the ``<service>`` entry of ``alicloud:endpoints``; None when none is set."""
    key, variable = f"polardbReset:{service}Endpoint", f"ALIBABA_CLOUD_ENDPOINT_{service.upper()}"
    found = _first(
        (f"config {key}", config.get(key)),
        (f"env {variable}", env.get(variable)),
        (
            "config alicloud:endpoints",
            _endpoint_from_config(config.get("alicloud:endpoints"), service),
        ),
    )
    return None if found is None else _checked_endpoint(found, config, env)


def _checked_endpoint(
    found: tuple[str, str], config: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[str, str]:
    """``(protocol, host[:port])`` of a configured endpoint, or :class:`ConfigurationError`.

    Plain http only to this machine unless the insecure-endpoint opt-in is set.
    """
    source, text = found
    reason = _validation.validate_endpoint(text, allow_insecure=True)
    if reason is None and text.lower().startswith("http://"):
        # Read only when it matters: a malformed opt-in is an error only here.
        allow = allow_insecure_endpoint(config, env)
        reason = _validation.validate_endpoint(text, allow_insecure=allow)
    if reason:
        raise ConfigurationError(f"{reason} (from {source})")
    protocol = "https"
    if "://" in text:
        protocol, text = text.split("://", 1)
    return protocol, text.rstrip("/")


def _access_key(
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
        protocol, endpoint = _checked_endpoint(endpoint_value, config, env)
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


def resolve_kms(
    settings: ConnectionSettings, config: Mapping[str, Any], env: Mapping[str, str]
) -> ConnectionSettings:
    """``settings`` (credentials, region, CA bundle) with the KMS endpoint: config
    ``polardbReset:kmsEndpoint``, ``ALIBABA_CLOUD_ENDPOINT_KMS``, the ``kms`` entry of
    ``alicloud:endpoints``, else
    the SDK's mapping for the region (``kms.<region>.aliyuncs.com``)."""
    found = _configured_endpoint("kms", config, env)
    if found is None:
        return replace(settings, endpoint=None, protocol="https")
    protocol, endpoint = found
    return replace(settings, endpoint=endpoint, protocol=protocol)


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
