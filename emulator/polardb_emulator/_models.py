"""Domain model: clusters, accounts and asynchronous tasks. No HTTP here.

The rules are those of the real service (see docs/emulator.md for the choices
the emulator had to make where the documentation is silent):

* writes need a ``Running`` cluster and a free slot in the cluster's task
  quota; each write is a task lasting ``task_seconds`` during which the
  account shows a transitional ``AccountStatus``;
* ResetAccount works only on MySQL clusters and only on the Super account;
* a MySQL cluster has at most one Super account.

Account storage sits behind :class:`AccountBackend` so that a later backend
can keep a cluster's accounts in a real MySQL server.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Protocol

from . import _policy
from ._exceptions import ApiError, api_error
from ._passwords import hash_password, verify_password
from ._seed import Seed, SeedCluster, Settings

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
    """One database account. ``password_hash`` is a salted PBKDF2 hash."""

    name: str
    type: str
    password_hash: str = field(repr=False)
    lock_state: str = "UnLock"
    description: str = ""
    status: str = AVAILABLE_STATUS
    # True when the Super account's grants were revoked (set out of band);
    # ResetAccount restores them.
    privileges_revoked: bool = False
    database_privileges: list[dict[str, str]] = field(default_factory=list)
    password_valid_time: str = ""


class AccountBackend(Protocol):
    """Where a cluster's accounts live (in memory now; a real MySQL server later)."""

    def list(self) -> list[Account]:
        """All accounts, in creation order."""
        ...

    def get(self, name: str) -> Account | None:
        """The account called ``name``, if any."""
        ...

    def create(self, account: Account, password: str | None) -> None:
        """Add ``account``; ``password`` is the plaintext to set (None: keep the hash)."""
        ...

    def delete(self, name: str) -> None:
        """Remove the account."""
        ...

    def set_password(self, name: str, password: str) -> None:
        """Set a new password (the backend decides how it is stored)."""
        ...

    def verify_password(self, name: str, password: str) -> bool:
        """Whether ``password`` is the account's current password."""
        ...

    def restore_privileges(self, name: str) -> None:
        """Give a Super account back its full privileges (what ResetAccount does)."""
        ...


class InMemoryAccountBackend:
    """The default :class:`AccountBackend`: accounts in a dict, passwords hashed."""

    def __init__(self, accounts: list[Account] | None = None) -> None:
        self._accounts: dict[str, Account] = {a.name: a for a in accounts or []}

    def list(self) -> list[Account]:
        """All accounts, in creation order."""
        return list(self._accounts.values())

    def get(self, name: str) -> Account | None:
        """The account called ``name``, if any."""
        return self._accounts.get(name)

    def create(self, account: Account, password: str | None) -> None:
        """Add ``account``, hashing ``password`` when given."""
        if password is not None:
            account.password_hash = hash_password(password)
        self._accounts[account.name] = account

    def delete(self, name: str) -> None:
        """Remove the account (no error if absent)."""
        self._accounts.pop(name, None)

    def set_password(self, name: str, password: str) -> None:
        """Store a fresh salted hash of ``password``."""
        self._accounts[name].password_hash = hash_password(password)

    def verify_password(self, name: str, password: str) -> bool:
        """Check ``password`` against the stored hash."""
        account = self._accounts.get(name)
        return account is not None and verify_password(password, account.password_hash)

    def restore_privileges(self, name: str) -> None:
        """Clear the revoked flag."""
        self._accounts[name].privileges_revoked = False


