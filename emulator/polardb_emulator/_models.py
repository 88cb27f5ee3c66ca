"""Domain model: clusters, accounts and asynchronous tasks. No HTTP here.

The rules are those of the real service (see docs/emulator.md for the choices
the emulator had to make where the documentation is silent):

* writes need a ``Running`` cluster and a free slot in the cluster's task
  quota; each write is a task lasting ``task_seconds`` during which the
  account shows a transitional ``AccountStatus``;
* ResetAccount works only on MySQL clusters and only on the Super account;
* a MySQL cluster has at most one Super account.

The model is the control plane: it keeps what the API shows. Every change a
database would see (an account, its password, its grants) goes through the
cluster's :class:`~._backend.AccountBackend`. A backend either applies a
write when the request is accepted (in memory) or when its task ends (a real
server, like the service).

The model is synchronous and not thread-safe: the emulator calls it from one
thread at a time (a worker thread when the backend blocks).
"""

from __future__ import annotations

import copy
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from . import _policy
from ._backend import (
    AccountBackend,
    BackendError,
    Databases,
    InMemoryAccountBackend,
    InMemoryDatabases,
    SeedUser,
)
from ._exceptions import ApiError, api_error
from ._seed import Seed, SeedCluster, Settings
from ._state import StateError

log = logging.getLogger("polardb_emulator")

Clock = Callable[[], float]

#: AccountStatus while a CreateAccount, ResetAccount or ModifyAccountPassword
#: task runs. The documented values are Creating / Available / Deleting only,
#: so the emulator reuses "Creating" rather than inventing a value clients
#: would not know.
TRANSITIONAL_STATUS = "Creating"
DELETING_STATUS = "Deleting"
AVAILABLE_STATUS = "Available"


@dataclass
class Account:
    """One database account as the control plane (the API) sees it. No password material."""

    name: str
    type: str
    lock_state: str = "UnLock"
    description: str = ""
    status: str = AVAILABLE_STATUS
    database_privileges: list[dict[str, str]] = field(default_factory=list)
    password_valid_time: str = ""


