"""The running emulator: model, verifier, request log, faults and persistence, in one facade.

The RPC endpoint (``_rpc``) and the admin API (``_admin``) reach everything
through :class:`Emulator`; the aiohttp application stores it under
:data:`EMULATOR_KEY`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from ._auth import Verifier
from ._backend import Databases, InMemoryDatabases
from ._faults import Fault, Faults
from ._models import Clock, Model
from ._requestlog import RequestLog
from ._seed import Seed
from ._state import load_state, save_state
from ._views import state_view

log = logging.getLogger("polardb_emulator")
_T = TypeVar("_T")

#: Where the admin API lives.
ADMIN_PREFIX = "/_emulator"


class Emulator:
    """The running emulator: model, verifier, request log, faults and persistence.

    Everything that touches the model goes through :meth:`run` (one caller at
    a time; in a worker thread when the account backend blocks), so the model
    never sees two threads and the event loop never waits on a database.
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
        self.verifier = Verifier(seed.access_keys, clock=clock)
        self.requests = RequestLog(clock)
        self.faults = Faults()
        self._lock: asyncio.Lock | None = None
        self.persist()

    # --- the model, one caller at a time ------------------------------------------

    async def run(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Call ``fn(*args)`` on the model, alone; off the event loop if the backend blocks."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.blocking:
                return await asyncio.to_thread(fn, *args)
            return fn(*args)

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

    # --- tasks -------------------------------------------------------------------------

    def tick(self, *, everything: bool = False) -> bool:
        """Finish due tasks (their database changes first), persisting if anything changed."""
        changed = self.model.tick(everything=everything)
        if changed:
            self.persist()
        return changed

    async def settle(self) -> None:
        """Finish the tasks whose time is up."""
        if self.model.due_tasks():
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
        """Back to the seed: state (databases too), request log, faults and nonce cache."""
        self.model.reset()
        self.requests.clear()
        self.faults.clear()
        self.verifier.nonces.clear()
        self.persist()

    def close(self) -> None:
        """Stop the account backend's databases (every server started)."""
        self.model.close()

    def state_document(self) -> dict[str, Any]:
        """Clusters, accounts and tasks in flight, without any password material."""
        return state_view(self.model, self.clock())

    # --- shorthands kept for callers of earlier versions ------------------------------

    def add_fault(self, spec: object) -> Fault:
        """Register a fault from its JSON spec."""
        return self.faults.add(spec)

    def take_fault(self, action: str) -> Fault | None:
        """Consume one use of the first fault matching ``action``."""
        return self.faults.take(action)

    def record(self, **entry: Any) -> None:
        """Append to the request log (params must already be redacted)."""
        self.requests.record(**entry)


EMULATOR_KEY = web.AppKey("emulator", Emulator)