@dataclass
class Cluster:
    """A PolarDB cluster and its accounts."""

    id: str
    region: str
    db_type: str
    status: str
    db_version: str
    description: str
    created: str
    accounts: AccountBackend

    def attributes(self) -> dict[str, Any]:
        """The cluster's own fields, without its accounts."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "accounts"}


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


class Model:
    """All clusters, accounts and tasks of one emulator, with the service's rules."""

    def __init__(
        self,
        seed: Seed,
        *,
        clock: Clock = time.time,
        task_seconds: float | None = None,
    ) -> None:
        self.clock = clock
        self.settings = Settings(
            task_seconds if task_seconds is not None else seed.settings.task_seconds,
            seed.settings.concurrent_tasks_per_cluster,
        )
        # Hash the seed's passwords once; reset() reuses the hashed snapshot so
        # resetting between tests stays cheap.
        self._seed_snapshot = [_cluster_snapshot(c, self._now_iso()) for c in seed.clusters]
        self.clusters: dict[str, Cluster] = {}
        self.tasks: list[Task] = []
        self._task_ids: Iterator[int] = itertools.count(1)
        self._client_tokens: dict[str, str] = {}
        self.reset()

    # --- lifecycle -------------------------------------------------------

    def reset(self) -> None:
        """Back to the seed: clusters, accounts, no tasks."""
        self.load_state({"clusters": copy.deepcopy(self._seed_snapshot), "tasks": []})

    def dump_state(self) -> dict[str, Any]:
        """Everything needed to restore this model (hashes, never plaintext)."""
        return {
            "clusters": [
                {**c.attributes(), "accounts": [asdict(a) for a in c.accounts.list()]}
                for c in self.clusters.values()
            ],
            "tasks": [asdict(t) for t in self.tasks],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Replace the model's contents with a :meth:`dump_state` snapshot."""
        clusters = {}
        for c in state["clusters"]:
            accounts = InMemoryAccountBackend([Account(**a) for a in c["accounts"]])
            fields = {k: v for k, v in c.items() if k != "accounts"}
            clusters[c["id"]] = Cluster(**fields, accounts=accounts)
        self.clusters = clusters
        self.tasks = [Task(**t) for t in state.get("tasks", [])]
        start = max((t.id for t in self.tasks), default=0) + 1
        self._task_ids = itertools.count(start)
        self._client_tokens = {}
        self.tick()

    def tick(self) -> bool:
        """Finish the tasks whose time is up; return whether anything changed."""
        now = self.clock()
        done = [t for t in self.tasks if t.ends_at <= now]
        for task in done:
            self.tasks.remove(task)
            cluster = self.clusters.get(task.cluster_id)
            account = cluster.accounts.get(task.account_name) if cluster else None
            if cluster is None or account is None:
                continue
            if task.outcome == "delete":
                cluster.accounts.delete(account.name)
            else:
                account.status = AVAILABLE_STATUS
        return bool(done)

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

    def reset_account(self, cluster_id: str, name: str, password: str | None) -> None:
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
        self._start_task(cluster, account, "ResetAccount", quota_status=None)
        cluster.accounts.restore_privileges(name)
        if password is not None:
            cluster.accounts.set_password(name, password)
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
        if cluster.accounts.get(name) is not None:
            raise api_error("InvalidAccountName.Duplicate", f"The account {name} already exists.")
        if kind == "Super" and cluster.db_type == "MySQL":
            existing = [a.name for a in cluster.accounts.list() if a.type == "Super"]
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
            password_hash="",
            description=description,
            status=TRANSITIONAL_STATUS,
            database_privileges=privileges,
        )
        self._start_task(cluster, account, "CreateAccount", quota_status=None)
        cluster.accounts.create(account, password)
        if token_key:
            self._client_tokens[token_key] = request_id
        return None

    def delete_account(self, cluster_id: str, name: str) -> None:
        """DeleteAccount: the account shows Deleting, then disappears."""
        _check_name_shape(name)
        cluster = self.cluster(cluster_id)
        self._require_running(cluster)
        account = self._account(cluster, name)
        # The reference documents ConcurrentTaskExceeded as 400 for DeleteAccount.
        self._start_task(cluster, account, "DeleteAccount", quota_status=400, outcome="delete")
        account.status = DELETING_STATUS

    def modify_account_password(self, cluster_id: str, name: str, password: str) -> None:
        """ModifyAccountPassword for any account type."""
        _check_name_shape(name)
        _check_password(password, parameter="NewAccountPassword")
        cluster = self.cluster(cluster_id)
        self._require_running(cluster)
        account = self._account(cluster, name)
        self._start_task(cluster, account, "ModifyAccountPassword", quota_status=None)
        cluster.accounts.set_password(name, password)
        account.status = TRANSITIONAL_STATUS

    # --- out-of-band changes (admin API) ----------------------------------

    def verify_password(self, cluster_id: str, name: str, password: str) -> bool:
        """Whether ``password`` is the current password of the account."""
        return self.cluster(cluster_id).accounts.verify_password(name, password)

    def patch_account(self, cluster_id: str, name: str, changes: dict[str, Any]) -> Account:
        """Change an account behind the API's back (drift tests)."""
        cluster = self.cluster(cluster_id)
        account = self._account(cluster, name)
        if "type" in changes:
            _require_choice("type", changes["type"], _policy.ACCOUNT_TYPES)
            account.type = changes["type"]
        if "lock_state" in changes:
            _require_choice("lock_state", changes["lock_state"], _policy.LOCK_STATES)
            account.lock_state = changes["lock_state"]
        if "status" in changes:
            _require_choice(
                "status",
                changes["status"],
                (AVAILABLE_STATUS, TRANSITIONAL_STATUS, DELETING_STATUS),
            )
            account.status = changes["status"]
        if "privileges_revoked" in changes:
            if not isinstance(changes["privileges_revoked"], bool):
                raise ValueError("privileges_revoked must be true or false")
            account.privileges_revoked = changes["privileges_revoked"]
        if "description" in changes:
            if not isinstance(changes["description"], str):
                raise ValueError("description must be a string")
            account.description = changes["description"]
        if "password" in changes:
            if not isinstance(changes["password"], str) or not changes["password"]:
                raise ValueError("password must be a non-empty string")
            # Out of band: no policy check, any password the DBA set by hand.
            cluster.accounts.set_password(name, changes["password"])
        return account

    def delete_account_now(self, cluster_id: str, name: str) -> None:
        """Remove an account immediately (out of band)."""
        cluster = self.cluster(cluster_id)
        self._account(cluster, name)
        cluster.accounts.delete(name)

    def patch_cluster(self, cluster_id: str, changes: dict[str, Any]) -> Cluster:
        """Change a cluster's status (and/or description) out of band."""
        cluster = self.clusters.get(cluster_id)
        if cluster is None:
            raise api_error("InvalidDBCluster.NotFound")
        if "status" in changes:
            _require_choice("status", changes["status"], _policy.CLUSTER_STATUSES)
            cluster.status = changes["status"]
        if "description" in changes:
            if not isinstance(changes["description"], str):
                raise ValueError("description must be a string")
            cluster.description = changes["description"]
        return cluster

    def add_cluster(self, seed_cluster: SeedCluster) -> Cluster:
        """Add a cluster declared in seed format."""
        if seed_cluster.id in self.clusters:
            raise ValueError(f"cluster {seed_cluster.id} already exists")
        snapshot = _cluster_snapshot(seed_cluster, self._now_iso())
        accounts = InMemoryAccountBackend([Account(**a) for a in snapshot.pop("accounts")])
        cluster = Cluster(**snapshot, accounts=accounts)
        self.clusters[cluster.id] = cluster
        return cluster

    # --- helpers -----------------------------------------------------------

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
    ) -> None:
        if len(self.tasks_on(cluster.id)) >= self.settings.concurrent_tasks_per_cluster:
            raise api_error("ConcurrentTaskExceeded", status=quota_status)
        if action != "CreateAccount":
            # With a quota above 1, the account itself may still be busy.
            self._require_available(account)
        self.tasks.append(
            Task(
                id=next(self._task_ids),
                cluster_id=cluster.id,
                account_name=account.name,
                action=action,
                ends_at=self.clock() + self.settings.task_seconds,
                outcome=outcome,
            )
        )


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
                    name=a.name,
                    type=a.type,
                    password_hash=hash_password(a.password),
                    lock_state=a.lock_state,
                    description=a.description,
                )
            )
            for a in c.accounts
        ],
    }


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
    "Task",
]
