"""What a refreshed privileged-account reset says about its account: one verdict (pure).

Every reader of refreshed outputs (the ``polardb-reset`` command, reports, engines that
word their own summaries) classifies them here, so "drift" means one thing everywhere:

* ``ok`` - the account is usable and holds every documented privilege;
* ``drift`` - something a reset (or a human) must fix: privileges missing, the managed
  password refused, the KMS secret rotated but not yet applied, the account locked, deleted (``gone``), not a Super account, not
  Available, or its password expired;
* ``unknown`` - the check could not tell (SQL endpoint unreachable, no login, the
  refresh failed): neither healthy nor drift.

Outputs written before a check existed (no ``privileges_ok``) are ``unknown``, never drift.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from . import _props as p
from ._convert import state_from_props
from ._health import days_left as _days_left
from ._state import ROTATION_DRIFT

OK: Final = "ok"
DRIFT: Final = "drift"
UNKNOWN: Final = "unknown"
Status = Literal["ok", "drift", "unknown"]

#: Outputs added by issue 20 (lock and expiry); absent from older states.
ACCOUNT_LOCKED: Final = p.ACCOUNT_LOCKED
PASSWORD_EXPIRES_AT: Final = p.PASSWORD_EXPIRES_AT
PASSWORD_EXPIRY_WARNING_DAYS: Final = p.PASSWORD_EXPIRY_WARNING_DAYS
DEFAULT_EXPIRY_WARNING_DAYS: Final = p.DEFAULT_PASSWORD_EXPIRY_WARNING_DAYS


@dataclass(frozen=True)
class Verdict:
    """The classification of one target.

    ``findings`` are the reasons for ``drift`` (``missing: PROCESS, RELOAD``,
    ``password refused``, ``locked``, ``gone``, ...), or ``("ok",)``, or
    ``("unknown: <cause>",)``. ``notes`` never change the status (``password expires in
    3 days``, ``privileges not checked: check_privileges is false``).
    """

    status: Status
    findings: tuple[str, ...]
    missing_privileges: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The verdict as one line: findings, then notes, separated by ``; ``."""
        return "; ".join((*self.findings, *self.notes))


def gone() -> Verdict:
    """The verdict of a target the refresh dropped: its account or cluster no longer exists."""
    return Verdict(DRIFT, ("gone",))


def not_deployed() -> Verdict:
    """The verdict of a configured target not in the state yet (creating it resets it)."""
    return Verdict(DRIFT, ("not deployed",))


def unknown(cause: str) -> Verdict:
    """The verdict of a target whose check could not tell, with the reason."""
    return Verdict(UNKNOWN, (f"unknown: {_sentence(cause)}",))


def classify(outputs: Mapping[str, Any] | None, *, now: dt.datetime) -> Verdict:
    """Classify a target from its refreshed outputs (None: dropped by the refresh).

    When ``privileges_ok`` is null the verdict says why, from the recorded
    ``privileges_check_cause``. ``now`` (aware, UTC) dates the password expiry.
    """
    if outputs is None:
        return gone()
    findings: list[str] = []
    notes: list[str] = []
    if outputs.get(ACCOUNT_LOCKED) is True or outputs.get(p.ACCOUNT_LOCK_STATE) == "Lock":
        findings.append("locked")
    account_type = outputs.get(p.ACCOUNT_TYPE)
    if account_type not in (None, "Super"):
        findings.append(f"not a Super account ({account_type})")
    status = outputs.get(p.ACCOUNT_STATUS)
    if status not in (None, "Available"):
        findings.append(f"status {status}")
    missing = tuple(str(m) for m in outputs.get(p.MISSING_PRIVILEGES) or ())
    if outputs.get(p.PRIVILEGES_OK) is False:
        findings.append(f"missing: {', '.join(missing)}" if missing else "missing privileges")
    if outputs.get(p.PASSWORD_OK) is False:
        findings.append("password refused")
    if state_from_props(outputs).rotated:
        findings.append(ROTATION_DRIFT)
    days = _days_left(outputs.get(PASSWORD_EXPIRES_AT), now)
    if days is not None:
        if days <= 0:
            findings.append("password expired")
        elif days <= _warning_days(outputs.get(PASSWORD_EXPIRY_WARNING_DAYS)):
            notes.append(f"password expires in {days} day{'s' if days != 1 else ''}")
    if findings:
        return Verdict(DRIFT, tuple(findings), missing, tuple(notes))
    if outputs.get(p.CHECK_PRIVILEGES) is False:
        notes.append("privileges not checked: check_privileges is false")
        return Verdict(OK, (OK,), (), tuple(notes))
    if outputs.get(p.PRIVILEGES_OK) is not True:
        cause = outputs.get(p.PRIVILEGES_CHECK_CAUSE)
        verdict = unknown(cause if isinstance(cause, str) and cause else "privileges not checked")
        return Verdict(UNKNOWN, verdict.findings, (), tuple(notes))
    return Verdict(OK, (OK,), (), tuple(notes))


def _sentence(cause: str) -> str:
    flat = " ".join(cause.split())
    return flat.removesuffix(".")


def _warning_days(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return DEFAULT_EXPIRY_WARNING_DAYS


def worst(statuses: list[Status]) -> Status:
    """The status of a set of targets: ``unknown`` over ``drift`` over ``ok``."""
    if UNKNOWN in statuses:
        return UNKNOWN
    if DRIFT in statuses:
        return DRIFT
    return OK
