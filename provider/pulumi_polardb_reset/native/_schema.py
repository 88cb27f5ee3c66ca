"""The Pulumi package schema of the native provider, derived from the field table."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Final

from ..core import _props as p
from . import _config, _spelling

RESOURCE: Final = "PrivilegedAccountReset"
TOKEN: Final = f"{_config.PACKAGE}:index:{RESOURCE}"
PYTHON_PACKAGE: Final = "pulumi_polardb_account"
NODEJS_PACKAGE: Final = "@pulumi-polardb-reset/polardb-account"
# Where the project lives, and where its release workflow uploads the plugin tarballs
# (`pulumi-resource-polardb-account-v<version>-<os>-<arch>.tar.gz`, GitHub release `v<version>`):
# Pulumi's `github://<api host>/<owner>/<repository>` source, which finds the asset of a
# release by that name (sdk/go/common/workspace/plugins.go, githubSource).
REPOSITORY: Final = "https://github.com/pulumi-polardb-reset/pulumi-polardb-reset"
PLUGIN_DOWNLOAD_URL: Final = "github://api.github.com/pulumi-polardb-reset/pulumi-polardb-reset"
# The Go SDK is a Go module in this repository's directory sdk/go (released by a tag
# `sdk/go/v<version>`); its one package is `polardbaccount`.
GO_MODULE: Final = "github.com/pulumi-polardb-reset/pulumi-polardb-reset/sdk/go"
GO_IMPORT_PATH: Final = f"{GO_MODULE}/polardbaccount"
# The logo the registry shows (an SVG in this repository, served raw from the main branch).
LOGO_PATH: Final = "docs/registry/logo.svg"
LOGO_URL: Final = (
    "https://raw.githubusercontent.com/pulumi-polardb-reset/pulumi-polardb-reset/main/" + LOGO_PATH
)
PUBLISHER: Final = "pulumi-polardb-reset"
KEYWORDS: Final = ("alicloud", "polardb", "mysql", "kind/native", "category/database")

_DESCRIPTION: Final = (
    "Restores the permissions of a PolarDB for MySQL cluster's privileged account. Create and "
    "update call PolarDB `ResetAccount` (with `accountPassword` when set), then wait until the "
    "account is `Available`. A reset happens when the password is set or changed, when "
    "`resetNonce` changes, or when the last check (refresh) found permission or password drift; "
    "nothing else causes one. Deleting the resource makes no API call. Import ID: "
    "`<dbClusterId>:<accountName>`."
)


_CODE = re.compile(r"``(.+?)``")
_NONE = re.compile(r"\bNone\b")


def markdown(text: str) -> str:
    """A field table description as the SDKs and the registry show it.

    The table speaks reStructuredText with the Python names (``account_password``) and the
    dynamic resource's config keys; the schema speaks Markdown with the names users write in
    every language (camelCase properties, ``polardb-account:*`` keys: the plugin's one
    spelling, :mod:`._spelling`) and null.
    """
    return _spelling.render(_NONE.sub("null", _CODE.sub(r"`\1`", text)))


def _type(kind: str) -> dict[str, Any]:
    # The table's only array is a list of privilege names.
    if kind == "array":
        return {"type": "array", "items": {"type": "string"}}
    return {"type": kind}


def _property(type_: str, description: str, secret: bool, default: Any = None) -> dict[str, Any]:
    prop = {**_type(type_), "description": markdown(description)}
    if secret:
        prop["secret"] = True
    if default is not None:
        prop["default"] = default
    return prop


def _config_properties() -> dict[str, Any]:
    return {k.name: _property(k.type, k.description, k.secret) for k in _config.KEYS}


def schema(
    version: str,
    input_fields: Iterable[p.Field] = p.INPUT_FIELDS,
    output_fields: Iterable[p.Field] = p.OUTPUT_FIELDS,
) -> dict[str, Any]:
    """The schema as a dict (``pulumi package get-schema`` prints it), from the field table.

    Internal outputs (the check's stored login) are returned and kept in state, secret,
    but not part of the SDKs.
    """
    ins = tuple(input_fields)
    outs = tuple(f for f in output_fields if not f.internal)
    inputs = {f.camel: _property(f.kind, f.description, f.secret, f.default) for f in ins}
    outputs = {f.camel: _property(f.kind, f.description, f.secret) for f in outs}
    by_name = {f.name: f for f in ins}
    always = [
        f.camel
        for f in outs
        if by_name.get(f.name) and (by_name[f.name].required or by_name[f.name].default is not None)
    ]
    return {
        "name": _config.PACKAGE,
        "displayName": "PolarDB privileged account reset",
        "version": version,
        "description": "Reset the privileged account of Alibaba Cloud PolarDB for MySQL clusters.",
        "keywords": list(KEYWORDS),
        "license": "Apache-2.0",
        "publisher": PUBLISHER,
        "repository": REPOSITORY,
        "homepage": REPOSITORY,
        "logoUrl": LOGO_URL,
        "pluginDownloadURL": PLUGIN_DOWNLOAD_URL,
        # Versions written into every SDK, and the Go SDK as a module of its own (go.mod in
        # sdk/go, module path GO_MODULE): Pulumi's layout for packages built to be packed.
        "meta": {"supportPack": True},
        "config": {"variables": _config_properties()},
        "provider": {
            "description": "The polardb-account provider: credentials, region and endpoint.",
            "inputProperties": _config_properties(),
        },
        "resources": {
            TOKEN: {
                "description": _DESCRIPTION,
                "inputProperties": inputs,
                "requiredInputs": [f.camel for f in ins if f.required],
                "properties": outputs,
                "required": always,
            }
        },
        "language": {
            "python": {"packageName": PYTHON_PACKAGE, "respectSchemaVersion": True},
            "nodejs": {"packageName": NODEJS_PACKAGE, "respectSchemaVersion": True},
            "go": {
                "importBasePath": GO_IMPORT_PATH,
                "modulePath": GO_MODULE,
                "generateResourceContainerTypes": False,
                "respectSchemaVersion": True,
            },
        },
    }


def schema_json(version: str) -> str:
    """The schema as JSON text."""
    return json.dumps(schema(version), indent=2, sort_keys=True)
