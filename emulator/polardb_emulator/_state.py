"""Persisting the model to a state file: atomic JSON writes, load at start."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

STATE_FORMAT = 2
# Format 1 kept password hashes inside the accounts; the model upgrades it.
_READABLE_FORMATS = (1, 2)


class StateError(ValueError):
    """The state file exists but cannot be used."""


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically: temp file in the same directory, fsync, ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({"format": STATE_FORMAT, **state}, indent=1, sort_keys=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)  # holds password hashes
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
