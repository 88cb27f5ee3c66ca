"""Persisting the model to a state file: atomic JSON writes, load at start.

A state file is the emulator's own output, but it is a file a user can edit, truncate
or mix up: :func:`load_state` checks every part the model reads (types, choices, the
shape of each cluster, account, task and backend record) and refuses anything else with
one line naming the bad key, e.g. ``clusters[0].accounts[1].type: must be one of ...``,
which the CLI prints before exiting 2. Before these checks (found by fuzzing the loader),
a state file with an unexpected key or type made the emulator die with a traceback.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._files import write_replacing
from ._logs import escape
from .polardb import rules

STATE_FORMAT = 2
# Format 1 kept password hashes inside the accounts; the model upgrades it.
_READABLE_FORMATS = (1, 2)
BACKENDS = ("memory", "mariadb")
ACCOUNT_STATUSES = ("Creating", "Available", "Deleting")
TASK_OUTCOMES = ("available", "delete")
_MAX_MESSAGE = 500


class StateError(ValueError):
    """The state file exists but cannot be used (one printable line)."""

    def __init__(self, message: str) -> None:
        super().__init__(escape(message, _MAX_MESSAGE))


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically (new file, fsync, rename; never through a symlink)."""
    payload = json.dumps({"format": STATE_FORMAT, **state}, indent=1, sort_keys=True)
    write_replacing(path, payload.encode("utf-8"), 0o600)  # holds password hashes


def load_state(path: Path) -> dict[str, Any] | None:
    """The saved state, checked (see the module doc), or None when there is no state file yet."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read state file {path}: {exc.strerror}") from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise StateError(f"state file {path} is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise StateError(f"state file {path} is not valid JSON (line {exc.lineno})") from None
    except RecursionError:
        raise StateError(f"state file {path} is nested too deeply") from None
    except ValueError as exc:  # a number of more than 4,300 digits
        raise StateError(f"state file {path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") not in _READABLE_FORMATS:
        raise StateError(f"state file {path} has an unknown format")
    if not isinstance(data.get("clusters"), list):
        raise StateError(f"state file {path} has no clusters list")
    try:
        check_state(data)
    except _InvalidError as exc:
        raise StateError(f"state file {path}: {exc.where}: {exc.problem}") from None
    return data


class _InvalidError(Exception):
    """A part of the state document that does not have the expected shape."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def check_state(data: Mapping[str, Any]) -> None:
    """Raise :class:`_InvalidError` unless ``data`` has the shape :meth:`Model.dump_state` writes
    (format 1 accounts may also carry ``password_hash`` and ``privileges_revoked``)."""
    _choice(data, "backend", "", BACKENDS, optional=True)
    _bool(data, "tasks_held", "", optional=True)
    format_1 = data.get("format") == 1
    ids: set[str] = set()
    for i, cluster in enumerate(data["clusters"]):
        where = f"clusters[{i}]"
        _cluster(cluster, where, format_1)
        if cluster["id"] in ids:
            raise _InvalidError(f"{where}.id", f"duplicate cluster {escape(cluster['id'], 64)}")
        ids.add(cluster["id"])
    tasks = data.get("tasks", [])
    if not isinstance(tasks, list):
        raise _InvalidError("tasks", "must be a list")
    for i, task in enumerate(tasks):
        _task(task, f"tasks[{i}]")


_CLUSTER_KEYS = ("id", "region", "db_type", "status", "db_version", "description", "created")
_ACCOUNT_KEYS = (
    "name",
    "type",
    "lock_state",
    "description",
    "status",
    "database_privileges",
    "password_valid_time",
)
_FORMAT_1_ACCOUNT_KEYS = ("password_hash", "privileges_revoked")
_TASK_KEYS = (
    "id",
    "cluster_id",
    "account_name",
    "action",
    "ends_at",
    "outcome",
    "credential",
    "changes",
)
_TASK_CHANGES = ("lock_state", "password_valid_time")


def _cluster(item: object, where: str, format_1: bool) -> None:
    m = _mapping(item, where, required=(*_CLUSTER_KEYS, "accounts"), optional=("database",))
    for key in ("region", "db_version", "description", "created"):
        _str(m, key, where)
    if not rules.is_cluster_id(_str(m, "id", where)):
        raise _InvalidError(f"{where}.id", "must be 'pc-' followed by lowercase letters and digits")
    _choice(m, "db_type", where, rules.DB_TYPES)
    _choice(m, "status", where, rules.CLUSTER_STATUSES)
    accounts = m["accounts"]
    if not isinstance(accounts, list):
        raise _InvalidError(f"{where}.accounts", "must be a list")
    names: set[str] = set()
    for j, account in enumerate(accounts):
        _account(account, f"{where}.accounts[{j}]", format_1)
        if account["name"] in names:
            raise _InvalidError(f"{where}.accounts[{j}].name", "duplicate account name")
        names.add(account["name"])
    database = m.get("database")
    if database is not None:
        _database(database, f"{where}.database")