@dataclass
class Cluster:
    """A PolarDB cluster: its attributes, its accounts (API view) and its database."""

    id: str
    region: str
    db_type: str
    status: str
    db_version: str
    description: str
    created: str
    accounts: dict[str, Account]
    database: AccountBackend

    def attributes(self) -> dict[str, Any]:
        """The cluster's own fields, without its accounts and database."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("accounts", "database")
        }


@dataclass(frozen=True)
class Prehashed:
    """A password's credential computed ahead (off the model's thread) for a ``db_type``
    cluster; the model uses it only for a cluster of that engine."""

    db_type: str
    credential: str = field(repr=False)


@dataclass
class Task:
    """An asynchronous write in flight on a cluster."""

    id: int
    cluster_id: str
    account_name: str
    action: str
    ends_at: float
    # What happens at the end: "available" (status back) or "delete".
    outcome: str
    # The backend's one-way form of the new password (never plaintext), for a
    # backend that applies writes when the task ends.
    credential: str | None = field(default=None, repr=False)


class Model:
    """All clusters, accounts and tasks of one emulator, with the service's rules.

    ``databases`` is the account-backend fleet (default: in memory).
    ``state`` is a :meth:`dump_state` snapshot to start from instead of the
    seed (the databases then reuse their saved data).
    """

    def __init__(
        self,
        seed: Seed,
        *,
        clock: Clock = time.time,
        task_seconds: float | None = None,
        databases: Databases | None = None,
        state: dict[str, Any] | None = None,
    ) -> None:
        self.clock = clock
        self.databases: Databases = databases if databases is not None else InMemoryDatabases()
        self.settings = Settings(
            task_seconds if task_seconds is not None else seed.settings.task_seconds,
            seed.settings.concurrent_tasks_per_cluster,
            self.databases.name,
            seed.settings.account_id,
        )
        self._seed = seed
        self._seed_snapshot = [_cluster_snapshot(c, self._now_iso()) for c in seed.clusters]
        # Seed passwords in each backend's one-way form, made once so that
        # resetting between tests stays cheap.
        self._seed_users: dict[str, list[SeedUser]] = {}
        self.clusters: dict[str, Cluster] = {}
        self.tasks: list[Task] = []
        self.held = False
        self._task_ids: Iterator[int] = itertools.count(1)
        self._client_tokens: dict[str, str] = {}
        if state is None:
            self._start_from_seed()
        else:
            self._start_from_state(state)

    # --- lifecycle -------------------------------------------------------

    def _start_from_seed(self) -> None:
        backends = self.databases.open(
            [(c.id, c.db_type) for c in self._seed.clusters], existing=False
        )
        self.clusters = {
            snap["id"]: _cluster_from(snap, backends[snap["id"]])
            for snap in copy.deepcopy(self._seed_snapshot)
        }
        self._load_seed_users(self.clusters.values())

    def _start_from_state(self, state: dict[str, Any]) -> None:
        saved_backend = state.get("backend", "memory")
        if saved_backend != self.databases.name:
            raise StateError(
                f"the state file was written with --backend {saved_backend}; start with it "
                "again, or remove the state file to start from the seed"
            )
        clusters = [_upgrade_cluster(c) for c in state["clusters"]]
        backends = self.databases.open([(c["id"], c["db_type"]) for c in clusters], existing=True)
        self.clusters = {}
        for c in clusters:
            self.databases.restore(c["id"], c.get("database"))
            self.clusters[c["id"]] = _cluster_from(c, backends[c["id"]])
        self.tasks = [Task(**t) for t in state.get("tasks", [])]
        self.held = bool(state.get("tasks_held", False))
        start = max((t.id for t in self.tasks), default=0) + 1
        self._task_ids = itertools.count(start)
        self.tick()

    def _seed_users_of(self, cluster: Cluster) -> list[SeedUser]:
        users = self._seed_users.get(cluster.id)
        if users is None:
            seed_cluster = next(c for c in self._seed.clusters if c.id == cluster.id)
            users = [
                SeedUser(a.name, a.type, cluster.database.credential(a.password))
                for a in seed_cluster.accounts
            ]
            self._seed_users[cluster.id] = users
        return users

    def _load_seed_users(self, clusters: Iterable[Cluster]) -> None:
        jobs = [(c, self._seed_users_of(c)) for c in clusters]

        def load(job: tuple[Cluster, list[SeedUser]]) -> None:
            job[0].database.load_accounts(job[1])

        if self.databases.blocking and len(jobs) > 1:
            # One server per cluster: load them side by side.
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(load, jobs))
        else:
            for job in jobs:
                load(job)

    def reset(self) -> None:
        """Back to the seed: clusters, accounts (in the databases too), no tasks."""
        engines = {c.id: c.db_type for c in self._seed.clusters}
        # A cluster the seed does not have (or has with another engine) goes; a seed
        # cluster missing from the model (a state file of another seed) gets a new backend.
        for cluster_id, cluster in list(self.clusters.items()):
            if engines.get(cluster_id) != cluster.db_type:
                self.databases.discard(cluster_id)
                del self.clusters[cluster_id]
        missing = [(cid, engine) for cid, engine in engines.items() if cid not in self.clusters]
        opened = self.databases.open(missing, existing=False) if missing else {}
        backends = {
            cid: opened[cid] if cid in opened else self.clusters[cid].database for cid in engines
        }
        self.clusters = {
            snap["id"]: _cluster_from(snap, backends[snap["id"]])
            for snap in copy.deepcopy(self._seed_snapshot)
        }
        self.tasks = []
        self.held = False
        self._task_ids = itertools.count(1)
        self._client_tokens = {}
        self._load_seed_users(self.clusters.values())

    def close(self) -> None:
        """Stop the databases (every server the fleet started)."""
        self.databases.close()

    def dump_state(self) -> dict[str, Any]:
        """Everything needed to restore this model (hashes, never plaintext)."""
        return {
            "backend": self.databases.name,
            "clusters": [
                {
                    **c.attributes(),
                    "accounts": [asdict(a) for a in c.accounts.values()],
                    "database": c.database.dump(),
                }
                for c in self.clusters.values()
            ],
            "tasks": [asdict(t) for t in self.tasks],
            "tasks_held": self.held,
        }

    # --- tasks -------------------------------------------------------------

    def due_tasks(self) -> list[Task]:
        """Tasks whose time is up (none while tasks are held)."""
        if self.held:
            return []
        now = self.clock()
        return [t for t in self.tasks if t.ends_at <= now]

    def tick(self, *, everything: bool = False) -> bool:
        """Finish due tasks (``everything``: all in flight); return whether any finished."""
        done = list(self.tasks) if everything else self.due_tasks()
        for task in done:
            self.tasks.remove(task)
            self._finish(task)
        return bool(done)

    def hold_tasks(self) -> None:
        """From now on no task finishes until :meth:`release_tasks`."""
        self.held = True

    def release_tasks(self) -> int:
        """Stop holding and finish every task in flight now; return how many finished."""
        self.held = False
        count = len(self.tasks)
        self.tick(everything=True)
        return count

    def _finish(self, task: Task) -> None:
        cluster = self.clusters.get(task.cluster_id)
        account = cluster.accounts.get(task.account_name) if cluster else None
        if cluster is None or account is None:
            return
        if task.outcome == "delete":
            self._apply(cluster, account, task.action, None)
            del cluster.accounts[account.name]
            return
        if cluster.database.applies_when_task_ends:
            self._apply(cluster, account, task.action, task.credential)
        # Only now does the API say Available: whoever waits for it sees the change.
        account.status = AVAILABLE_STATUS

    def _apply(
        self, cluster: Cluster, account: Account, action: str, credential: str | None
    ) -> None:
        """Make a write real in the cluster's database."""
        db = cluster.database
        try:
            if action == "CreateAccount":
                assert credential is not None
                db.create_account(
                    account.name, account.type, credential, account.database_privileges
                )
            elif action == "ResetAccount":
                db.restore_privileges(account.name, credential)
            elif action == "ModifyAccountPassword":
                assert credential is not None
                db.set_password(account.name, credential)
            elif action == "DeleteAccount":
                db.drop_account(account.name)
        except BackendError as exc:
            # The API already answered; like a failed task, this shows only in the database.
            log.warning(
                "%s of %s on %s did not take effect in the database: %s",
                action,
                account.name,
                cluster.id,
                exc,
            )

    def _write(
        self, cluster: Cluster, account: Account, task: Task, credential: str | None
    ) -> None:
        """Apply a write at once, or keep it with its task for the task's end."""
        if cluster.database.applies_when_task_ends:
            task.credential = credential
        else:
            self._apply(cluster, account, task.action, credential)

    # --- lookups -----------------------------------------------------------

    def cluster(self, cluster_id: str, *, malformed_status: int | None = None) -> Cluster:
        """The cluster ``cluster_id`` or the service's not-found / malformed error."""
        if not _policy.is_cluster_id(cluster_id):
            raise api_error("InvalidDBClusterId.Malformed", status=malformed_status)
        cluster = self.clusters.get(cluster_id)
        if cluster is None:
            raise api_error("InvalidDBCluster.NotFound")
        if cluster.status == "Deleted":
            # A released cluster: the ID is known but no longer usable.
            raise api_error("InvalidDBClusterId.NotFound")
        return cluster

    def visible_clusters(self) -> list[Cluster]:
        """Clusters that DescribeDBClusters lists (released ones are hidden)."""
        return [c for c in self.clusters.values() if c.status != "Deleted"]

    def tasks_on(self, cluster_id: str) -> list[Task]:
        """Tasks in flight on a cluster."""
        return [t for t in self.tasks if t.cluster_id == cluster_id]

    # --- actions -----------------------------------------------------------

    def reset_account(
        self,
        cluster_id: str,
        name: str,
        password: str | None,
        prehashed: Prehashed | None = None,
    ) -> None:
        """ResetAccount: restore the Super account's privileges, optionally set its password."""
        _check_name_shape(name)
        if password is not None:
            _check_password(password)
        cluster = self.cluster(cluster_id)
        if cluster.db_type != "MySQL":
            raise api_error(
                "OperationDenied.DBType",
                f"The operation is not permitted due to type of cluster {cluster.id} "
                f"({cluster.db_type}). Only PolarDB for MySQL clusters support this operation.",
            )
        self._require_running(cluster)
        account = self._account(cluster, name)
        if account.type != "Super":
            raise api_error(
                "InvalidAccountName.Malformed",
                f"The specified parameter AccountName is not valid: {name} is a "
                f"{account.type} account; only the privileged (Super) account can be reset.",
            )
        task = self._start_task(cluster, account, "ResetAccount", quota_status=None)
        credential = self._credential(cluster, password, prehashed) if password else None
        self._write(cluster, account, task, credential)
        account.status = TRANSITIONAL_STATUS

    def create_account(
        self,
        cluster_id: str,
        name: str,
        password: str,
        account_type: str | None,
        description: str = "",
        db_name: str | None = None,
        privilege: str | None = None,
        client_token: str | None = None,
        request_id: str = "",
        prehashed: Prehashed | None = None,
    ) -> str | None:
        """CreateAccount; returns the earlier request ID when ``client_token`` repeats."""
        token_key = f"{cluster_id}/{client_token}" if client_token else None
        if token_key and token_key in self._client_tokens:
            return self._client_tokens[token_key]
        problem = _policy.account_name_problem(name)
        if problem:
            raise api_error(
                "InvalidAccountName.Malformed",
                f"The specified parameter AccountName is not valid: {problem}.",
            )
        _check_password(password)
        kind = account_type or "Super"  # omitted means Super (API reference)
        if kind not in _policy.WRITABLE_ACCOUNT_TYPES:
            raise api_error(
                "InvalidAccountType.Malformed",
                "The specified parameter AccountType is not valid: it must be Normal or Super.",
            )
        if privilege is not None and privilege not in _policy.ACCOUNT_PRIVILEGES:
            raise api_error(
                "InvalidParameter",
                "The specified parameter AccountPrivilege is not valid: it must be one of "
                + ", ".join(_policy.ACCOUNT_PRIVILEGES)
                + ".",
            )
        cluster = self.cluster(cluster_id)
        self._require_running(cluster)
        if name in cluster.accounts:
            raise api_error("InvalidAccountName.Duplicate", f"The account {name} already exists.")
        if kind == "Super" and cluster.db_type == "MySQL":
            existing = [a.name for a in cluster.accounts.values() if a.type == "Super"]
            if existing:
                raise api_error(
                    "InvalidAccountType.Malformed",
                    "The specified parameter AccountType is not valid: a PolarDB for MySQL "
                    f"cluster has at most one privileged account and {existing[0]} exists.",
                )
        privileges = []
        if db_name and kind == "Normal":
            privileges.append({"DBName": db_name, "AccountPrivilege": privilege or "ReadWrite"})
        account = Account(
            name=name,
            type=kind,
            description=description,
            status=TRANSITIONAL_STATUS,
            database_privileges=privileges,
        )
        task = self._start_task(cluster, account, "CreateAccount", quota_status=None)
        cluster.accounts[name] = account
        self._write(cluster, account, task, self._credential(cluster, password, prehashed))
        if token_key:
            self._client_tokens[token_key] = request_id
        return None

    def delete_account(self, cluster_id: str, name: str) -> None:
        """DeleteAccount: the account shows Deleting, then disappears (from the database too)."""
        _check_name_shape(name)
        cluster = self.cluster(cluster_id)
        self._require_running(cluster)
        account = self._account(cluster, name)
        # The reference documents ConcurrentTaskExceeded as 400 for DeleteAccount.
        self._start_task(cluster, account, "DeleteAccount", quota_status=400, outcome="delete")
        account.status = DELETING_STATUS

    def modify_account_password(
        self, cluster_id: str, name: str, password: str, prehashed: Prehashed | None = None
    ) -> None:
        """ModifyAccountPassword for any account type."""
        _check_name_shape(name)
        _check_password(password, parameter="NewAccountPassword")
        cluster = self.cluster(cluster_id)
        self._require_running(cluster)
        account = self._account(cluster, name)
        task = self._start_task(cluster, account, "ModifyAccountPassword", quota_status=None)
        self._write(cluster, account, task, self._credential(cluster, password, prehashed))
        account.status = TRANSITIONAL_STATUS

    # --- out-of-band changes (admin API) ----------------------------------

    def verify_password(self, cluster_id: str, name: str, password: str) -> bool:
        """Whether ``password`` is the current password of the account (in its database)."""
        return self.cluster(cluster_id).database.verify_password(name, password)

    def patch_account(self, cluster_id: str, name: str, changes: dict[str, Any]) -> Account:
        """Change an account behind the API's back (drift tests)."""
        cluster = self.cluster(cluster_id)
        account = self._account(cluster, name)
        if "type" in changes:
            _require_choice("type", changes["type"], _policy.ACCOUNT_TYPES)
        if "lock_state" in changes:
            _require_choice("lock_state", changes["lock_state"], _policy.LOCK_STATES)
        if "status" in changes:
            _require_choice(
                "status",
                changes["status"],
                (AVAILABLE_STATUS, TRANSITIONAL_STATUS, DELETING_STATUS),
            )
        if "privileges_revoked" in changes:
            if not isinstance(cluster.database, InMemoryAccountBackend):
                raise ValueError(
                    "privileges_revoked exists only with the memory backend: this cluster's "
                    "grants are in its MariaDB server; change them with SQL (admin login: "
                    f"GET /_emulator/clusters/{cluster.id}/sql)"
                )
            if not isinstance(changes["privileges_revoked"], bool):
                raise ValueError("privileges_revoked must be true or false")
        if "description" in changes and not isinstance(changes["description"], str):
            raise ValueError("description must be a string")
        if "password" in changes and (
            not isinstance(changes["password"], str) or not changes["password"]
        ):
            raise ValueError("password must be a non-empty string")
        # Everything is valid: apply.
        for key in ("type", "lock_state", "status", "description"):
            if key in changes:
                setattr(account, key, changes[key])
        if "privileges_revoked" in changes:
            assert isinstance(cluster.database, InMemoryAccountBackend)
            cluster.database.set_privileges_revoked(name, changes["privileges_revoked"])
        if "password" in changes:
            # Out of band: no policy check, any password the DBA set by hand.
            db = cluster.database
            db.set_password(name, db.credential(changes["password"]))
        return account

    def delete_account_now(self, cluster_id: str, name: str) -> None:
        """Remove an account immediately (out of band), from its database too."""
        cluster = self.cluster(cluster_id)
        self._account(cluster, name)
        cluster.database.drop_account(name)
        del cluster.accounts[name]

    def patch_cluster(self, cluster_id: str, changes: dict[str, Any]) -> Cluster:
        """Change a cluster's status (and/or description) out of band."""
        cluster = self.clusters.get(cluster_id)
        if cluster is None:
            raise api_error("InvalidDBCluster.NotFound")
        if "status" in changes:
            _require_choice("status", changes["status"], _policy.CLUSTER_STATUSES)
        if "description" in changes and not isinstance(changes["description"], str):
            raise ValueError("description must be a string")
        for key in ("status", "description"):
            if key in changes:
                setattr(cluster, key, changes[key])
        return cluster

    def add_cluster(
        self, seed_cluster: SeedCluster, credentials: Mapping[str, str] | None = None
    ) -> Cluster:
        """Add a cluster declared in seed format (starting its database).

        ``credentials``: each account's credential, computed ahead with
        ``databases.credential`` (else computed here).
        """
        if seed_cluster.id in self.clusters:
            raise ValueError(f"cluster {seed_cluster.id} already exists")
        backend = self.databases.open([(seed_cluster.id, seed_cluster.db_type)], existing=False)
        db = backend[seed_cluster.id]
        snapshot = _cluster_snapshot(seed_cluster, self._now_iso())
        cluster = _cluster_from(snapshot, db)
        try:
            ahead = credentials or {}
            db.load_accounts(
                [
                    SeedUser(a.name, a.type, ahead.get(a.name) or db.credential(a.password))
                    for a in seed_cluster.accounts
                ]
            )
        except BaseException:
            self.databases.discard(seed_cluster.id)
            raise
        self.clusters[cluster.id] = cluster
        return cluster

    def sql_login(self, cluster_id: str) -> dict[str, Any]:
        """The administrative SQL login of the cluster's server."""
        cluster = self.clusters.get(cluster_id)
        if cluster is None:
            raise api_error("InvalidDBCluster.NotFound")
        login = cluster.database.admin_login()
        if login is None:
            raise ValueError(
                f"cluster {cluster_id} has no SQL server: "
                + (
                    "only MySQL clusters get one"
                    if cluster.db_type != "MySQL"
                    else "start the emulator with --backend mariadb"
                )
            )
        return login

    # --- helpers -----------------------------------------------------------

    @staticmethod
    def _credential(cluster: Cluster, password: str, prehashed: Prehashed | None) -> str:
        if prehashed is not None and prehashed.db_type == cluster.db_type:
            return prehashed.credential
        return cluster.database.credential(password)

    def _now_iso(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @staticmethod
    def _account(cluster: Cluster, name: str) -> Account:
        account = cluster.accounts.get(name)
        if account is None:
            raise api_error(
                "InvalidAccountName.NotFound",
                f"The specified account {name} does not exist in cluster {cluster.id}.",
            )
        return account

    @staticmethod
    def _require_running(cluster: Cluster) -> None:
        if cluster.status != "Running":
            raise api_error(
                "OperationDenied.DBClusterStatus",
                f"The operation is not permitted due to status of cluster {cluster.id} "
                f"({cluster.status}); it must be Running.",
            )

    @staticmethod
    def _require_available(account: Account) -> None:
        if account.status != AVAILABLE_STATUS:
            raise api_error(
                "OperationDenied.AccountStatus",
                f"The operation is not permitted due to status of account {account.name} "
                f"({account.status}).",
            )

    def _start_task(
        self,
        cluster: Cluster,
        account: Account,
        action: str,
        *,
        quota_status: int | None,
        outcome: str = "available",
    ) -> Task:
        if len(self.tasks_on(cluster.id)) >= self.settings.concurrent_tasks_per_cluster:
            raise api_error("ConcurrentTaskExceeded", status=quota_status)
        if action != "CreateAccount":
            # With a quota above 1, the account itself may still be busy.
            self._require_available(account)
        task = Task(
            id=next(self._task_ids),
            cluster_id=cluster.id,
            account_name=account.name,
            action=action,
            ends_at=self.clock() + self.settings.task_seconds,
            outcome=outcome,
        )
        self.tasks.append(task)
        return task


def _cluster_snapshot(c: SeedCluster, created: str) -> dict[str, Any]:
    return {
        "id": c.id,
        "region": c.region,
        "db_type": c.db_type,
        "status": c.status,
        "db_version": c.db_version,
        "description": c.description,
        "created": created,
        "accounts": [
            asdict(
                Account(
                    name=a.name, type=a.type, lock_state=a.lock_state, description=a.description
                )
            )
            for a in c.accounts
        ],
    }


def _cluster_from(snapshot: dict[str, Any], database: AccountBackend) -> Cluster:
    attributes = {k: v for k, v in snapshot.items() if k not in ("accounts", "database")}
    accounts = {a["name"]: Account(**a) for a in snapshot["accounts"]}
    return Cluster(**attributes, accounts=accounts, database=database)


def _upgrade_cluster(saved: dict[str, Any]) -> dict[str, Any]:
    """A cluster of a format-1 state file (hashes inside the accounts) in today's shape."""
    if "database" in saved:
        return saved
    users = {}
    accounts = []
    for a in saved["accounts"]:
        a = dict(a)
        users[a["name"]] = {
            "password_hash": a.pop("password_hash", ""),
            "privileges_revoked": a.pop("privileges_revoked", False),
        }
        accounts.append(a)
    return {**saved, "accounts": accounts, "database": {"users": users}}


def _check_name_shape(name: str) -> None:
    # Existing accounts are addressed by name: only the shape is checked here
    # (reserved names simply do not exist).
    if not _policy.ACCOUNT_NAME_RE.fullmatch(name):
        raise api_error("InvalidAccountName.Malformed")


def _check_password(password: str, parameter: str = "AccountPassword") -> None:
    problem = _policy.password_problem(password)
    if problem:
        # Never echo the value, only the rule it breaks.
        raise api_error(
            "InvalidAccountPassword.Malformed",
            f"The specified parameter {parameter} is not valid: {problem}.",
        )


def _require_choice(key: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{key} must be one of {', '.join(choices)}")


__all__ = [
    "TRANSITIONAL_STATUS",
    "Account",
    "AccountBackend",
    "ApiError",
    "Cluster",
    "InMemoryAccountBackend",
    "Model",
    "Prehashed",
    "Task",
]
