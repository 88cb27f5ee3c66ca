"""Naming and password policies of PolarDB (API reference of CreateAccount)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

ACCOUNT_NAME_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,14}[a-z0-9]")
CLUSTER_ID_RE: Final = re.compile(r"pc-[a-z0-9]+")
PASSWORD_SPECIALS: Final = frozenset("!@#$%^&*()_+-=")
#: Reserved names the documentation gives: the CreateAccount reference says "reserved
#: names (root, admin, ...) are refused" (docs/emulator.md, "Reserved account names").
#: The provider refuses exactly these; tests/unit/test_documented_lists.py pins both.
DOCUMENTED_RESERVED_ACCOUNT_NAMES: Final = frozenset({"root", "admin"})
#: The emulator's reading of that "...": names MySQL, MariaDB and the service's own
#: tooling use. An emulator choice with no documented source, so the provider does not
#: refuse them (if the service does, it answers InvalidAccountName.Malformed).
#: information_schema and performance_schema, longer than 16 characters, fail the name
#: rule already.
EMULATOR_RESERVED_ACCOUNT_NAMES: Final = frozenset(
    {
        "administrator",
        "mysql",
        "sys",
        "system",
        "test",
        "aurora",
        "replicator",
        "aliyun_root",
        "polardb_admin",
        "eagleye",
    }
)
RESERVED_ACCOUNT_NAMES: Final = DOCUMENTED_RESERVED_ACCOUNT_NAMES | EMULATOR_RESERVED_ACCOUNT_NAMES
ACCOUNT_TYPES: Final = ("Normal", "Super", "ReadOnly")
WRITABLE_ACCOUNT_TYPES: Final = ("Normal", "Super")
LOCK_STATES: Final = ("UnLock", "Lock")
DB_TYPES: Final = ("MySQL", "PostgreSQL", "Oracle")
ACCOUNT_PRIVILEGES: Final = ("ReadWrite", "ReadOnly", "DMLOnly", "DDLOnly", "ReadIndex")
CLUSTER_STATUSES: Final = (
    "Creating",
    "Running",
    "Deleting",
    "Rebooting",
    "DBNodeCreating",
    "DBNodeDeleting",
    "ClassChanging",
    "NetAddressCreating",
    "NetAddressDeleting",
    "NetAddressModifying",
    "MinorVersionUpgrading",
    "Maintaining",
    "Switching",
    "Locked",
    "Deleted",
)


def account_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid new account name, or None when it is."""
    if not ACCOUNT_NAME_RE.fullmatch(name):
        return (
            "it must be 2 to 16 characters of lowercase letters, digits and underscores, "
            "start with a lowercase letter and end with a letter or digit"
        )
    if name in RESERVED_ACCOUNT_NAMES:
        return "it is a reserved account name"
    return None


def password_problem(password: str) -> str | None:
    """Why ``password`` breaks the policy, or None. Never echoes the password."""
    if not 8 <= len(password) <= 32:
        return "it must be 8 to 32 characters long"
    classes = [
        any(c.isascii() and c.isupper() for c in password),
        any(c.isascii() and c.islower() for c in password),
        any(c.isascii() and c.isdigit() for c in password),
        any(c in PASSWORD_SPECIALS for c in password),
    ]
    allowed = all((c.isascii() and c.isalnum()) or c in PASSWORD_SPECIALS for c in password)
    if not allowed:
        return "it may contain only letters, digits and the special characters !@#$%^&*()_+-="
    if sum(classes) < 3:
        return (
            "it must contain at least three of: uppercase letters, lowercase letters, "
            "digits, special characters"
        )
    return None


#: AccountPasswordValidTime (ModifyAccountLockState): ``YYYY-MM-DDThh:mm:ssZ``, UTC.
VALID_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"
_VALID_TIME_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def parse_valid_time(value: str) -> float | None:
    """The POSIX time of a ``YYYY-MM-DDThh:mm:ssZ`` value, or None when it is not one."""
    if not _VALID_TIME_RE.fullmatch(value):
        return None
    try:
        return datetime.strptime(value, VALID_TIME_FORMAT).replace(tzinfo=UTC).timestamp()
    except ValueError:  # 2026-02-30T00:00:00Z
        return None


def is_cluster_id(value: str) -> bool:
    """Whether ``value`` is shaped like a PolarDB cluster ID (``pc-`` + lowercase alnum)."""
    return CLUSTER_ID_RE.fullmatch(value) is not None
