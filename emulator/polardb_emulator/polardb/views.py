"""How the admin API shows the model: one view per kind of object, no password material.

(The API's own documents, with the SDK's field names, are built in ``responses``;
the state file's in ``lifecycle``.)
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .models import Model
from .service import Account, Cluster
from .tasks import Task


def account_view(cluster: Cluster, account: Account) -> dict[str, Any]:
    """An account as the admin API shows it (``GET /state``, ``PATCH .../accounts/NAME``)."""
    return {
        "name": account.name,
        "type": account.type,
        "status": account.status,
        "lock_state": account.lock_state,
        "password_valid_time": account.password_valid_time,
        "description": account.description,
        "database_privileges": [dict(p) for p in account.database_privileges],
        # What the database adds: privileges_revoked with the memory backend.
        **cluster.database.describe(account.name),
    }


def cluster_view(cluster: Cluster) -> dict[str, Any]:
    """A cluster with its accounts and, with a SQL server, its ``sql_endpoint``."""
    endpoint = cluster.database.endpoint()
    sql = {"sql_endpoint": f"{endpoint[0]}:{endpoint[1]}"} if endpoint else {}
    accounts = [account_view(cluster, a) for a in cluster.accounts.values()]
    return {**cluster.attributes(), **sql, "accounts": accounts}


def task_view(task: Task, now: float) -> dict[str, Any]:
    """A task in flight and the seconds it has left."""
    return {
        "id": task.id,
        "cluster_id": task.cluster_id,
        "account_name": task.account_name,
        "action": task.action,
        "remaining_seconds": round(max(0.0, task.ends_at - now), 3),
    }


def state_view(model: Model, now: float) -> dict[str, Any]:
    """``GET /_emulator/state``: settings, clusters, tasks in flight, whether tasks are held."""
    return {
        "settings": asdict(model.settings),
        "clusters": [cluster_view(c) for c in model.clusters.values()],
        "tasks": [task_view(t, now) for t in model.scheduler.tasks],
        "tasks_held": model.scheduler.held,
    }
