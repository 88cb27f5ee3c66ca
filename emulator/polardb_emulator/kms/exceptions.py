"""The KMS API's own error codes (the gateway's are in ``polardb_emulator._exceptions``).

Codes and statuses follow what Alibaba Cloud's KMS answers (``Forbidden.ResourceNotFound``
is a 404 with "Resource not found."); those marked *emulator choice* have no documented
counterpart for the case (docs/emulator.md lists them).
"""

from __future__ import annotations

from typing import Final

from .._exceptions import CATALOG as GATEWAY_CATALOG
from .._exceptions import ApiError, missing_parameter
from .._exceptions import api_error as _build

__all__ = ["CATALOG", "ApiError", "api_error", "missing_parameter"]

CATALOG: Final[dict[str, tuple[int, str]]] = {
    "Forbidden.ResourceNotFound": (404, "Resource not found."),
    "Rejected.ResourceExist": (409, "The resource already exists."),
    # Emulator choice: a secret scheduled for deletion refuses reads and writes until
    # restored (KMS's RestoreSecret is outside the emulated subset).
    "Rejected.SecretPendingDeletion": (
        400,
        "The secret is scheduled for deletion and cannot be used.",
    ),
}
_ALL: Final = {**GATEWAY_CATALOG, **CATALOG}


def api_error(code: str, message: str | None = None, status: int | None = None) -> ApiError:
    """Build an :class:`ApiError` for ``code`` from the KMS or the gateway's catalogue."""
    return _build(code, message, status, catalog=_ALL)
