"""The model: one emulator's clusters, built from the seed or a state file, in four parts.

Each part has one job:

* :attr:`Model.service` (``service``): the domain rules of the API actions;
* :attr:`Model.scheduler` (``tasks``): the asynchronous writes in flight, hold/release;
* :attr:`Model.admin` (``outofband``): admin-only changes behind the API's back;
* :class:`Model` itself: the lifecycle (start from the seed or a state file, back to the
  seed, dump for the state file, stop the databases), with ``lifecycle``'s conversions.

The parts share one ``clusters`` dict, whose contents the lifecycle replaces. Every
change a database would see goes through the cluster's :class:`~.backend.AccountBackend`.
The model is synchronous and not thread-safe: the emulator calls it from one thread at a
time (a worker thread when the backend blocks).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .._seed import Seed, Settings
from .._state import StateError
from .backend import AccountBackend, Databases, InMemoryDatabases, SeedUser
from .exceptions import ApiError
from .lifecycle import (
    cluster_from,
    cluster_snapshot,
    dump_cluster,
    iso_time,
    upgrade_cluster,
    users_of,
)
from .outofband import OutOfBand
from .service import Account, Cluster, Prehashed, Service
from .tasks import Clock, Task, TaskScheduler


class Model:
    """All clusters, accounts and tasks of one emulator.

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
            seed.settings.kms_region,
        )
        self._seed = seed
        self._seed_snapshot = [cluster_snapshot(c, iso_time(clock())) for c in seed.clusters]
        # Seed passwords in each backend's one-way form, made once so that
        # resetting between tests stays cheap.
        self._seed_users: dict[str, list[SeedUser]] = {}
        self.clusters: dict[str, Cluster] = {}
        self.scheduler = TaskScheduler(
            clock=clock,
            seconds=self.settings.task_seconds,
            quota=self.settings.concurrent_tasks_per_cluster,
            finish=self._finish,
        )
        self.service = Service(self.clusters, self.scheduler, clock)
        self.admin = OutOfBand(self.service, self.databases, clock)
        if state is None:
            self._start_from_seed()
        else:
            self._start_from_state(state)

    def _finish(self, task: Task) -> None:
        self.service.finish(task)

    # --- lifecycle -------------------------------------------------------

    def _start_from_seed(self) -> None:
        backends = self.databases.open(
            [(c.id, c.db_type) for c in self._seed.clusters], existing=False
        )
        self._replace_clusters(backends)
        self._load_seed_users(self.clusters.values())
        self.service.apply_all_health()

    def _start_from_state(self, state: dict[str, Any]) -> None:
        saved_backend = state.get("backend", "memory")
        if saved_backend != self.databases.name:
            raise StateError(
                f"the state file was written with --backend {saved_backend}; start with it "
                "again, or remove the state file to start from the seed"
            )
        clusters = [upgrade_cluster(c) for c in state["clusters"]]
        backends = self.databases.open([(c["id"], c["db_type"]) for c in clusters], existing=True)
        self.clusters.clear()
        for c in clusters:
            self.databases.restore(c["id"], c.get("database"))
            self.clusters[c["id"]] = cluster_from(c, backends[c["id"]])
        self.scheduler.restore(state.get("tasks", []), held=bool(state.get("tasks_held", False)))
        self.service.apply_all_health()
        self.tick()

    # --- time ------------------------------------------------------------

    def due(self) -> bool:
        """Whether time has something to do: a task to finish or a password to expire."""
        return bool(self.scheduler.due()) or self.service.passwords_due()

    def tick(self, *, everything: bool = False) -> bool:
        """Finish due tasks (``everything``: all in flight) and expire the passwords whose
        validity time has passed; return whether anything changed."""
        finished = self.scheduler.tick(everything=everything)
        return self.service.expire_passwords() or finished

    def _replace_clusters(self, backends: dict[str, AccountBackend]) -> None:
        self.clusters.clear()
        for snap in copy.deepcopy(self._seed_snapshot):
            self.clusters[snap["id"]] = cluster_from(snap, backends[snap["id"]])

    def _seed_users_of(self, cluster: Cluster) -> list[SeedUser]:
        users = self._seed_users.get(cluster.id)
        if users is None:
            seed_cluster = next(c for c in self._seed.clusters if c.id == cluster.id)
            users = users_of(seed_cluster, cluster.database)
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
        self._replace_clusters(backends)
        self.scheduler.clear()
        self.service.forget_client_tokens()
        self._load_seed_users(self.clusters.values())
        self.service.apply_all_health()

    def close(self) -> None:
        """Stop the databases (every server the fleet started)."""
        self.databases.close()

    def dump_state(self) -> dict[str, Any]:
        """Everything needed to restore this model (hashes, never plaintext)."""
        return {
            "backend": self.databases.name,
            "clusters": [dump_cluster(c) for c in self.clusters.values()],
            **self.scheduler.dump(),
        }


__all__ = [
    "Account",
    "AccountBackend",
    "ApiError",
    "Cluster",
    "Model",
    "Prehashed",
    "Task",
]
