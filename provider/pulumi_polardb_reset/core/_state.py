"""The resource's values as types: checked inputs and recorded state (pure).

:class:`ResetInputs` are the inputs of one resource, checked and with defaults applied;
:class:`ResetState` is what the resource recorded (its outputs), from any version's state.
Both are built from, and turned back into, engine property maps only by :mod:`._convert`;
everything else (the diff decision, the check plan, the lifecycle) works on these types and
never sees a secret wrapper or the engine's placeholder for unknown values. Passwords are
left out of ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _props as p

#: How rotation drift is said everywhere (diff reason, refresh warning, verdict).
ROTATION_DRIFT = "password rotated in KMS, not yet applied"


@dataclass(frozen=True)
class RawInputs:
    """Inputs as given, before validation: plain values plus what the engine said about them.

    ``values`` holds every known input (secret wrappers removed); ``secret`` names the
    inputs the engine marked secret, ``unknown`` those not known yet (preview), and
    ``unexpected`` the keys that are not inputs at all.
    """

    values: Mapping[str, Any]
    secret: frozenset[str] = frozenset()
    unknown: frozenset[str] = frozenset()
    unexpected: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResetInputs:
    """The inputs of one reset, checked, with defaults applied.

    ``unknown`` names the inputs whose value the engine does not know yet (a preview);
    their field holds the default meanwhile and must not be acted on.
    """

    db_cluster_id: str
    account_name: str
    account_password: str | None = field(default=None, repr=False)
    reset_nonce: str | None = None
    timeout_seconds: int = p.DEFAULT_TIMEOUT_SECONDS
    region: str | None = None
    endpoint: str | None = None
    check_privileges: bool = p.DEFAULT_CHECK_PRIVILEGES
    sql_endpoint: str | None = None
    check_password: str | None = field(default=None, repr=False)
    unlock: bool = p.DEFAULT_UNLOCK
    password_expiry_warning_days: int = p.DEFAULT_PASSWORD_EXPIRY_WARNING_DAYS
    account_password_secret: str | None = None
    account_password_secret_stage: str | None = None
    unknown: frozenset[str] = frozenset()

    def known(self, name: str) -> bool:
        """Tell whether input ``name`` has a known value (always, outside previews)."""
        return name not in self.unknown

    @property
    def id(self) -> str:
        """The resource ID these inputs give, ``<db_cluster_id>:<account_name>``."""
        return p.resource_id(self.db_cluster_id, self.account_name)


@dataclass(frozen=True)
class CheckRecord:
    """What the last SQL check recorded (all None: not checked, or no result known).

    ``cause`` says why the check could not tell (not drift), as data: engines and the
    command render it; nobody parses it back out of a warning.
    """

    privileges_ok: bool | None = None
    missing_privileges: tuple[str, ...] | None = None
    privileges_checked_at: str | None = None
    password_ok: bool | None = None
    cause: str | None = None


@dataclass(frozen=True)
class ResetState:
    """What a resource recorded: its outputs, read from the state of any version.

    ``written_before_check`` tells a state written before the SQL check existed (0.1.0: no
    ``check_privileges`` output); converting it back keeps that shape, so refresh keeps
    saying why it cannot check. ``check`` is the last check's record.
    """

    db_cluster_id: str
    account_name: str
    reset_nonce: str | None = None
    timeout_seconds: int = p.DEFAULT_TIMEOUT_SECONDS
    region: str | None = None
    endpoint: str | None = None
    password_fingerprint: str | None = field(default=None, repr=False)
    last_reset_at: str | None = None
    last_reset_request_id: str | None = None
    reset_count: int = 0
    account_status: str | None = None
    account_type: str | None = None
    account_lock_state: str | None = None
    effective_region: str | None = None
    effective_endpoint: str | None = None
    check_privileges: bool = p.DEFAULT_CHECK_PRIVILEGES
    sql_endpoint: str | None = None
    check: CheckRecord = CheckRecord()
    sql_check_password: str | None = field(default=None, repr=False)
    unlock: bool = p.DEFAULT_UNLOCK
    password_expiry_warning_days: int = p.DEFAULT_PASSWORD_EXPIRY_WARNING_DAYS
    account_locked: bool | None = None
    password_expires_at: str | None = None
    account_password_secret: str | None = None
    account_password_secret_stage: str | None = None
    account_password_secret_version: str | None = None
    account_password_secret_latest_version: str | None = None
    written_before_check: bool = False

    @property
    def id(self) -> str:
        """The resource ID, ``<db_cluster_id>:<account_name>``."""
        return p.resource_id(self.db_cluster_id, self.account_name)

    @property
    def rotated(self) -> bool:
        """Whether the last refresh found the secret's stage on another version than the one
        the last reset applied (rotated in KMS, not yet applied)."""
        latest, applied = (
            self.account_password_secret_latest_version,
            self.account_password_secret_version,
        )
        return bool(self.account_password_secret and latest and applied and latest != applied)

    @property
    def locked(self) -> bool:
        """Whether the account was locked when last seen (states written before
        ``account_locked`` tell it by their ``account_lock_state``)."""
        if self.account_locked is not None:
            return self.account_locked
        return self.account_lock_state == "Lock"


__all__ = ["ROTATION_DRIFT", "CheckRecord", "RawInputs", "ResetInputs", "ResetState"]
