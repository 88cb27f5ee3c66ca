"""The request log: every API request the emulator answered, secrets redacted.

Tests read it through ``GET /_emulator/requests`` to see what a client did
(how many ResetAccount calls, with which parameters, signed how).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

REDACTED = "***REDACTED***"
_SECRET_MARKERS = ("password", "secret", "token", "signature")
MAX_ENTRIES = 10_000


def redact(params: Mapping[str, str]) -> dict[str, str]:
    """Copy of ``params`` with every password/secret/token/signature value replaced."""
    return {
        k: REDACTED if any(m in k.lower() for m in _SECRET_MARKERS) else v
        for k, v in params.items()
    }


class RequestLog:
    """The last ``max_entries`` requests, oldest first, each with a sequence number and time."""

    def __init__(self, clock: Callable[[], float], *, max_entries: int = MAX_ENTRIES) -> None:
        self._clock = clock
        self._entries: deque[dict[str, Any]] = deque(maxlen=max_entries)
        self._seq = itertools.count(1)

    def record(self, **entry: Any) -> None:
        """Append one entry (its ``params`` must already be redacted)."""
        stamp = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="milliseconds")
        self._entries.append({"seq": next(self._seq), "time": stamp, **entry})

    def entries(self, action: str | None = None) -> list[dict[str, Any]]:
        """Every entry, or only those of ``action``."""
        return [e for e in self._entries if action is None or e["action"] == action]

    def clear(self) -> None:
        """Forget every entry (sequence numbers keep counting)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
