"""Persisting the model to a state file: atomic JSON writes, load at start."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._files import write_replacing

STATE_FORMAT = 2
# Format 1 kept password hashes inside the accounts; the model upgrades it.
_READABLE_FORMATS = (1, 2)


class StateError(ValueError):
    """The state file exists but cannot be used."""


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically (new file, fsync, rename; never through a symlink)."""
    payload = json.dumps({"format": STATE_FORMAT, **state}, indent=1, sort_keys=True)
    write_replacing(path, payload.encode("utf-8"), 0o600)  # holds password hashes


def load_state(path: Path) -> dict[str, Any] | None:
    """The saved state, or None when there is no state file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read state file {path}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(f"state file {path} is not valid JSON (line {exc.lineno})") from exc
    if not isinstance(data, dict) or data.get("format") not in _READABLE_FORMATS:
        raise StateError(f"state file {path} has an unknown format")
    if not isinstance(data.get("clusters"), list):
        raise StateError(f"state file {path} has no clusters list")
    return data
