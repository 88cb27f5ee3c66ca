"""The KMS 2016-01-20 secrets actions: request parameters in, response documents out.

Protocol only (parameter names, response fields as ``alibabacloud_kms20160120``'s models
parse them); the rules are in :class:`~.models.SecretStore`, the errors in ``exceptions``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from .exceptions import api_error, missing_parameter
from .models import DEFAULT_RECOVERY_DAYS, Secret, SecretStore, Version, iso

Params = Mapping[str, str]
#: (store, parameters, request ID).
Handler = Callable[[SecretStore, Params, str], dict[str, Any]]

API_VERSION = "2016-01-20"
#: The RAM service code in action names and ARNs.
SERVICE = "kms"


def _required(params: Params, name: str) -> str:
    value = params.get(name)
    if not value:
        raise missing_parameter(name)
    return value


def _boolean(params: Params, name: str) -> bool:
    raw = params.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise api_error(
            "InvalidParameter", f"The specified parameter {name} is not valid: true or false."
        )
    return raw == "true"


def _stages(params: Params) -> list[str] | None:
    raw = params.get("VersionStages")
    if not raw:
        return None
    try:
        stages = json.loads(raw)
    except (ValueError, RecursionError):
        stages = None
    if not isinstance(stages, list) or not stages or not all(isinstance(s, str) for s in stages):
        raise api_error(
            "InvalidParameter",
            "The specified parameter VersionStages is not valid: a JSON list of stages, "
            'e.g. ["ACSCurrent"].',
        )
    return stages


def _stages_doc(version: Version) -> dict[str, Any]:
    return {"VersionStage": sorted(version.stages)}


def create_secret(store: SecretStore, params: Params, request_id: str) -> dict[str, Any]:
    """CreateSecret(SecretName, SecretData, VersionId, SecretDataType?, Description?)."""
    secret = store.create(
        _required(params, "SecretName"),
        _required(params, "VersionId"),
        _required(params, "SecretData"),
        params.get("SecretDataType") or "text",
        params.get("Description", ""),
    )
    (version,) = secret.versions.values()
    return {
        "Arn": store.arn(secret.name),
        "SecretName": secret.name,
        "VersionId": version.id,
        "SecretType": "Generic",
        "AutomaticRotation": "Disabled",
    }


def put_secret_value(store: SecretStore, params: Params, request_id: str) -> dict[str, Any]:
    """PutSecretValue(SecretName, VersionId, SecretData, SecretDataType?, VersionStages?)."""
    secret, version = store.put_value(
        _required(params, "SecretName"),
        _required(params, "VersionId"),
        _required(params, "SecretData"),
        params.get("SecretDataType") or "text",
        _stages(params),
    )
    return {
        "SecretName": secret.name,
        "VersionId": version.id,
        "VersionStages": _stages_doc(version),
    }


def get_secret_value(store: SecretStore, params: Params, request_id: str) -> dict[str, Any]:
    """GetSecretValue(SecretName, VersionId?, VersionStage?): the value and its version."""
    secret, version = store.version(
        _required(params, "SecretName"),
        params.get("VersionId") or None,
        params.get("VersionStage") or None,
    )
    return {
        "SecretName": secret.name,
        "SecretType": "Generic",
        "SecretData": version.value,
        "SecretDataType": version.data_type,
        "VersionId": version.id,
        "VersionStages": _stages_doc(version),
        "CreateTime": version.created,
        "AutomaticRotation": "Disabled",
    }


def _secret_doc(store: SecretStore, secret: Secret) -> dict[str, Any]:
    document: dict[str, Any] = {
        "Arn": store.arn(secret.name),
        "SecretName": secret.name,
        "SecretType": "Generic",
        "Description": secret.description,
        "CreateTime": secret.created,
        "UpdateTime": secret.updated,
        "AutomaticRotation": "Disabled",
    }
    if secret.delete_at is not None:
        document["PlannedDeleteTime"] = iso(secret.delete_at)
    return document


def describe_secret(store: SecretStore, params: Params, request_id: str) -> dict[str, Any]:
    """DescribeSecret(SecretName): metadata only (no version, no value)."""
    return _secret_doc(store, store.describe(_required(params, "SecretName")))


def update_secret_version_stage(
    store: SecretStore, params: Params, request_id: str
) -> dict[str, Any]:
    """UpdateSecretVersionStage(SecretName, VersionStage, RemoveFromVersion?, MoveToVersion?)."""
    secret = store.update_stage(
        _required(params, "SecretName"),
        _required(params, "VersionStage"),
        params.get("RemoveFromVersion") or None,
        params.get("MoveToVersion") or None,
    )
    return {"SecretName": secret.name}


_DAYS = re.compile(r"[0-9]{1,3}")


def delete_secret(store: SecretStore, params: Params, request_id: str) -> dict[str, Any]:
    """DeleteSecret(SecretName, ForceDeleteWithoutRecovery?, RecoveryWindowInDays? 7-30)."""
    raw_days = params.get("RecoveryWindowInDays")
    days = DEFAULT_RECOVERY_DAYS
    if raw_days:
        days = int(raw_days) if _DAYS.fullmatch(raw_days) else 0
        if not 7 <= days <= 30:
            raise api_error(
                "InvalidParameter",
                "The specified parameter RecoveryWindowInDays is not valid: 7 to 30.",
            )
    secret = store.delete(
        _required(params, "SecretName"), _boolean(params, "ForceDeleteWithoutRecovery"), days
    )
    assert secret.delete_at is not None
    return {"SecretName": secret.name, "PlannedDeleteTime": iso(secret.delete_at)}


ACTIONS: dict[str, Handler] = {
    "CreateSecret": create_secret,
    "PutSecretValue": put_secret_value,
    "GetSecretValue": get_secret_value,
    "DescribeSecret": describe_secret,
    "UpdateSecretVersionStage": update_secret_version_stage,
    "DeleteSecret": delete_secret,
}


def resource_arn(store: SecretStore, params: Params) -> str:
    """The resource RAM checks: the secret the request names (``SecretName`` may be its ARN)."""
    return store.arn(store.name_of(params.get("SecretName", "")))
