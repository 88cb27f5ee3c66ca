"""Property names shared by the resource, the provider and the pure helpers.

Keeping the names in one place means the Python resource class, the provider's
``check``/``diff``/``create`` and the state written by the engine can never
drift apart.
"""

from __future__ import annotations

from typing import Any, Final

# Inputs.
DB_CLUSTER_ID: Final = "db_cluster_id"
ACCOUNT_NAME: Final = "account_name"
ACCOUNT_PASSWORD: Final = "account_password"  # noqa: S105 - a property name, not a secret
RESET_NONCE: Final = "reset_nonce"
TIMEOUT_SECONDS: Final = "timeout_seconds"
REGION: Final = "region"
ENDPOINT: Final = "endpoint"
CHECK_PRIVILEGES: Final = "check_privileges"
SQL_ENDPOINT: Final = "sql_endpoint"
CHECK_PASSWORD: Final = "check_password"  # noqa: S105 - a property name, not a secret

# Outputs (besides the inputs above, minus the plaintext password).
PASSWORD_FINGERPRINT: Final = "account_password_fingerprint"  # noqa: S105
LAST_RESET_AT: Final = "last_reset_at"
LAST_RESET_REQUEST_ID: Final = "last_reset_request_id"
RESET_COUNT: Final = "reset_count"
ACCOUNT_STATUS: Final = "account_status"
ACCOUNT_TYPE: Final = "account_type"
ACCOUNT_LOCK_STATE: Final = "account_lock_state"
EFFECTIVE_REGION: Final = "effective_region"
EFFECTIVE_ENDPOINT: Final = "effective_endpoint"
# The SQL check (permission drift). States written before it have none of these, which
# every reader takes as "not checked" (None), never as drift.
PRIVILEGES_OK: Final = "privileges_ok"
MISSING_PRIVILEGES: Final = "missing_privileges"
PRIVILEGES_CHECKED_AT: Final = "privileges_checked_at"
PASSWORD_OK: Final = "password_ok"  # noqa: S105
# The password the check logs in with (the managed account_password, else check_password),
# kept as a secret because refresh (read) sees only the outputs.
SQL_CHECK_PASSWORD: Final = "sql_check_password"  # noqa: S105

INPUTS: Final = (
    DB_CLUSTER_ID,
    ACCOUNT_NAME,
    ACCOUNT_PASSWORD,
    RESET_NONCE,
    TIMEOUT_SECONDS,
    REGION,
    ENDPOINT,
    CHECK_PRIVILEGES,
    SQL_ENDPOINT,
    CHECK_PASSWORD,
)
OUTPUTS: Final = (
    DB_CLUSTER_ID,
    ACCOUNT_NAME,
    RESET_NONCE,
    TIMEOUT_SECONDS,
    REGION,
    ENDPOINT,
    PASSWORD_FINGERPRINT,
    LAST_RESET_AT,
    LAST_RESET_REQUEST_ID,
    RESET_COUNT,
    ACCOUNT_STATUS,
    ACCOUNT_TYPE,
    ACCOUNT_LOCK_STATE,
    EFFECTIVE_REGION,
    EFFECTIVE_ENDPOINT,
    CHECK_PRIVILEGES,
    SQL_ENDPOINT,
    PRIVILEGES_OK,
    MISSING_PRIVILEGES,
    PRIVILEGES_CHECKED_AT,
    PASSWORD_OK,
    SQL_CHECK_PASSWORD,
)
SECRET_OUTPUTS: Final = (ACCOUNT_PASSWORD, PASSWORD_FINGERPRINT, CHECK_PASSWORD, SQL_CHECK_PASSWORD)
#: Outputs of the SQL check, cleared together when no check result is known.
CHECK_RESULT_OUTPUTS: Final = (
    PRIVILEGES_OK,
    MISSING_PRIVILEGES,
    PRIVILEGES_CHECKED_AT,
    PASSWORD_OK,
)

DEFAULT_TIMEOUT_SECONDS: Final = 900
DEFAULT_CHECK_PRIVILEGES: Final = True
DEFAULT_SQL_PORT: Final = 3306
MAX_TIMEOUT_SECONDS: Final = 24 * 3600

# The engine's placeholder for values not known during preview.
UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
# The engine's marker for a secret value wrapped in a property map.
_SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105
_SIG_KEY: Final = "4dabf18193072939515e22adb298388d"


def plain(value: Any) -> Any:
    """Return ``value`` with an engine secret wrapper removed, if it has one."""
    if is_secret(value):
        return value.get("value")
    return value


def secret(value: Any) -> Any:
    """Wrap ``value`` as an engine secret (None stays None).

    A provider's answer may carry secrets in this form even when it does not accept
    secrets, so an output wrapped here is encrypted in state whatever the resource's
    options say.
    """
    if value is None:
        return None
    return {_SIG_KEY: _SECRET_SIG, "value": value}


def is_secret(value: Any) -> bool:
    """Tell whether ``value`` is wrapped as an engine secret."""
    return isinstance(value, dict) and value.get(_SIG_KEY) == _SECRET_SIG


def is_unknown(value: Any) -> bool:
    """Tell whether ``value`` is the engine's placeholder for a preview-time unknown."""
    return bool(plain(value) == UNKNOWN)


def resource_id(db_cluster_id: str, account_name: str) -> str:
    """Build the resource ID, ``<db_cluster_id>:<account_name>`` like terraform-provider-alicloud."""
    return f"{db_cluster_id}:{account_name}"
