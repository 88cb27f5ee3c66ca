"""The account-backend interface: where a cluster's accounts really live.

The model (control plane) keeps what the API shows: names, types, statuses,
lock states, descriptions. Whatever a database would hold — that an account
exists, its password, its grants — goes through :class:`AccountBackend`, one
per cluster, created by a :class:`Databases` fleet:

* ``memory`` (:class:`InMemoryDatabases`, the default): salted PBKDF2 hashes
  and a ``privileges_revoked`` flag in a dict; fast, no server;
* ``mariadb`` (:mod:`._mariadb`): one real ``mariadbd`` per MySQL cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from .passwords import hash_password, verify_password

#: The privileged (Super) account's privileges on ``*.*`` (Alibaba Cloud,
#: "Account permissions", PolarDB for MySQL); ResetAccount re-grants them
#: with GRANT OPTION.
SUPER_PRIVILEGES: tuple[str, ...] = (
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "RELOAD",
    "PROCESS",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "LOCK TABLES",
    "EXECUTE",
    "TRIGGER",
    "CREATE TEMPORARY TABLES",
    "REPLICATION SLAVE",
    "REPLICATION CLIENT",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "CREATE USER",
    "EVENT",
)

#: Global privileges every standard-account permission type includes, on ``*.*``.
STANDARD_GLOBAL_PRIVILEGES: tuple[str, ...] = ("PROCESS", "REPLICATION SLAVE", "REPLICATION CLIENT")

#: A standard account's privileges on ``db.*`` per AccountPrivilege (same page).
STANDARD_DB_PRIVILEGES: Mapping[str, tuple[str, ...]] = {
    "ReadWrite": (
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "CREATE",
        "EXECUTE",
        "DROP",
        "REFERENCES",
        "INDEX",
        "ALTER",
        "CREATE TEMPORARY TABLES",
        "EVENT",
        "CREATE VIEW",
        "SHOW VIEW",
        "CREATE ROUTINE",
        "ALTER ROUTINE",
        "LOCK TABLES",
        "TRIGGER",
    ),
    "ReadOnly": ("SELECT", "LOCK TABLES", "SHOW VIEW"),
    "DMLOnly": (
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "LOCK TABLES",
        "CREATE TEMPORARY TABLES",
        "EXECUTE",
        "TRIGGER",
        "EVENT",
        "SHOW VIEW",
    ),
    "DDLOnly": (
        "CREATE",
        "DROP",
        "INDEX",
        "ALTER",
        "CREATE TEMPORARY TABLES",
        "CREATE VIEW",
        "SHOW VIEW",
        "CREATE ROUTINE",
        "ALTER ROUTINE",
        "LOCK TABLES",
    ),
    "ReadIndex": ("SELECT", "INDEX", "LOCK TABLES", "SHOW VIEW"),
}


class BackendError(Exception):
    """The database refused or could not do a change (the message holds no secret)."""


class StartupFailedError(Exception):
    """A fleet could not start its databases (everything it started is stopped)."""


@dataclass(frozen=True)
class SeedUser:
    """An account to create when a database is (re)loaded from the seed."""

    name: str
    type: str
    credential: str = field(repr=False)
    grants: tuple[Mapping[str, str], ...] = ()


class AccountBackend(Protocol):
    """One cluster's database: accounts, passwords and grants.

    ``credential`` turns a plaintext password into the backend's one-way
    form at once, so that the model never keeps plaintext, not even for a
    task in flight. Methods may block (a real server); the emulator calls
    them off its event loop when the fleet says so.
    """

    #: Whether writes take effect when their task ends (a real server) or at
    #: once when the request is accepted (the in-memory backend).
    applies_when_task_ends: ClassVar[bool]

    def credential(self, password: str) -> str:
        """The one-way form of ``password`` this backend can set later."""
        ...

    def create_account(
        self, name: str, account_type: str, credential: str, grants: Sequence[Mapping[str, str]]
    ) -> None:
        """Create the account (Super: the documented set with GRANT OPTION; Normal: ``grants``)."""
        ...

    def drop_account(self, name: str) -> None:
        """Remove the account (no error when it is already gone)."""
        ...

    def set_password(self, name: str, credential: str) -> None:
        """Set the account's password."""
        ...

    def restore_privileges(self, name: str, credential: str | None) -> None:
        """ResetAccount: re-grant the documented set with GRANT OPTION (and the password)."""
        ...

    def verify_password(self, name: str, password: str) -> bool:
        """Whether ``password`` is the account's current password (locked or expired
        as it may be)."""
        ...

    def set_account_locked(self, name: str, locked: bool) -> None:
        """Lock the account (logins refused) or unlock it."""
        ...

    def set_password_expired(self, name: str, expired: bool) -> None:
        """Expire the account's password (a login may only change it) or renew it as is."""
        ...

    def privileges_flag_problem(self) -> str | None:
        """Why this backend has no ``privileges_revoked`` flag (None: it has one)."""
        ...

    def set_privileges_revoked(self, name: str, revoked: bool) -> None:
        """Out of band (admin API): mark the account's privileges revoked or restored.

        Only for a backend whose :meth:`privileges_flag_problem` is None.
        """
        ...

    def load_accounts(self, users: Sequence[SeedUser]) -> None:
        """Replace every account (and user database) with ``users``: back to the seed."""
        ...

    def dump(self) -> dict[str, Any] | None:
        """What the state file must keep for this backend (None: it keeps its own)."""
        ...

    def describe(self, name: str) -> dict[str, Any]:
        """Extra admin-state fields of an account (never password material)."""
        ...

    def endpoint(self) -> tuple[str, int] | None:
        """Loopback address of the cluster's SQL server, if it has one."""
        ...

    def admin_login(self) -> dict[str, Any] | None:
        """An administrative SQL login ``{host, port, user, password}``, if any."""
        ...


