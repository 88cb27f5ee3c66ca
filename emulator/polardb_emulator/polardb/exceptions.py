"""The PolarDB API's own error codes (the gateway's are in ``polardb_emulator._exceptions``).

:func:`api_error` builds an error from this catalogue, then the gateway's, optionally
overriding the message (to add specifics) or the status (a few actions document a
different status for the same code).
"""

from __future__ import annotations

from typing import Final

from .._exceptions import CATALOG as GATEWAY_CATALOG
from .._exceptions import ApiError, missing_parameter
from .._exceptions import api_error as _build

__all__ = ["CATALOG", "ApiError", "api_error", "missing_parameter"]

# code -> (HTTP status, default message). Messages follow the wording of the
# public API reference where it exists.
CATALOG: Final[dict[str, tuple[int, str]]] = {
    # --- ResetAccount (seed document) -----------------------------------
    "InvalidAccountName.Malformed": (400, "The specified parameter AccountName is not valid."),
    "ConcurrentTaskExceeded": (403, "The number of concurrent tasks exceeds the quota."),
    "InvalidDBCluster.NotFound": (404, "The DBClusterId provided does not exist in our records."),
    "InvalidDBClusterId.Malformed": (404, "The specified parameter DBClusterId is not valid."),
    "InvalidDBClusterId.NotFound": (
        404,
        "The DBInstanceId provided does not exist in our records.",
    ),
    # --- DescribeAccounts ------------------------------------------------
    "InvalidPageSize.Malformed": (400, "The specified parameter PageSize is not valid."),
    "InvalidPageNumber.Malformed": (400, "The specified parameter PageNumber is not valid."),
    "Database.ConnectError": (400, "The database connection failed."),
    "Account.QueryError": (400, "Failed to query the accounts of the cluster."),
    "Connect.Timeout": (400, "The connection to the database timed out."),
    # --- CreateAccount / ModifyAccountPassword / DeleteAccount -----------
    "InvalidAccountPassword.Malformed": (
        400,
        "The specified parameter AccountPassword is not valid.",
    ),
    "InvalidAccountType.Malformed": (400, "The specified parameter AccountType is not valid."),
    "LockTimeout": (400, "The request processing has failed due to lock timeout."),
    "InvalidAccountName.Duplicate": (400, "The specified account name already exists."),
    "InvalidAccountName.NotFound": (404, "The specified account does not exist."),
    "OperationDenied.DBClusterStatus": (
        400,
        "The operation is not permitted due to status of cluster.",
    ),
    "OperationDenied.AccountStatus": (
        400,
        "The operation is not permitted due to status of account.",
    ),
    # Chosen by the emulator (no documented code): ResetAccount on a
    # PostgreSQL or Oracle cluster.
    "OperationDenied.DBType": (
        400,
        "The operation is not permitted due to type of cluster. "
        "Only PolarDB for MySQL clusters support this operation.",
    ),
    "InvalidRegionId.NotFound": (404, "The specified RegionId does not exist."),
}
_ALL: Final = {**GATEWAY_CATALOG, **CATALOG}


def api_error(code: str, message: str | None = None, status: int | None = None) -> ApiError:
    """Build an :class:`ApiError` for ``code`` from the PolarDB or the gateway's catalogue.

    ``message`` replaces the default message; ``status`` overrides the default
    status. Unknown codes (from injected faults) default to 400.
    """
    return _build(code, message, status, catalog=_ALL)
