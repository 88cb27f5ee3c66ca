"""The one timestamp format of the outputs (``last_reset_at``, ``privileges_checked_at``)."""

from __future__ import annotations

import datetime as dt
from typing import Final

#: UTC, ISO-8601, whole seconds, ``Z`` suffix: ``2026-01-02T03:04:05Z``.
TIMESTAMP_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"


def format_utc(moment: dt.datetime) -> str:
    """``moment`` (timezone-aware) in :data:`TIMESTAMP_FORMAT`."""
    return moment.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def utc_now() -> str:
    """The current time in :data:`TIMESTAMP_FORMAT`."""
    return format_utc(dt.datetime.now(dt.UTC))
