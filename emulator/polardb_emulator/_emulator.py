"""The running emulator: model, verifier, request log, faults and persistence, in one facade.

The RPC endpoint (``_rpc``) and the admin API (``_admin``) reach everything
through :class:`Emulator`; the aiohttp application stores it under
:data:`EMULATOR_KEY`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from ._auth import Verifier
from ._faults import Fault, Faults
from ._ram import Policy, Statement, action_name, forbidden
from ._requestlog import RequestLog
from ._seed import Seed, SeedCluster
from ._state import load_state, save_state
from .kms import responses as kms_responses
from .kms.models import SecretStore
from .polardb import responses as polardb_responses
from .polardb.backend import Databases, InMemoryDatabases
from .polardb.models import Model
from .polardb.service import Prehashed
from .polardb.tasks import Clock
from .polardb.views import state_view
from .sts import responses as sts_responses
from .sts.models import Sessions, StsService

log = logging.getLogger("polardb_emulator")
_T = TypeVar("_T")

#: Where the admin API lives.
ADMIN_PREFIX = "/_emulator"
#: The permissions of a role without a permission policy: none.
NO_PERMISSIONS = Policy((Statement("Deny", ("*",), False, ("*",), False),), {})
#: Threads hashing passwords side by side (hashlib releases the GIL).
HASH_WORKERS = min(4, os.cpu_count() or 2)


class Emulator:
    """The running emulator: model, verifier, request log, faults and persistence.

    Everything that touches the model goes through :meth:`run`: one worker
    thread, in order, so the model never sees two threads and the event loop
    never waits on a database, a state-file write or a password hash. Passwords
    are hashed before that, in a small pool of their own (:meth:`credential`),
    so that hashing neither holds up the model for other clients nor the loop.
    """

    def __init__(
        self,
        seed: Seed,
        *,
        state_path: Path | None = None,
        task_seconds: float | None = None,
        clock: Clock = time.time,
        databases: Databases | None = None,
    ) -> None:
        self.seed = seed
        self.state_path = state_path
        self.clock = clock
        saved = load_state(state_path) if state_path is not None else None
        fleet = databases if databases is not None else InMemoryDatabases()
        try:
            self.model = Model(
                seed, clock=clock, task_seconds=task_seconds, databases=fleet, state=saved
            )
        except BaseException:
            fleet.close()
            raise
        self.blocking = fleet.blocking
        #: KMS Secrets Manager's secrets (in memory only: see docs/emulator.md).
        self.secrets = SecretStore(
            seed.secrets,
            region=seed.settings.kms_region,
            account_id=seed.settings.account_id,
            clock=clock,
        )
        #: STS: the seed's roles and OIDC providers, and the sessions issued.
        self.sts = StsService(
            seed.settings.account_id,
            dict(seed.roles),
            dict(seed.oidc_providers),
            Sessions(clock),
        )
        self.verifier = Verifier(seed.access_keys, clock=clock, sessions=self.sts.sessions)
        self.requests = RequestLog(clock)
        self.faults = Faults()
        #: Each AccessKey's RAM policy (None: full access); the admin API swaps them.
        self.policies: dict[str, Policy | None] = self.seed_policies()
        self._model_thread = ThreadPoolExecutor(1, thread_name_prefix="polardb-model")
        self._hashing = ThreadPoolExecutor(HASH_WORKERS, thread_name_prefix="polardb-hash")
        self.persist()

    # --- the model, one caller at a time ------------------------------------------

    async def run(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Call ``fn(*args)`` on the model's thread (calls run one at a time, in order)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._model_thread, functools.partial(fn, *args))

    async def credential(self, db_type: str, password: str) -> str:
        """``password``'s credential for a ``db_type`` cluster, hashed in the hashing pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._hashing, self.model.databases.credential, db_type, password
        )

    async def prehash(self, cluster_id: str, password: str) -> Prehashed | None:
        """The credential of ``password`` for cluster ``cluster_id`` (None: no such cluster)."""
        # A read from the loop's thread: a stale answer only means the model
        # hashes again (it uses a Prehashed only for a cluster of that engine).
        cluster = self.model.clusters.get(cluster_id)
        if cluster is None:
            return None
        return Prehashed(cluster.db_type, await self.credential(cluster.db_type, password))

    async def seed_credentials(self, cluster: SeedCluster) -> dict[str, str]:
        """Every account's credential of a cluster in seed format, hashed side by side."""
        hashes = await asyncio.gather(
            *(self.credential(cluster.db_type, a.password) for a in cluster.accounts)
        )
        return {a.name: h for a, h in zip(cluster.accounts, hashes, strict=True)}

    def persisting(self, fn: Callable[..., _T]) -> Callable[..., _T]:
        """``fn`` followed by a save of the state file (for :meth:`run`)."""

        def call(*args: Any) -> _T:
            result = fn(*args)
            self.persist()
            return result

        return call

    def persist(self) -> None:
        """Write the state file (when ``--state`` was given)."""
        if self.state_path is not None:
            save_state(self.state_path, self.model.dump_state())

    # --- RAM ---------------------------------------------------------------------------

    def seed_policies(self) -> dict[str, Policy | None]:
        """Every AccessKey's policy as the seed declares it."""
        return {key.id: key.policy for key in self.seed.access_keys}

    def authorize(
        self, key_id: str, action: str, params: dict[str, str], service: str = "polardb"
    ) -> None:
        """Raise ``403 Forbidden.RAM`` unless ``key_id``'s policy allows ``service:action`` on
        the resource it names (see ``_ram``); a key without a policy may do anything."""
        session = self.sts.sessions.get(key_id) if key_id not in self.policies else None
        # A role's session may do what the role's permission policy allows (without one,
        # nothing); a seed key without a policy, anything.
        policy = (session.role.policy or NO_PERMISSIONS) if session else self.policies.get(key_id)
        if policy is None:
            return
        account_id = self.seed.settings.account_id
        if service == kms_responses.SERVICE:
            resource = kms_responses.resource_arn(self.secrets, params)
        elif service == sts_responses.SERVICE:
            resource = params.get("RoleArn", "")
        else:
            resource = polardb_responses.resource_arn(
                action, params, account_id=account_id, region_of=self._region_of
            )
        ram_action = action_name(service, action)
        decision = policy.decide(ram_action, resource)
        if decision != "Allow":
            raise forbidden(
                action=ram_action,
                resource=resource,
                decision=decision,
                key_id=key_id,
                account_id=account_id,
            )

    def _region_of(self, cluster_id: str) -> str:
        # A read from the loop's thread, like prehash(): a cluster's region never changes.
        cluster = self.model.clusters.get(cluster_id)
        return cluster.region if cluster is not None else ""

    # --- tasks -------------------------------------------------------------------------

    def tick(self, *, everything: bool = False) -> bool:
        """Finish due tasks (their database changes first) and expire passwords whose time
        has come, persisting if anything changed."""
        changed = self.model.tick(everything=everything)
        if changed:
            self.persist()
        return changed

    async def settle(self) -> None:
        """Finish the tasks (and expire the passwords) whose time is up."""
        if self.model.due():
            await self.run(self.tick)

    async def finish_tasks_in_background(self, interval: float = 0.02) -> None:
        """Finish tasks when their time is up, even when no request comes."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.settle()
            except Exception:  # keep serving; the next round tries again
                log.exception("finishing tasks failed")

    # --- whole-emulator operations ----------------------------------------------------

    def reset(self) -> None:
        """Back to the seed: state (databases too), request log, faults, nonce cache, policies."""
        self.reset_model()
        self.clear_activity()

    def reset_model(self) -> None:
        """The model and the secrets back to the seed, saved (on the model's thread: see
        :meth:`run`)."""
        self.model.reset()
        self.secrets.reset()
        self.persist()

    def clear_activity(self) -> None:
        """Empty the request log, faults and nonce cache, and give every AccessKey its seed
        policy back (on the event loop's thread, where requests are logged)."""
        self.requests.clear()
        self.faults.clear()
        self.verifier.nonces.clear()
        self.sts.sessions.clear()
        self.policies = self.seed_policies()

    def close(self) -> None:
        """Stop the worker threads, then the account backend's databases (every server)."""
        self._hashing.shutdown(wait=True, cancel_futures=True)
        self._model_thread.shutdown(wait=True)
        self.model.close()

    def state_document(self) -> dict[str, Any]:
        """Clusters, accounts, tasks in flight and secrets, without any password material
        or secret value."""
        return {**state_view(self.model, self.clock()), "secrets": self.secrets.view()}

    # --- shorthands kept for callers of earlier versions ------------------------------

    def add_fault(self, spec: object) -> Fault:
        """Register a fault from its JSON spec."""
        return self.faults.add(spec)

    def record(self, **entry: Any) -> None:
        """Append to the request log (params must already be redacted)."""
        self.requests.record(**entry)


EMULATOR_KEY = web.AppKey("emulator", Emulator)
