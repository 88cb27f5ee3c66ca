"""Injected faults: errors, latency and dropped connections for the next calls of an action."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any

from .kms import responses as kms
from .polardb import responses

FAULT_KINDS = ("error", "latency", "drop")
_KEYS = frozenset(
    {"action", "kind", "code", "status", "message", "retry_after_ms", "latency_ms", "count"}
)


@dataclass
class Fault:
    """An injected failure for the next ``count`` calls of ``action`` (or ``*``)."""

    id: int
    action: str
    kind: str
    count: int
    code: str | None = None
    status: int | None = None
    message: str | None = None
    retry_after_ms: int | None = None
    latency_ms: int | None = None


def _int_field(spec: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = spec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}")
    return value


def _str_field(spec: dict[str, Any], name: str) -> str | None:
    value = spec.get(name)
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"{name} must be a non-empty string")
    return value


def parse_fault(spec: object, fault_id: int) -> Fault:
    """Validate a ``POST /_emulator/faults`` body; raise ValueError with a clear message."""
    if not isinstance(spec, dict):
        raise ValueError("body must be a JSON object")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise ValueError(f"unknown key(s): {', '.join(unknown)}")
    action = spec.get("action")
    known = (*responses.ACTIONS, *kms.ACTIONS)
    if action != "*" and action not in known:
        raise ValueError(f"action must be '*' or one of {', '.join(known)}")
    kind = spec.get("kind", "error")
    if kind not in FAULT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
    fault = Fault(
        id=fault_id,
        action=action,
        kind=kind,
        count=_int_field({"count": 1, **spec}, "count", 1, 1_000_000) or 1,
        code=_str_field(spec, "code"),
        status=_int_field(spec, "status", 400, 599),
        message=_str_field(spec, "message"),
        retry_after_ms=_int_field(spec, "retry_after_ms", 1, 3_600_000),
        latency_ms=_int_field(spec, "latency_ms", 0, 600_000),
    )
    if kind == "error" and not fault.code:
        raise ValueError("an error fault needs a code")
    if kind == "latency" and fault.latency_ms is None:
        raise ValueError("a latency fault needs latency_ms")
    return fault


class Faults:
    """The faults waiting to be used, first added first used."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: object) -> Fault:
        """Register a fault from its JSON spec (ValueError when invalid)."""
        fault = parse_fault(spec, next(self._ids))
        self._faults.append(fault)
        return fault

    def take(self, action: str) -> Fault | None:
        """Consume one use of the first fault matching ``action``."""
        for fault in self._faults:
            if fault.action in (action, "*"):
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def documents(self) -> list[dict[str, Any]]:
        """The faults not yet used up, with their remaining counts."""
        return [asdict(f) for f in self._faults]

    def clear(self) -> None:
        """Remove every fault."""
        self._faults.clear()

    def __len__(self) -> int:
        return len(self._faults)
