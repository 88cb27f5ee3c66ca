"""The domain rules of the API actions: clusters, accounts and what each write does.

The rules are those of the real service (see docs/emulator.md for the choices the
emulator had to make where the documentation is silent):

* writes need a ``Running`` cluster and a free slot in the cluster's task quota; each
  write is a task (:mod:`._tasks`) during which the account shows a transitional
  ``AccountStatus``;
* ResetAccount works only on MySQL clusters and only on the Super account;
* a MySQL cluster has at most one Super account;
* an account's lock state and password validity time (ModifyAccountLockState) hold in
  its database too: a locked account cannot log in, and once its validity time has
  passed its password is expired (a login may only change it).

:class:`Service` keeps what the API shows. Every change a database would see (an
account, its password, its grants) goes through the cluster's
:class:`~.backend.AccountBackend`, which applies a write either when the request is
accepted (in memory) or when its task ends (a real server, like the service).

No HTTP and no parameter names here (``responses`` maps requests to these methods), and
no error definitions (``_exceptions``). Synchronous and not thread-safe: the emulator
calls it from one thread at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from . import rules
from .backend import AccountBackend, BackendError
from .exceptions import api_error
from .tasks import Task, TaskScheduler

log = logging.getLogger("polardb_emulator")

#: AccountStatus while a CreateAccount, ResetAccount or ModifyAccountPassword
#: task runs. The documented values are Creating / Available / Deleting only,
#: so the emulator reuses "Creating" rather than inventing a value clients
#: would not know.
TRANSITIONAL_STATUS = "Creating"
DELETING_STATUS = "Deleting"
AVAILABLE_STATUS = "Available"
ACCOUNT_STATUSES = (AVAILABLE_STATUS, TRANSITIONAL_STATUS, DELETING_STATUS)


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
    cluster; the service uses it only for a cluster of that engine."""

    db_type: str
    credential: str = field(repr=False)


