"""Input validation for :class:`PrivilegedAccountReset` (pure: no I/O).

The rules mirror the PolarDB API reference (account names, password policy,
cluster ID format) so that mistakes are reported per property at preview,
before any request reaches Alibaba Cloud. Messages never echo a password, nor the
value of an input the engine marks secret. Patterns are matched with ``fullmatch``:
``$`` alone would accept a trailing newline.

Each validator is named by its row in the field table (:data:`._props.INPUT_FIELDS`), and
:func:`._convert.validate_inputs` runs them; this module imports nothing of the table, so
the table can hold its validators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from ._hosts import is_loopback_host
from ._quote import quote

CLUSTER_ID_PATTERN: Final = re.compile(r"^pc-[a-z0-9]{1,64}$")
ACCOUNT_NAME_PATTERN: Final = re.compile(r"^[a-z](?:[a-z0-9_]{0,14}[a-z0-9])$")
REGION_PATTERN: Final = re.compile(r"^[a-z]{2,}(?:-[a-z0-9]+)+$")
ENDPOINT_PATTERN: Final = re.compile(
    r"^(?:(?P<scheme>https?)://)?(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>\d{1,5}))?/?$"
)
SQL_ENDPOINT_PATTERN: Final = re.compile(
    r"^(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::(?P<port>\d{1,5}))?$"
)
PASSWORD_SPECIALS: Final = "!@#$%^&*()_+-="  # noqa: S105
#: The opt-in to a plain-http endpoint on another machine: stack config, then environment.
INSECURE_ENDPOINT_CONFIG: Final = "polardbReset:allowInsecureEndpoint"
INSECURE_ENDPOINT_ENV: Final = "POLARDB_RESET_ALLOW_INSECURE_ENDPOINT"
RESERVED_ACCOUNT_NAMES: Final = frozenset({"root", "admin"})
MAX_TIMEOUT_SECONDS: Final = 24 * 3600
MAX_PASSWORD_EXPIRY_WARNING_DAYS: Final = 3650
DEFAULT_SQL_PORT: Final = 3306


@dataclass(frozen=True)
class Failure:
    """One validation failure: the property it concerns and a sentence saying what to do."""

    property: str
    reason: str


def validate_db_cluster_id(value: Any) -> str | None:
    """Return a reason when ``value`` is not a PolarDB cluster ID, else ``None``."""
    if not isinstance(value, str) or not value:
        return "db_cluster_id is required: set it to the PolarDB cluster ID, e.g. 'pc-bp1abc...'"
    if not CLUSTER_ID_PATTERN.fullmatch(value):
        return (
            f"db_cluster_id {quote(value)} is not a PolarDB cluster ID: it must be 'pc-' followed by "
            "lowercase letters and digits (see DescribeDBClusters or the console)"
        )
    return None


def validate_account_name(value: Any) -> str | None:
    """Return a reason when ``value`` breaks PolarDB's account name rules, else ``None``."""
    if not isinstance(value, str) or not value:
        return "account_name is required: set it to the name of the cluster's privileged account"
    if not 2 <= len(value) <= 16:
        return f"account_name {quote(value)} must be 2 to 16 characters long (it has {len(value)})"
    if not ACCOUNT_NAME_PATTERN.fullmatch(value):
        return (
            f"account_name {quote(value)} is invalid: use lowercase letters, digits and underscores, "
            "start with a lowercase letter and end with a letter or digit"
        )
    if value in RESERVED_ACCOUNT_NAMES:
        return f"account_name {quote(value)} is a reserved name and cannot be a PolarDB account"
    return None


def password_problems(value: str) -> list[str]:
    """List what is wrong with a password, without ever quoting it."""
    problems: list[str] = []
    if not 8 <= len(value) <= 32:
        problems.append(f"it must be 8 to 32 characters long (it has {len(value)})")
    bad = sorted(
        {c for c in value if not (c.isascii() and c.isalnum()) and c not in PASSWORD_SPECIALS}
    )
    if bad:
        problems.append(
            f"it contains {len(bad)} character(s) that are not allowed; use letters, digits and "
            f"only these special characters: {PASSWORD_SPECIALS}"
        )
    classes = sum(
        (
            any(c.isascii() and c.isupper() for c in value),
            any(c.isascii() and c.islower() for c in value),
            any(c.isascii() and c.isdigit() for c in value),
            any(c in PASSWORD_SPECIALS for c in value),
        )
    )
    if classes < 3:
        problems.append(
            "it must contain at least three of: uppercase letters, lowercase letters, digits, "
            f"special characters ({PASSWORD_SPECIALS}); it has {classes}"
        )
    return problems


