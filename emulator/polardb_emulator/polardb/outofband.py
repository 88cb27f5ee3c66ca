"""Admin-only, out-of-band changes: what a DBA or the console does behind the API's back.

Only the admin API (``/_emulator``) reaches these. They skip the service's rules (no
task, no policy check) but never its backend seam: every database change goes through
the cluster's :class:`~.backend.AccountBackend`, whichever kind it is. Invalid input
raises ``ValueError`` (the admin API answers 400) before anything changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._seed import SeedCluster
from . import rules
from .backend import Databases
from .exceptions import api_error
from .lifecycle import cluster_from, cluster_snapshot, iso_time, users_of
from .service import ACCOUNT_STATUSES, Account, Cluster, Service, account_of

Clock = Callable[[], float]


class OutOfBand:
    """Out-of-band changes to the clusters of ``service``, on ``databases``."""

    def __init__(self, service: Service, databases: Databases, clock: Clock) -> None:
        self._service = service
        self._databases = databases
        self._clock = clock

    @property
    def _clusters(self) -> dict[str, Cluster]:
        return self._service.clusters

    def verify_password(self, cluster_id: str, name: str, password: str) -> bool:
        """Whether ``password`` is the current password of the account (in its database)."""
        return self._service.cluster(cluster_id).database.verify_password(name, password)

    def patch_account(self, cluster_id: str, name: str, changes: dict[str, Any]) -> Account:
        """Change an account behind the API's back (drift tests)."""
        cluster = self._service.cluster(cluster_id)
        account = account_of(cluster, name)
        if "type" in changes:
            _require_choice("type", changes["type"], rules.ACCOUNT_TYPES)
        if "lock_state" in changes:
            _require_choice("lock_state", changes["lock_state"], rules.LOCK_STATES)
        if "status" in changes:
            _require_choice("status", changes["status"], ACCOUNT_STATUSES)
        if "privileges_revoked" in changes:
            if not isinstance(changes["privileges_revoked"], bool):
                raise ValueError("privileges_revoked must be true or false")
            problem = cluster.database.privileges_flag_problem()
            if problem is not None:
                raise ValueError(
                    f"{problem} (admin login: GET /_emulator/clusters/{cluster.id}/sql)"
                )
        if "description" in changes and not isinstance(changes["description"], str):
            raise ValueError("description must be a string")
        if "password_valid_time" in changes:
            valid_time = changes["password_valid_time"]
            if not isinstance(valid_time, str) or (
                valid_time and rules.parse_valid_time(valid_time) is None
            ):
                raise ValueError(
                    "password_valid_time must be a UTC time as YYYY-MM-DDThh:mm:ssZ, "
                    "or empty for none"
                )
        if "password" in changes and (
            not isinstance(changes["password"], str) or not changes["password"]
        ):
            raise ValueError("password must be a non-empty string")
        # Everything is valid: apply.
        for key in ("type", "lock_state", "status", "description", "password_valid_time"):
            if key in changes:
                setattr(account, key, changes[key])
        db = cluster.database
        if "privileges_revoked" in changes:
            db.set_privileges_revoked(name, changes["privileges_revoked"])
        if "password" in changes:
            # Out of band: no policy check, any password the DBA set by hand.
            db.set_password(name, db.credential(changes["password"]))
        if changes.keys() & {"lock_state", "password_valid_time", "password"}:
            # In the database too: a locked account cannot log in, an expired password
            # only lets a login change it (and a new password does not lift either).
            self._service.apply_health(cluster, account)
        return account

    def delete_account_now(self, cluster_id: str, name: str) -> None:
        """Remove an account immediately, from its database too."""
        cluster = self._service.cluster(cluster_id)
        account_of(cluster, name)
        cluster.database.drop_account(name)
        del cluster.accounts[name]

    def patch_cluster(self, cluster_id: str, changes: dict[str, Any]) -> Cluster:
        """Change a cluster's status (and/or description)."""
        cluster = self._clusters.get(cluster_id)
        if cluster is None:
            raise api_error("InvalidDBCluster.NotFound")
        if "status" in changes:
            _require_choice("status", changes["status"], rules.CLUSTER_STATUSES)
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
        if seed_cluster.id in self._clusters:
            raise ValueError(f"cluster {seed_cluster.id} already exists")
        opened = self._databases.open([(seed_cluster.id, seed_cluster.db_type)], existing=False)
        db = opened[seed_cluster.id]
        cluster = cluster_from(cluster_snapshot(seed_cluster, iso_time(self._clock())), db)
        try:
            db.load_accounts(users_of(seed_cluster, db, credentials))
        except BaseException:
            self._databases.discard(seed_cluster.id)
            raise
        self._clusters[cluster.id] = cluster
        for account in cluster.accounts.values():
            if account.lock_state == "Lock" or account.password_valid_time:
                self._service.apply_health(cluster, account)
        return cluster

    def sql_login(self, cluster_id: str) -> dict[str, Any]:
        """The administrative SQL login of the cluster's server."""
        cluster = self._clusters.get(cluster_id)
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


def _require_choice(key: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{key} must be one of {', '.join(choices)}")