def _account(item: object, where: str, format_1: bool) -> None:
    extra = _FORMAT_1_ACCOUNT_KEYS if format_1 else ()
    m = _mapping(item, where, required=("name", "type"), optional=(*_ACCOUNT_KEYS[2:], *extra))
    if not rules.ACCOUNT_NAME_RE.fullmatch(_str(m, "name", where)):
        raise _InvalidError(f"{where}.name", "is not an account name")
    _choice(m, "type", where, rules.ACCOUNT_TYPES)
    _choice(m, "lock_state", where, rules.LOCK_STATES, optional=True)
    _choice(m, "status", where, ACCOUNT_STATUSES, optional=True)
    for key in ("description", "password_hash"):
        if key in m:
            _str(m, key, where, empty=True)
    _valid_time(m, where)
    _bool(m, "privileges_revoked", where, optional=True)
    privileges = m.get("database_privileges", [])
    if not isinstance(privileges, list) or not all(
        isinstance(p, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in p.items())
        for p in privileges
    ):
        raise _InvalidError(f"{where}.database_privileges", "must be a list of string mappings")


def _database(item: object, where: str) -> None:
    m = _mapping(item, where, optional=("users",))
    users = m.get("users", {})
    if not isinstance(users, dict):
        raise _InvalidError(f"{where}.users", "must be a mapping")
    for name, user in users.items():
        user_where = f"{where}.users.{escape(name, 64)}"
        u = _mapping(
            user, user_where, required=("password_hash",), optional=("privileges_revoked",)
        )
        _str(u, "password_hash", user_where, empty=True)
        _bool(u, "privileges_revoked", user_where, optional=True)


def _task(item: object, where: str) -> None:
    m = _mapping(item, where, required=_TASK_KEYS[:-2], optional=_TASK_KEYS[-2:])
    task_id = m["id"]
    if isinstance(task_id, bool) or not isinstance(task_id, int) or not 0 < task_id < 2**63:
        raise _InvalidError(f"{where}.id", "must be a positive integer")
    for key in ("cluster_id", "account_name", "action"):
        _str(m, key, where)
    ends_at = m["ends_at"]
    if isinstance(ends_at, bool) or not isinstance(ends_at, int | float):
        raise _InvalidError(f"{where}.ends_at", "must be a number")
    if not math.isfinite(ends_at):
        raise _InvalidError(f"{where}.ends_at", "must be a finite number")
    _choice(m, "outcome", where, TASK_OUTCOMES)
    if m.get("credential") is not None:
        _str(m, "credential", where, empty=True)
    if m.get("changes") is not None:
        changes = _mapping(m["changes"], f"{where}.changes", optional=_TASK_CHANGES)
        _choice(changes, "lock_state", f"{where}.changes", rules.LOCK_STATES, optional=True)
        _valid_time(changes, f"{where}.changes")


# --- small typed readers ---------------------------------------------------------------


def _join(where: str, key: object) -> str:
    name = escape(key, 64)
    return f"{where}.{name}" if where else name


def _mapping(
    item: object, where: str, *, required: Sequence[str] = (), optional: Sequence[str] = ()
) -> Mapping[str, Any]:
    if not isinstance(item, dict):
        raise _InvalidError(where or "state", "must be a mapping")
    for key in item:
        if key not in (*required, *optional):
            raise _InvalidError(_join(where, key), "unknown key")
    for key in required:
        if key not in item:
            raise _InvalidError(_join(where, key), "is required")
    return item


def _str(m: Mapping[str, Any], key: str, where: str, *, empty: bool = False) -> str:
    value = m.get(key)
    if not isinstance(value, str) or not (value or empty):
        raise _InvalidError(
            _join(where, key), "must be a string" if empty else "must be a non-empty string"
        )
    return value


def _valid_time(m: Mapping[str, Any], where: str) -> None:
    if "password_valid_time" not in m:
        return
    value = _str(m, "password_valid_time", where, empty=True)
    if value and rules.parse_valid_time(value) is None:
        raise _InvalidError(
            _join(where, "password_valid_time"), "must be YYYY-MM-DDThh:mm:ssZ or empty"
        )


def _bool(m: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> None:
    if optional and key not in m:
        return
    if not isinstance(m.get(key), bool):
        raise _InvalidError(_join(where, key), "must be true or false")


def _choice(
    m: Mapping[str, Any],
    key: str,
    where: str,
    choices: Sequence[str],
    *,
    optional: bool = False,
) -> None:
    if optional and key not in m:
        return
    if m.get(key) not in choices:
        raise _InvalidError(_join(where, key), f"must be one of {', '.join(choices)}")


__all__ = ["STATE_FORMAT", "StateError", "check_state", "load_state", "save_state"]