def validate_account_password(value: Any) -> str | None:
    """Return a reason when ``value`` breaks the password policy, else ``None``."""
    if value is None:
        return None
    if not isinstance(value, str):
        return "account_password must be a string"
    problems = password_problems(value)
    if problems:
        return "account_password does not meet the PolarDB password policy: " + "; ".join(problems)
    return None


def nonce_text(value: Any) -> str | None:
    """Return the nonce as the string it stands for, or ``None`` when it has no such string.

    The engine carries every number as a float, so a nonce written ``1`` in YAML config,
    set with ``pulumi config set --type int`` or read with ``config.get_int`` arrives as
    ``1.0``: an integral number is its decimal string, so ``1``, ``1.0`` and ``"1"`` are the
    same nonce. Non-integral numbers and booleans have no such string.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def validate_reset_nonce(value: Any) -> str | None:
    """Return a reason when ``value`` cannot serve as a reset nonce, else ``None``."""
    if value is None:
        return None
    text = nonce_text(value)
    if text is None:
        return (
            f"reset_nonce must be a string or a whole number (got {type(value).__name__} "
            f"{quote(value)}); use e.g. a pipeline run ID, a date or a counter"
        )
    if len(text) > 256:
        return "reset_nonce must be at most 256 characters (use a run ID, a date or a counter)"
    return None


def validate_timeout_seconds(value: Any) -> str | None:
    """Return a reason when ``value`` is not a usable operation deadline, else ``None``."""
    if value is None:
        return None
    # The engine carries numbers as floats: 60.0 is 60 seconds; 1.5, inf and nan are not.
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not value.is_integer())
    ):
        return f"timeout_seconds must be a whole number of seconds (got {quote(value)})"
    if not 1 <= value <= MAX_TIMEOUT_SECONDS:
        return f"timeout_seconds must be between 1 and {MAX_TIMEOUT_SECONDS} (got {quote(value)})"
    return None


def validate_region(value: Any) -> str | None:
    """Return a reason when ``value`` is not an Alibaba Cloud region ID, else ``None``."""
    if value is None:
        return None
    if not isinstance(value, str) or not REGION_PATTERN.fullmatch(value):
        return f"region {quote(value)} is not an Alibaba Cloud region ID such as 'cn-hangzhou'"
    return None


def validate_endpoint(value: Any, *, allow_insecure: bool = False) -> str | None:
    """Return a reason when ``value`` is not a usable ``[http(s)://]host[:port]``, else ``None``.

    Plain ``http://`` is refused unless the host is this machine (``localhost``, 127.0.0.0/8,
    ``::1``, IPv4-mapped loopback) or ``allow_insecure`` is set: the request is signed with
    the AccessKey and ResetAccount carries the password in its query string, so over
    plain http anyone on the way reads the password and can replay or alter the request.
    """
    if value is None:
        return None
    match = ENDPOINT_PATTERN.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return (
            f"endpoint {quote(value)} must be a host name with an optional port and scheme, "
            "e.g. 'polardb.aliyuncs.com' or 'http://127.0.0.1:8080'"
        )
    if match.group("port") and not 0 < int(match.group("port")) < 65536:
        return f"endpoint {quote(value)} has an invalid port"
    cleartext = match.group("scheme") == "http" and not is_loopback_host(match.group("host"))
    if cleartext and not allow_insecure:
        return (
            f"endpoint {quote(value)} is plain http to another machine: the signed request and "
            "the password (ResetAccount sends it in the query string) would cross the "
            "network in cleartext. Use https://, or, only on a network path you trust, "
            f"opt in with stack config {INSECURE_ENDPOINT_CONFIG}=true or "
            f"{INSECURE_ENDPOINT_ENV}=true"
        )
    return None


def parse_sql_endpoint(value: str) -> tuple[str, int] | None:
    """Split ``host[:port]`` (``[v6]:port`` for IPv6) into host and port; None when malformed.

    The port defaults to 3306. The host is returned without brackets.
    """
    match = SQL_ENDPOINT_PATTERN.match(value.strip())
    if match is None:
        return None
    port = int(match.group("port")) if match.group("port") else DEFAULT_SQL_PORT
    if not 0 < port < 65536:
        return None
    return match.group("host").strip("[]"), port


def validate_sql_endpoint(value: Any) -> str | None:
    """Return a reason when ``value`` is not ``host:port``, else ``None``."""
    if value is None:
        return None
    if not isinstance(value, str) or parse_sql_endpoint(value) is None:
        return (
            f"sql_endpoint {quote(value)} must be the cluster's SQL address as host:port, e.g. "
            "'pc-bp1abc.rwlb.rds.aliyuncs.com:3306' or '[::1]:3306' (no scheme)"
        )
    return None


def boolean_reason(name: str, value: Any) -> str | None:
    """Return a reason when the value of property ``name`` is not a boolean, else ``None``."""
    if value is None or isinstance(value, bool):
        return None
    return f"{name} must be true or false (got {type(value).__name__})"


def validate_check_privileges(value: Any) -> str | None:
    """Return a reason when ``value`` is not a boolean, else ``None``."""
    return boolean_reason("check_privileges", value)


def validate_check_password(value: Any) -> str | None:
    """Return a reason when ``value`` cannot be a login password, else ``None`` (never echoes it).

    Only the shape is checked, not PolarDB's policy: the account's current password may
    predate the policy, and the provider never sets this one.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        return "check_password must be a non-empty string (the account's current password)"
    if len(value) > 128:
        return f"check_password must be at most 128 characters (it has {len(value)})"
    return None