class Service:
    """The API's account and cluster actions on ``clusters``, with the service's rules.

    ``clusters`` is shared with the rest of the model (the lifecycle replaces its
    contents, never the dict); writes start tasks on ``scheduler``, which hands each
    finished task back to :meth:`finish`.
    """

    def __init__(
        self,
        clusters: dict[str, Cluster],
        scheduler: TaskScheduler,
        clock: Callable[[], float],
    ) -> None:
        self.clusters = clusters
        self.scheduler = scheduler
        self._clock = clock
        self._client_tokens: dict[str, str] = {}
        # Validity times still ahead, by (cluster ID, account name): when one passes,
        # the account's password expires in its database (see expire_passwords).
        self._expiries: dict[tuple[str, str], float] = {}

    def forget_client_tokens(self) -> None:
        """Forget every CreateAccount ClientToken (back to the seed)."""
        self._client_tokens = {}

    # --- lookups -----------------------------------------------------------

    def cluster(self, cluster_id: str, *, malformed_status: int | None = None) -> Cluster:
        """The cluster ``cluster_id`` or the service's not-found / malformed error."""
        if not rules.is_cluster_id(cluster_id):
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
        _require_running(cluster)
        account = account_of(cluster, name)
        if account.type != "Super":
            raise api_error(
                "InvalidAccountName.Malformed",
                f"The specified parameter AccountName is not valid: {name} is a "
                f"{account.type} account; only the privileged (Super) account can be reset.",
            )
        task = self._start_task(cluster, account, "ResetAccount", quota_status=None)
        credential = _credential(cluster, password, prehashed) if password else None
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
        problem = rules.account_name_problem(name)
        if problem:
            raise api_error(
                "InvalidAccountName.Malformed",
                f"The specified parameter AccountName is not valid: {problem}.",
            )
        _check_password(password)
        kind = account_type or "Super"  # omitted means Super (API reference)
        if kind not in rules.WRITABLE_ACCOUNT_TYPES:
            raise api_error(
                "InvalidAccountType.Malformed",
                "The specified parameter AccountType is not valid: it must be Normal or Super.",
            )
        if privilege is not None and privilege not in rules.ACCOUNT_PRIVILEGES:
            raise api_error(
                "InvalidParameter",
                "The specified parameter AccountPrivilege is not valid: it must be one of "
                + ", ".join(rules.ACCOUNT_PRIVILEGES)
                + ".",
            )
        cluster = self.cluster(cluster_id)
        _require_running(cluster)
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
        self._write(cluster, account, task, _credential(cluster, password, prehashed))
        if token_key:
            self._client_tokens[token_key] = request_id
        return None

    def delete_account(self, cluster_id: str, name: str) -> None:
        """DeleteAccount: the account shows Deleting, then disappears (from the database too)."""
        _check_name_shape(name)
        cluster = self.cluster(cluster_id)
        _require_running(cluster)
        account = account_of(cluster, name)
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
        _require_running(cluster)
        account = account_of(cluster, name)
        task = self._start_task(cluster, account, "ModifyAccountPassword", quota_status=None)
        self._write(cluster, account, task, _credential(cluster, password, prehashed))
        account.status = TRANSITIONAL_STATUS

    def modify_account_lock_state(
        self, cluster_id: str, name: str, lock_state: str, valid_time: str | None
    ) -> None:
        """ModifyAccountLockState: lock or unlock the account and, if ``valid_time`` is
        given, set when its password expires (else the validity time stays)."""
        _check_name_shape(name)
        if lock_state not in rules.LOCK_STATES:
            raise api_error(
                "InvalidParameter",
                "The specified parameter AccountLockState is not valid: it must be "
                + " or ".join(rules.LOCK_STATES)
                + ".",
            )
        if valid_time is not None and rules.parse_valid_time(valid_time) is None:
            raise api_error(
                "InvalidParameter",
                "The specified parameter AccountPasswordValidTime is not valid: it must be "
                "a UTC time in the format YYYY-MM-DDThh:mm:ssZ.",
            )
        cluster = self.cluster(cluster_id)
        _require_running(cluster)
        account = account_of(cluster, name)
        task = self._start_task(cluster, account, "ModifyAccountLockState", quota_status=None)
        task.changes = {"lock_state": lock_state}
        if valid_time is not None:
            task.changes["password_valid_time"] = valid_time
        account.status = TRANSITIONAL_STATUS

    # --- account health: lock state and password validity ----------------------------

    def apply_health(self, cluster: Cluster, account: Account) -> None:
        """Make the database hold the account's lock state and password validity as the
        API shows them (after a change, a password write or a load from the seed)."""
        self._expiries.pop((cluster.id, account.name), None)
        expires_at = (
            rules.parse_valid_time(account.password_valid_time)
            if account.password_valid_time
            else None
        )
        expired = expires_at is not None and expires_at <= self._clock()
        if expires_at is not None and not expired:
            self._expiries[(cluster.id, account.name)] = expires_at
        db = cluster.database
        try:
            db.set_account_locked(account.name, account.lock_state == "Lock")
            db.set_password_expired(account.name, expired)
        except BackendError as exc:
            log.warning(
                "the lock state or password validity of %s on %s did not take effect in "
                "the database: %s",
                account.name,
                cluster.id,
                exc,
            )

    def apply_all_health(self) -> None:
        """:meth:`apply_health` for every account that is locked or has a validity time
        (the others are as a database creates them)."""
        self._expiries.clear()
        for cluster in self.clusters.values():
            for account in cluster.accounts.values():
                if account.lock_state == "Lock" or account.password_valid_time:
                    self.apply_health(cluster, account)

    def passwords_due(self) -> bool:
        """Whether a validity time has passed since its account's health was applied."""
        now = self._clock()
        return any(at <= now for at in self._expiries.values())

    def expire_passwords(self) -> bool:
        """Expire the passwords whose validity time has passed; return whether any did."""
        now = self._clock()
        due = [key for key, at in self._expiries.items() if at <= now]
        for cluster_id, name in due:
            cluster = self.clusters.get(cluster_id)
            account = cluster.accounts.get(name) if cluster else None
            if cluster is None or account is None:
                self._expiries.pop((cluster_id, name), None)
                continue
            self.apply_health(cluster, account)
        return bool(due)

    # --- the end of a task -------------------------------------------------

    def finish(self, task: Task) -> None:
        """What happens when ``task`` ends (the scheduler's callback)."""
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
        if task.changes:
            # The API shows the new lock state and validity time once the database has
            # them, with every backend.
            for key, value in task.changes.items():
                setattr(account, key, value)
            self.apply_health(cluster, account)
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
                self._expiries.pop((cluster.id, account.name), None)
                return
            else:
                return
        except BackendError as exc:
            # The API already answered; like a failed task, this shows only in the database.
            log.warning(
                "%s of %s on %s did not take effect in the database: %s",
                action,
                account.name,
                cluster.id,
                exc,
            )
            return
        if account.lock_state == "Lock" or account.password_valid_time:
            # A new password renews it in MySQL, and a re-created account starts
            # unlocked: the account's lock state and validity time still hold.
            self.apply_health(cluster, account)

    def _write(
        self, cluster: Cluster, account: Account, task: Task, credential: str | None
    ) -> None:
        """Apply a write at once, or keep it with its task for the task's end."""
        if cluster.database.applies_when_task_ends:
            task.credential = credential
        else:
            self._apply(cluster, account, task.action, credential)

    def _start_task(
        self,
        cluster: Cluster,
        account: Account,
        action: str,
        *,
        quota_status: int | None,
        outcome: str = "available",
    ) -> Task:
        # The quota first (it is the documented error), then the account itself, which
        # with a quota above 1 may still be busy.
        self.scheduler.require_slot(cluster.id, quota_status)
        if action != "CreateAccount" and account.status != AVAILABLE_STATUS:
            raise api_error(
                "OperationDenied.AccountStatus",
                f"The operation is not permitted due to status of account {account.name} "
                f"({account.status}).",
            )
        task = self.scheduler.start(
            cluster.id, account.name, action, quota_status=quota_status, outcome=outcome
        )
        return task


# --- rules shared with the out-of-band changes ----------------------------------------


def account_of(cluster: Cluster, name: str) -> Account:
    """The account ``name`` of ``cluster`` or the service's not-found error."""
    account = cluster.accounts.get(name)
    if account is None:
        raise api_error(
            "InvalidAccountName.NotFound",
            f"The specified account {name} does not exist in cluster {cluster.id}.",
        )
    return account


def _credential(cluster: Cluster, password: str, prehashed: Prehashed | None) -> str:
    if prehashed is not None and prehashed.db_type == cluster.db_type:
        return prehashed.credential
    return cluster.database.credential(password)


def _require_running(cluster: Cluster) -> None:
    if cluster.status != "Running":
        raise api_error(
            "OperationDenied.DBClusterStatus",
            f"The operation is not permitted due to status of cluster {cluster.id} "
            f"({cluster.status}); it must be Running.",
        )


def _check_name_shape(name: str) -> None:
    # Existing accounts are addressed by name: only the shape is checked here
    # (reserved names simply do not exist).
    if not rules.ACCOUNT_NAME_RE.fullmatch(name):
        raise api_error("InvalidAccountName.Malformed")


def _check_password(password: str, parameter: str = "AccountPassword") -> None:
    problem = rules.password_problem(password)
    if problem:
        # Never echo the value, only the rule it breaks.
        raise api_error(
            "InvalidAccountPassword.Malformed",
            f"The specified parameter {parameter} is not valid: {problem}.",
        )
