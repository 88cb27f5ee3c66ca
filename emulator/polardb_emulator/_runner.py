"""Building and running an emulator from options: shared by the CLI and the thread launcher."""

from __future__ import annotations

import asyncio
import math
import shutil
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._emulator import Emulator
from ._http import HttpLimits
from ._seed import SeedError, load_seed
from ._server import serve
from ._state import StateError
from .polardb.backend import Databases, InMemoryDatabases, StartupFailedError


class StartupError(Exception):
    """The emulator cannot start; ``exit_code`` is what the CLI exits with."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class ServeOptions:
    """What ``polardb-emulator serve`` takes."""

    seed_path: Path
    state_path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 0
    tls: bool = False
    task_seconds: float | None = None
    #: ``memory`` or ``mariadb``; None: the seed's ``settings.backend``.
    backend: str | None = None
    #: The ``mariadbd`` binary (default: from PATH, then /usr/sbin).
    mariadbd: Path | None = None
    #: Seconds a client has for its request headers, and for its body (idle too).
    client_timeout: float = 30.0
    #: Connections kept at once (None: from the open-files limit).
    max_connections: int | None = None

    @property
    def limits(self) -> HttpLimits:
        """The HTTP limits these options ask for."""
        return HttpLimits(self.client_timeout, self.max_connections)


@dataclass
class Prepared:
    """An emulator ready to serve, with its TLS material."""

    emulator: Emulator
    ssl_context: ssl.SSLContext | None
    ca_file: Path | None
    #: A private directory made for this run (the CA without --state); removed by close().
    temp_dir: Path | None = None

    def close(self) -> None:
        """Stop the emulator's databases and remove this run's temporary directory."""
        try:
            self.emulator.close()
        finally:
            if self.temp_dir is not None:
                shutil.rmtree(self.temp_dir, ignore_errors=True)


def prepare(options: ServeOptions) -> Prepared:
    """Load the seed and state, start the databases, build the emulator and TLS context.

    Raises StartupError; whatever was started is stopped first.
    """
    if options.task_seconds is not None and not 0 <= options.task_seconds < math.inf:
        raise StartupError("error: --task-seconds must be a finite number >= 0")
    if not options.client_timeout > 0:
        raise StartupError("error: --client-timeout must be > 0")
    if options.max_connections is not None and options.max_connections < 1:
        raise StartupError("error: --max-connections must be >= 1")
    try:
        seed = load_seed(options.seed_path)
    except SeedError as exc:
        raise StartupError(f"seed error: {exc}") from None
    backend = options.backend or seed.settings.backend
    databases = _databases(backend, options)
    try:
        emulator = Emulator(
            seed,
            state_path=options.state_path,
            task_seconds=options.task_seconds,
            databases=databases,
        )
    except StateError as exc:
        raise StartupError(f"state error: {exc}") from None
    except StartupFailedError as exc:
        raise StartupError(f"error: {exc}", exit_code=1) from None
    prepared = Prepared(emulator, None, None)
    try:
        if options.tls:
            from ._tls import make_server_context

            if options.state_path is not None:
                ca_dir = options.state_path.parent
            else:
                # Fresh, private (0700) and never reused: a directory a killed run
                # left behind is never written to again.
                prepared.temp_dir = ca_dir = Path(tempfile.mkdtemp(prefix="polardb-emulator-"))
            prepared.ssl_context, prepared.ca_file = make_server_context(ca_dir)
    except BaseException:
        prepared.close()
        raise
    return prepared


def _databases(backend: str, options: ServeOptions) -> Databases:
    if backend == "memory":
        return InMemoryDatabases()
    from .polardb.mariadb import MariaDBDatabases, MariaDBNotFoundError, find_mariadbd

    try:
        binary = find_mariadbd(options.mariadbd)
        data_root = None
        if options.state_path is not None:
            # Beside the state file, so that the servers' data survive a restart.
            data_root = options.state_path.parent / f"{options.state_path.stem}-mariadb"
        return MariaDBDatabases(binary, data_root=data_root)
    except MariaDBNotFoundError as exc:
        raise StartupError(f"error: {exc}") from None


def ready_info(
    options: ServeOptions, prepared: Prepared, address: tuple[str, int]
) -> dict[str, str]:
    """The first-line JSON document: endpoint (``address``, where the emulator listens),
    protocol, admin URL, CA file."""
    host, port = address
    host_port = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    scheme = "https" if options.tls else "http"
    info = {
        "endpoint": host_port,
        "protocol": scheme,
        "admin_url": f"{scheme}://{host_port}/_emulator",
        "backend": prepared.emulator.model.databases.name,
    }
    if prepared.ca_file is not None:
        info["ca_file"] = str(prepared.ca_file)
    return info


def serve_in_thread(
    options: ServeOptions, timeout: float
) -> tuple[threading.Thread, Callable[[], None], dict[str, str]]:
    """Serve from a daemon thread; return it, a function that stops it, and the ready info."""
    ready = threading.Event()
    outcome: dict[str, object] = {}
    holder: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}

    async def main() -> None:
        # Blocking on purpose: nothing else runs on this loop yet, and servers
        # started from this thread live as long as it does (PR_SET_PDEATHSIG).
        prepared = prepare(options)
        stop = asyncio.Event()
        holder["stop"] = (asyncio.get_running_loop(), stop)

        def on_ready(address: tuple[str, int]) -> None:
            outcome["info"] = ready_info(options, prepared, address)
            ready.set()

        try:
            await serve(
                prepared.emulator,
                host=options.host,
                port=options.port,
                ssl_context=prepared.ssl_context,
                on_ready=on_ready,
                stop=stop,
                limits=options.limits,
            )
        finally:
            prepared.close()

    def run() -> None:
        try:
            asyncio.run(main())
        except StartupError as exc:
            outcome["error"] = exc
        except BaseException as exc:  # reported to the starting thread
            outcome["error"] = exc
        finally:
            ready.set()

    thread = threading.Thread(target=run, name="polardb-emulator", daemon=True)
    thread.start()
    if not ready.wait(timeout):
        raise RuntimeError(f"the emulator did not start in {timeout}s")
    if "error" in outcome:
        thread.join(timeout)
        raise RuntimeError(f"the emulator did not start: {outcome['error']}")

    def stopper() -> None:
        loop, stop = holder["stop"]
        if not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)

    info = outcome["info"]
    assert isinstance(info, dict)
    return thread, stopper, info
