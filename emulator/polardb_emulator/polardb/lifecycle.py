"""Seed and state lifecycle: clusters built from the seed, from a state file, and dumped.

Pure construction and conversion; :class:`~.models.Model` decides when (start, reset)
and the out-of-band changes use it to add a cluster declared in seed format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from .._seed import SeedCluster
from .backend import AccountBackend, SeedUser
from .service import Account, Cluster


def iso_time(timestamp: float) -> str:
    """``timestamp`` as the API writes times: ``YYYY-MM-DDThh:mm:ssZ`` (UTC)."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cluster_snapshot(c: SeedCluster, created: str) -> dict[str, Any]:
    """A seed cluster as the state file keeps a cluster (without its database)."""
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
                    lock_state=a.lock_state,
                    description=a.description,
                    password_valid_time=a.password_valid_time,
                )
            )
            for a in c.accounts
        ],
    }


def cluster_from(snapshot: dict[str, Any], database: AccountBackend) -> Cluster:
    """The cluster a snapshot (seed or state file) describes, on ``database``."""
    attributes = {k: v for k, v in snapshot.items() if k not in ("accounts", "database")}
    accounts = {a["name"]: Account(**a) for a in snapshot["accounts"]}
    return Cluster(**attributes, accounts=accounts, database=database)


def dump_cluster(cluster: Cluster) -> dict[str, Any]:
    """What the state file keeps of a cluster (hashes, never plaintext)."""
    return {
        **cluster.attributes(),
        "accounts": [asdict(a) for a in cluster.accounts.values()],
        "database": cluster.database.dump(),
    }


def users_of(
    seed_cluster: SeedCluster, database: AccountBackend, ahead: Mapping[str, str] | None = None
) -> list[SeedUser]:
    """The seed cluster's accounts as the database loads them (``ahead``: credentials
    computed beforehand, by account name; the rest are computed here)."""
    known = ahead or {}
    return [
        SeedUser(a.name, a.type, known.get(a.name) or database.credential(a.password))
        for a in seed_cluster.accounts
    ]


def upgrade_cluster(saved: dict[str, Any]) -> dict[str, Any]:
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