class Databases(Protocol):
    """A fleet of account backends, one per cluster."""

    #: ``memory`` or ``mariadb`` (recorded in the state file).
    name: str
    #: Whether backend calls block (and must run off the event loop).
    blocking: bool

    def open(
        self, clusters: Sequence[tuple[str, str]], *, existing: bool
    ) -> dict[str, AccountBackend]:
        """Backends for ``(cluster_id, db_type)`` pairs; ``existing``: reuse saved data."""
        ...

    def credential(self, db_type: str, password: str) -> str:
        """What :meth:`AccountBackend.credential` of a ``db_type`` cluster's backend gives.

        Pure and thread-safe: the emulator hashes passwords with it in a thread
        pool, before the model (one thread) needs them.
        """
        ...

    def restore(self, cluster_id: str, data: dict[str, Any] | None) -> None:
        """Give a backend back what :meth:`AccountBackend.dump` saved."""
        ...

    def discard(self, cluster_id: str) -> None:
        """Stop and forget one cluster's backend (a cluster the seed does not have)."""
        ...

    def close(self) -> None:
        """Stop everything this fleet started."""
        ...


@dataclass
class _MemoryUser:
    password_hash: str = field(repr=False)
    privileges_revoked: bool = False


class InMemoryAccountBackend:
    """The default :class:`AccountBackend`: accounts in a dict, passwords as PBKDF2 hashes.

    A Super account's privileges are one flag, ``privileges_revoked`` (set out
    of band through the admin API, cleared by ResetAccount).
    """

    applies_when_task_ends: ClassVar[bool] = False

    def __init__(self) -> None:
        self._users: dict[str, _MemoryUser] = {}

    def credential(self, password: str) -> str:
        """A salted PBKDF2 hash of ``password``."""
        return hash_password(password)

    def create_account(
        self, name: str, account_type: str, credential: str, grants: Sequence[Mapping[str, str]]
    ) -> None:
        """Store the account with its hash."""
        self._users[name] = _MemoryUser(credential)

    def drop_account(self, name: str) -> None:
        """Forget the account."""
        self._users.pop(name, None)

    def set_password(self, name: str, credential: str) -> None:
        """Store the new hash."""
        user = self._users.get(name)
        if user is None:
            raise BackendError(f"account {name} does not exist in the database")
        user.password_hash = credential

    def restore_privileges(self, name: str, credential: str | None) -> None:
        """Clear the revoked flag (re-creating a vanished account when a password is given)."""
        user = self._users.get(name)
        if user is None:
            if credential is None:
                raise BackendError(f"account {name} does not exist in the database")
            self._users[name] = user = _MemoryUser(credential)
        user.privileges_revoked = False
        if credential is not None:
            user.password_hash = credential

    def set_account_locked(self, name: str, locked: bool) -> None:
        """Nothing to keep: without a server there are no logins to refuse (the lock
        state is the control plane's)."""
        self._user(name)

    def set_password_expired(self, name: str, expired: bool) -> None:
        """Nothing to keep, as for :meth:`set_account_locked`."""
        self._user(name)

    def _user(self, name: str) -> _MemoryUser:
        user = self._users.get(name)
        if user is None:
            raise BackendError(f"account {name} does not exist in the database")
        return user

    def privileges_flag_problem(self) -> str | None:
        """None: the flag is how this backend keeps a Super account's grants."""
        return None

    def set_privileges_revoked(self, name: str, revoked: bool) -> None:
        """Out of band: mark the account's privileges revoked (or not)."""
        user = self._users.get(name)
        if user is None:
            raise BackendError(f"account {name} does not exist in the database")
        user.privileges_revoked = revoked

    def verify_password(self, name: str, password: str) -> bool:
        """Check ``password`` against the stored hash."""
        user = self._users.get(name)
        return user is not None and verify_password(password, user.password_hash)

    def load_accounts(self, users: Sequence[SeedUser]) -> None:
        """Exactly ``users``, with their hashes."""
        self._users = {u.name: _MemoryUser(u.credential) for u in users}

    def dump(self) -> dict[str, Any] | None:
        """Hashes and flags (the state file keeps them)."""
        return {
            "users": {
                name: {"password_hash": u.password_hash, "privileges_revoked": u.privileges_revoked}
                for name, u in self._users.items()
            }
        }

    def load(self, data: Mapping[str, Any]) -> None:
        """Restore what :meth:`dump` returned."""
        self._users = {
            name: _MemoryUser(u["password_hash"], bool(u.get("privileges_revoked", False)))
            for name, u in data.get("users", {}).items()
        }

    def describe(self, name: str) -> dict[str, Any]:
        """``privileges_revoked`` (the in-memory stand-in for the grants)."""
        user = self._users.get(name)
        return {"privileges_revoked": user.privileges_revoked if user else False}

    def endpoint(self) -> tuple[str, int] | None:
        """None: there is no SQL server."""
        return None

    def admin_login(self) -> dict[str, Any] | None:
        """None: there is no SQL server."""
        return None


class InMemoryDatabases:
    """The ``memory`` fleet: an :class:`InMemoryAccountBackend` per cluster."""

    name = "memory"
    blocking = False

    def __init__(self) -> None:
        self.backends: dict[str, InMemoryAccountBackend] = {}

    def credential(self, db_type: str, password: str) -> str:
        """A salted PBKDF2 hash, whatever the engine."""
        return hash_password(password)

    def open(
        self, clusters: Sequence[tuple[str, str]], *, existing: bool
    ) -> dict[str, AccountBackend]:
        """A fresh in-memory backend per cluster."""
        opened: dict[str, AccountBackend] = {}
        for cluster_id, _db_type in clusters:
            backend = InMemoryAccountBackend()
            self.backends[cluster_id] = backend
            opened[cluster_id] = backend
        return opened

    def restore(self, cluster_id: str, data: dict[str, Any] | None) -> None:
        """Load the saved users into the cluster's backend."""
        if data is not None:
            self.backends[cluster_id].load(data)

    def discard(self, cluster_id: str) -> None:
        """Forget the cluster's backend."""
        self.backends.pop(cluster_id, None)

    def close(self) -> None:
        """Nothing to stop."""
        self.backends.clear()