#: KMS's rules: a secret name is 1-192 letters, digits and ``_/+=.@-``; a stage 1-64
#: printable ASCII characters.
SECRET_NAME_PATTERN = re.compile(r"[A-Za-z0-9_/+=.@-]{1,192}")
SECRET_STAGE_PATTERN = re.compile(r"[\x21-\x7e]{1,64}")


def validate_account_password_secret(value: Any) -> str | None:
    """Return a reason when ``value`` is not a KMS secret name, else ``None``."""
    if value is None:
        return None
    if not isinstance(value, str) or not SECRET_NAME_PATTERN.fullmatch(value):
        return (
            f"account_password_secret {quote(value)} is not a KMS secret name (1 to 192 "
            "letters, digits and _/+=.@- characters)"
        )
    return None


def validate_account_password_secret_stage(value: Any) -> str | None:
    """Return a reason when ``value`` is not a KMS version stage, else ``None``."""
    if value is None:
        return None
    if not isinstance(value, str) or not SECRET_STAGE_PATTERN.fullmatch(value):
        return (
            f"account_password_secret_stage {quote(value)} is not a KMS version stage such as "
            "'ACSCurrent' (1 to 64 printable characters, no spaces)"
        )
    return None


def validate_unlock(value: Any) -> str | None:
    """Return a reason when ``value`` is not a boolean, else ``None``."""
    return boolean_reason("unlock", value)


def validate_password_expiry_warning_days(value: Any) -> str | None:
    """Return a reason when ``value`` is not a whole number of days in range, else ``None``."""
    if value is None:
        return None
    # The engine carries numbers as floats: 14.0 is 14 days; 1.5, inf and nan are not.
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not value.is_integer())
        or not 0 <= value <= MAX_PASSWORD_EXPIRY_WARNING_DAYS
    ):
        return (
            "password_expiry_warning_days must be a whole number of days from 0 to "
            f"{MAX_PASSWORD_EXPIRY_WARNING_DAYS} (got {quote(value)})"
        )
    return None


def hide_secret(reason: str, value: Any) -> str:
    """``reason`` without the value of a secret input (the engine shows reasons in clear)."""
    shown_as = {quote(value)}
    if isinstance(value, str | float):  # containers are only ever quoted (bounded)
        shown_as |= {repr(value), str(value)}
    for shown in sorted(shown_as, key=len, reverse=True):
        # A short value may also be a word or a number of the sentence: keep those.
        if len(shown) >= 3:
            reason = reason.replace(shown, "[secret]")
    return reason
