"""The request log: every API request the emulator answered, secrets redacted, bounded.

Tests read it through ``GET /_emulator/requests`` to see what a client did
(how many ResetAccount calls, with which parameters, signed how).

Anyone who can reach the port can send requests, signed or not, so nothing
in the log may grow with what a client sends: every entry is cut to a fixed
size (fewer and shorter parameters before the request is authenticated), and
the whole log keeps at most :data:`MAX_ENTRIES` entries and about
:data:`MAX_BYTES` of JSON, dropping the oldest first.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

REDACTED = "***REDACTED***"
_SECRET_MARKERS = ("password", "secret", "token", "signature")
#: Parameters whose names carry a marker but whose values are no secret: kept as sent.
_NOT_SECRET = frozenset({"accountpasswordvalidtime", "secretname", "secretdatatype", "secrettype"})
MAX_ENTRIES = 10_000
MAX_BYTES = 8 * 1024 * 1024
#: Longest action name and AccessKey ID kept in an entry.
MAX_NAME = 64


@dataclass(frozen=True)
class ParamLimits:
    """How much of a request's parameters an entry keeps."""

    keys: int
    key_chars: int
    value_chars: int


#: Authenticated requests: every parameter the API knows fits easily.
AUTHENTICATED = ParamLimits(keys=64, key_chars=64, value_chars=1024)
#: Everything refused before its signature was verified: a summary.
UNAUTHENTICATED = ParamLimits(keys=16, key_chars=64, value_chars=64)


def redact(params: Mapping[str, str]) -> dict[str, str]:
    """Copy of ``params`` with every password/secret/token/signature value replaced."""
    return {
        k: REDACTED
        if k.lower() not in _NOT_SECRET and any(m in k.lower() for m in _SECRET_MARKERS)
        else v
        for k, v in params.items()
    }


def _cut(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + "..."


def summarise(params: Mapping[str, str], limits: ParamLimits) -> dict[str, Any]:
    """``params`` redacted and cut to ``limits``; ``params_truncated`` says when cut."""
    kept: dict[str, str] = {}
    truncated = len(params) > limits.keys
    for key, value in itertools.islice(params.items(), limits.keys):
        short_key = key[: limits.key_chars]
        short_value = _cut(value, limits.value_chars) or ""
        truncated |= short_key != key or short_value != value
        kept[short_key] = short_value
    entry: dict[str, Any] = {"params": redact(kept)}
    if truncated:
        entry["params_truncated"] = True
    return entry


class RequestLog:
    """The last requests, oldest first, each with a sequence number and time (bounded)."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._entries: deque[tuple[dict[str, Any], int]] = deque()
        self._bytes = 0
        self._seq = itertools.count(1)

    def record(
        self,
        *,
        action: str | None,
        params: Mapping[str, str],
        authenticated: bool,
        access_key_id: str | None = None,
        **fields: Any,
    ) -> None:
        """Append one entry; ``params`` are summarised (and redacted) here."""
        stamp = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="milliseconds")
        entry = {
            "seq": next(self._seq),
            "time": stamp,
            "action": _cut(action, MAX_NAME),
            **summarise(params, AUTHENTICATED if authenticated else UNAUTHENTICATED),
            "access_key_id": _cut(access_key_id, MAX_NAME),
            **fields,
        }
        size = len(json.dumps(entry))
        self._entries.append((entry, size))
        self._bytes += size
        while self._entries and (
            len(self._entries) > self._max_entries or self._bytes > self._max_bytes
        ):
            _, dropped = self._entries.popleft()
            self._bytes -= dropped

    def entries(self, action: str | None = None) -> list[dict[str, Any]]:
        """Every entry, or only those of ``action``."""
        return [e for e, _ in self._entries if action is None or e["action"] == action]

    def clear(self) -> None:
        """Forget every entry (sequence numbers keep counting)."""
        self._entries.clear()
        self._bytes = 0

    @property
    def size(self) -> int:
        """Approximate JSON size of the log, in bytes."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)
