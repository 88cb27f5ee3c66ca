"""The native provider's configuration: ``polardb-account:<key>`` or an explicit provider's inputs.

Each key maps onto the connection settings the cloud layer resolves
(:mod:`..cloud._settings`), which then applies the same order as the dynamic resource:
resource input, provider configuration, environment variables, Alibaba's default
credential chain.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .. import lifecycle
from ..core import _convert, _validation
from ..core._quote import quote

PACKAGE: Final = "polardb-account"


@dataclass(frozen=True)
class ConfigKey:
    """One provider configuration key and the settings key it feeds."""

    name: str
    type: str
    description: str
    settings_key: str
    secret: bool = False


KEYS: Final = (
    ConfigKey(
        "region",
        "string",
        "Alibaba Cloud region of the clusters (else `ALIBABA_CLOUD_REGION`).",
        "alicloud:region",
    ),
    ConfigKey(
        "accessKey",
        "string",
        "AccessKey ID (else `ALIBABA_CLOUD_ACCESS_KEY_ID`, then the default credential chain).",
        "alicloud:accessKey",
    ),
    ConfigKey("secretKey", "string", "AccessKey secret.", "alicloud:secretKey", secret=True),
    ConfigKey(
        "securityToken",
        "string",
        "STS security token of temporary credentials.",
        "alicloud:securityToken",
        secret=True,
    ),
    ConfigKey(
        "profile",
        "string",
        "Profile of the Alibaba Cloud credentials file (default credential chain).",
        "alicloud:profile",
    ),
    ConfigKey(
        "endpoint",
        "string",
        "PolarDB API endpoint, `[http(s)://]host[:port]` (else `ALIBABA_CLOUD_ENDPOINT_POLARDB`, the SDK's mapping).",
        "alicloud:endpoints",
    ),
    ConfigKey(
        "allowInsecureEndpoint",
        "boolean",
        "Allow a plain-http endpoint on another machine (default false).",
        _validation.INSECURE_ENDPOINT_CONFIG,
    ),
    ConfigKey(
        "caBundle",
        "string",
        "CA bundle (PEM file) that verifies the API endpoint.",
        "polardbReset:caBundle",
    ),
    ConfigKey(
        "roleArn",
        "string",
        "RAM role to assume: with an AccessKey by `AssumeRole`, with `oidcProviderArn` and "
        "`oidcTokenFile` by `AssumeRoleWithOIDC` (else `ALIBABA_CLOUD_ROLE_ARN`).",
        "polardbReset:roleArn",
    ),
    ConfigKey(
        "roleSessionName",
        "string",
        "Session name of the assumed role (else `ALIBABA_CLOUD_ROLE_SESSION_NAME`).",
        "polardbReset:roleSessionName",
    ),
    ConfigKey(
        "oidcProviderArn",
        "string",
        "ARN of the RAM OIDC identity provider (else `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`).",
        "polardbReset:oidcProviderArn",
    ),
    ConfigKey(
        "oidcTokenFile",
        "string",
        "File holding the CI's OIDC token, read at each renewal (else "
        "`ALIBABA_CLOUD_OIDC_TOKEN_FILE`).",
        "polardbReset:oidcTokenFile",
    ),
    ConfigKey(
        "kmsEndpoint",
        "string",
        "KMS endpoint for `accountPasswordSecret`, `[http(s)://]host[:port]` (else "
        "`ALIBABA_CLOUD_ENDPOINT_KMS`, the SDK's mapping for the region).",
        "polardbReset:kmsEndpoint",
    ),
    ConfigKey(
        "stsEndpoint",
        "string",
        "STS endpoint, `[http(s)://]host[:port]` (else `ALIBABA_CLOUD_ENDPOINT_STS`, "
        "`sts.aliyuncs.com`).",
        "polardbReset:stsEndpoint",
    ),
    ConfigKey(
        "sqlCaBundle",
        "string",
        "CA bundle (PEM file) that verifies the clusters' SQL endpoints.",
        "polardbReset:sqlCaBundle",
    ),
)


def settings_config(args: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, Any]:
    """The provider's configuration in the form the settings resolver reads.

    ``args`` are the provider's inputs (an explicit provider's, or the stack config for the
    default provider); ``variables`` the ``polardb-account:<key>`` config strings, used for
    keys missing from ``args``.
    """
    config: dict[str, Any] = {}
    for key in KEYS:
        value = _convert.plain(args.get(key.name))
        if value is None:
            value = variables.get(f"{PACKAGE}:{key.name}")
        if value is None or _convert.is_unknown(value):
            continue
        if key.name == "endpoint":
            value = json.dumps([{"polardb": str(value)}])
        config[key.settings_key] = value
    return config


def from_dynamic_config(config: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    """The ``polardb-account:<key>`` values equivalent to a dynamic resource stack's config.

    ``config`` holds the dynamic resource's keys (``alicloud:region``, ``alicloud:endpoints``,
    ``polardbReset:caBundle``, ...) as the stack has them; the answer maps each native key to
    the key it came from and its value. ``alicloud:endpoints`` gives its ``polardb`` entry
    (:class:`~..core._errors.ConfigurationError` when it is not valid JSON). The engine passes
    a native provider only its own namespace, so these are what a migrated stack must set.
    """
    found: dict[str, tuple[str, Any]] = {}
    for key in KEYS:
        value = config.get(key.settings_key)
        if key.name == "endpoint":
            value = lifecycle.polardb_endpoint_from_config(value)
        if value is None or value == "":
            continue
        found[f"{PACKAGE}:{key.name}"] = (key.settings_key, value)
    return found


def problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Configuration values that cannot work, as (key, reason) pairs (no API call)."""
    found: list[tuple[str, str]] = []
    for key in KEYS:
        raw = values.get(key.name)
        value = _convert.plain(raw)
        if value is None or _convert.is_unknown(value):
            continue
        reason: str | None = None
        if key.name == "region":
            reason = _validation.validate_region(value)
        elif key.name in ("endpoint", "stsEndpoint", "kmsEndpoint"):
            reason = _validation.validate_endpoint(value, allow_insecure=True)
        elif key.type == "boolean" and not isinstance(value, bool):
            if str(value).strip().lower() not in ("true", "false"):
                reason = f"must be true or false (got {quote(value)})"
        elif not isinstance(value, str):
            reason = "must be a string"
        if reason and (key.secret or _convert.is_secret(raw)):
            reason = _validation.hide_secret(reason, value)
        if reason:
            found.append(
                (
                    key.name,
                    f"{PACKAGE}:{reason}"
                    if reason.startswith(f"{key.name} ")
                    else f"{PACKAGE}:{key.name} {reason}",
                )
            )
    return found
