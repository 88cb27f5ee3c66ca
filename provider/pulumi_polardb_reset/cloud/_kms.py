"""The KMS Secrets Manager client: the account password read from a secret (GetSecretValue).

The only KMS call the provider makes is ``GetSecretValue``, at a reset (the value to set)
and on refresh (the version the stage points to now, and the value the SQL check logs in
with): one call answers both, and ``kms:GetSecretValue`` is the one permission needed
(``DescribeSecret`` tells no version; ``ListSecretVersionIds`` would need a second
permission and a second call for the value). The value never leaves this module except in
:class:`SecretValue`, whose ``repr`` hides it; every error names the secret and the
permission, never the value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from ..core._errors import ApiError, ErrorCode, ResetError
from ._client import ApiClient
from ._retry import Deadline, call_with_retries

#: The stage read when the resource names none.
DEFAULT_STAGE: Final = "ACSCurrent"
#: The RAM action the provider needs on the secret.
PERMISSION: Final = "kms:GetSecretValue"
#: API codes meaning the secret (or its version or stage) is not there to read.
_MISSING: Final = frozenset({"Forbidden.ResourceNotFound", "Rejected.SecretPendingDeletion"})
_DENIED: Final = frozenset({"Forbidden.RAM", "Forbidden.NoPermission", "Forbidden.KeyNotFound"})


@dataclass(frozen=True)
class SecretValue:
    """One version of a secret: its ID and (hidden from ``repr``) its value."""

    name: str
    stage: str
    version_id: str
    value: str = field(repr=False)


class KmsClient(ApiClient):
    """Thin, typed wrapper around ``alibabacloud_kms20160120.client.Client``."""

    sdk_client = "alibabacloud_kms20160120.client:Client"

    def get_secret_value(self, name: str, stage: str) -> SecretValue:
        """GetSecretValue of the version carrying ``stage``."""
        from alibabacloud_kms20160120 import models

        request = models.GetSecretValueRequest(secret_name=name, version_stage=stage)
        body = self._call(lambda: self._sdk.get_secret_value(request)).body
        value = body.secret_data
        if not isinstance(value, str) or not body.version_id:
            raise ResetError(
                f"KMS secret '{name}' (stage {stage}) answered without a text value and a "
                "version ID; store the account password as a text secret.",
                code=ErrorCode.INVALID_RESPONSE,
            )
        return SecretValue(name, stage, str(body.version_id), value)


def secret_arn(name: str, region: str) -> str:
    """The resource a RAM policy grants ``kms:GetSecretValue`` on (any account)."""
    return f"acs:kms:{region}:*:secret/{name}"


def read_secret(client: KmsClient, name: str, stage: str | None, deadline: Deadline) -> SecretValue:
    """The value of ``name`` at ``stage`` (default ACSCurrent), retried like every API call
    within ``deadline``; a :class:`ResetError` naming the secret and the permission when
    it is missing, deleted or not readable."""
    wanted = stage or DEFAULT_STAGE
    try:
        return call_with_retries(lambda: client.get_secret_value(name, wanted), deadline=deadline)
    except ApiError as exc:
        raise _error(exc, name, wanted, client.region) from None


def _error(exc: ApiError, name: str, stage: str, region: str) -> ResetError:
    failure = exc.failure
    said = f" KMS said: {failure.code}: {failure.message}" if failure.message else ""
    needs = f"The provider needs {PERMISSION} on {secret_arn(name, region)}."
    if failure.code in _MISSING:
        what, code = "is missing, deleted or has no version at that stage", ErrorCode.INVALID_INPUT
    elif failure.code in _DENIED or failure.status == 403:
        what, code = "cannot be read with these credentials", ErrorCode.PERMISSION_DENIED
    elif failure.transport:
        what, code = "could not be reached", ErrorCode.ENDPOINT_UNREACHABLE
    else:
        what, code = "could not be read", ErrorCode.API_REQUEST_FAILED
    return ResetError(
        f"KMS secret '{name}' (stage {stage}) {what}. {needs}{said}",
        code=code,
        api_code=failure.code,
        request_id=failure.request_id,
    )
