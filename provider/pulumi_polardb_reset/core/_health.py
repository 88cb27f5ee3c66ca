"""Account health beyond grants: the lock state and the password's expiry (pure).

PolarDB reports both in DescribeAccounts (``AccountLockState``, ``AccountPasswordValidTime``)
and changes them with ModifyAccountLockState; ResetAccount touches neither. A locked account
cannot log in however complete its grants; an expired password logs in only to be changed.
These rules turn what the API said into the recorded outputs (``account_locked``,
``password_expires_at``) and into the sentences a user acts on.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Final

from ._errors import where
from ._time import format_utc

LOCKED: Final = "Lock"
SECONDS_PER_DAY: Final = 86400


def is_locked(lock_state: str | None) -> bool | None:
    """``AccountLockState`` as a flag (None: the API did not say)."""
    return None if lock_state is None else lock_state == LOCKED


def expires_at(valid_time: str | None) -> str | None:
    """``AccountPasswordValidTime`` in the outputs' timestamp format (UTC ISO-8601), or None
    when the password has no validity time (or the value cannot be read as a time)."""
    when = _instant(valid_time)
    return None if when is None else format_utc(when)


def days_left(value: Any, now: dt.datetime) -> int | None:
    """Whole days (rounded up) until an ISO-8601 UTC instant; None when unset or unreadable.

    0 or less: the instant has passed (the password has expired).
    """
    when = _instant(value)
    if when is None:
        return None
    return math.ceil((when - now).total_seconds() / SECONDS_PER_DAY)


def lock_warning(cluster: str, account: str, *, unlock: bool) -> str:
    """The warning for a locked account (refresh)."""
    who = where(cluster, account)
    if unlock:
        return f"{who} is locked: logins are refused; `pulumi up` unlocks it (unlock: true)."
    return (
        f"{who} is locked: logins are refused, whatever its privileges. Set unlock: true to "
        "have `pulumi up` unlock it (ModifyAccountLockState), or unlock it in the console."
    )


def expiry_warning(
    cluster: str, account: str, expires: str | None, *, warning_days: int, now: dt.datetime
) -> str | None:
    """The warning for a password that has expired or expires within ``warning_days``
    (None: no expiry, or not that soon)."""
    days = days_left(expires, now)
    if days is None or days > warning_days:
        return None
    who = where(cluster, account)
    if days <= 0:
        return (
            f"the password of {who} expired at {expires}: logins may only change it. Set a "
            "later validity time (ModifyAccountLockState or the console)."
        )
    return (
        f"the password of {who} expires at {expires} (in {days} day{'s' if days != 1 else ''}). "
        "Set a later validity time (ModifyAccountLockState or the console) before then."
    )


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when


__all__ = ["days_left", "expires_at", "expiry_warning", "is_locked", "lock_warning"]
