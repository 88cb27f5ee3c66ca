"""HTTP layer: the signed RPC endpoint ``POST /`` and the admin API under ``/_emulator``.

Flow of an API request: parse the query → find the action and version →
authenticate → apply an injected fault, if any → call the domain model →
render JSON. Every API request, including rejected ones, is recorded in the
request log with secrets redacted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import signal
import ssl
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from ipaddress import ip_address
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from aiohttp import web

from . import _actions
from ._auth import SignedRequest, Verifier
from ._backend import BackendError, Databases, InMemoryDatabases, StartupFailedError
from ._exceptions import ApiError, AuthError, api_error, missing_parameter
from ._models import Clock, Model
from ._seed import Seed, SeedError, parse_cluster
from ._state import load_state, save_state

log = logging.getLogger("polardb_emulator")
_T = TypeVar("_T")

ADMIN_PREFIX = "/_emulator"
REDACTED = "***REDACTED***"
_SECRET_MARKERS = ("password", "secret", "token", "signature")
_FAULT_KINDS = ("error", "latency", "drop")
_REQUEST_LOG_LIMIT = 10_000


def redact(params: Mapping[str, str]) -> dict[str, str]:
    """Copy of ``params`` with every password/secret/token/signature value replaced."""
    return {
        k: REDACTED if any(m in k.lower() for m in _SECRET_MARKERS) else v
        for k, v in params.items()
    }


def is_loopback(remote: str | None) -> bool:
    """Whether a peer address is a loopback address (admin API is loopback-only)."""
    if not remote:
        return False
    try:
        return ip_address(remote.split("%")[0]).is_loopback
    except ValueError:
        return False


@dataclass
class Fault:
    """An injected failure for the next ``count`` calls of ``action`` (or ``*``)."""

    id: int
    action: str
    kind: str
    count: int
    code: str | None = None
    status: int | None = None
    message: str | None = None
    retry_after_ms: int | None = None
    latency_ms: int | None = None


def parse_fault(spec: object, fault_id: int) -> Fault:
    """Validate a ``POST /_emulator/faults`` body; raise ValueError with a clear message."""
    if not isinstance(spec, dict):
        raise ValueError("body must be a JSON object")
    known = {"action", "kind", "code", "status", "message", "retry_after_ms", "latency_ms", "count"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValueError(f"unknown key(s): {', '.join(unknown)}")
    action = spec.get("action")
    if action != "*" and action not in _actions.ACTIONS:
        raise ValueError(f"action must be '*' or one of {', '.join(_actions.ACTIONS)}")
    kind = spec.get("kind", "error")
    if kind not in _FAULT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(_FAULT_KINDS)}")

    def _int(name: str, low: int, high: int, default: int | None = None) -> int | None:
        value = spec.get(name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be an integer from {low} to {high}")
        return value

    count = _int("count", 1, 1_000_000, 1)
    assert count is not None
    fault = Fault(
        id=fault_id,
        action=action,
        kind=kind,
        count=count,
        status=_int("status", 400, 599),
        retry_after_ms=_int("retry_after_ms", 1, 3_600_000),
        latency_ms=_int("latency_ms", 0, 600_000),
    )
    for name in ("code", "message"):
        value = spec.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError(f"{name} must be a non-empty string")
    fault.code, fault.message = spec.get("code"), spec.get("message")
    if kind == "error" and not fault.code:
        raise ValueError("an error fault needs a code")
    if kind == "latency" and fault.latency_ms is None:
        raise ValueError("a latency fault needs latency_ms")
    return fault


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
        self.requests: deque[dict[str, Any]] = deque(maxlen=_REQUEST_LOG_LIMIT)
        self.faults: list[Fault] = []
        self._seq = itertools.count(1)
        self._fault_ids = itertools.count(1)
        self._lock: asyncio.Lock | None = None
        self.persist()

    async def run(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Call ``fn(*args)`` on the model, alone; off the event loop if the backend blocks."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.blocking:
                return await asyncio.to_thread(fn, *args)
            return fn(*args)

    def persist(self) -> None:
        """Write the state file (when ``--state`` was given)."""
        if self.state_path is not None:
            save_state(self.state_path, self.model.dump_state())

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

    def add_fault(self, spec: object) -> Fault:
        """Register a fault from its JSON spec."""
        fault = parse_fault(spec, next(self._fault_ids))
        self.faults.append(fault)
        return fault

    def take_fault(self, action: str) -> Fault | None:
        """Consume one use of the first fault matching ``action``."""
        for fault in self.faults:
            if fault.action in (action, "*"):
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def record(self, **entry: Any) -> None:
        """Append to the request log (params must already be redacted)."""
        now = self.clock()
        self.requests.append(
            {
                "seq": next(self._seq),
                "time": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"),
                **entry,
            }
        )

    def state_document(self) -> dict[str, Any]:
        """Clusters, accounts and tasks in flight, without any password material."""
        now = self.clock()
        clusters = []
        for c in self.model.clusters.values():
            accounts = [
                {
                    "name": a.name,
                    "type": a.type,
                    "status": a.status,
                    "lock_state": a.lock_state,
                    "description": a.description,
                    "database_privileges": a.database_privileges,
                    **c.database.describe(a.name),
                }
                for a in c.accounts.values()
            ]
            endpoint = c.database.endpoint()
            sql = {"sql_endpoint": f"{endpoint[0]}:{endpoint[1]}"} if endpoint else {}
            clusters.append({**c.attributes(), **sql, "accounts": accounts})
        tasks = [
            {
                "id": t.id,
                "cluster_id": t.cluster_id,
                "account_name": t.account_name,
                "action": t.action,
                "remaining_seconds": round(max(0.0, t.ends_at - now), 3),
            }
            for t in self.model.tasks
        ]
        return {
            "settings": asdict(self.model.settings),
            "clusters": clusters,
            "tasks": tasks,
            "tasks_held": self.model.held,
        }


# --- the API endpoint ---------------------------------------------------------


def _new_request_id() -> str:
    return str(uuid.uuid4()).upper()


def _error_response(error: ApiError, request_id: str) -> web.Response:
    headers = {"x-acs-request-id": request_id}
    if error.retry_after_ms:
        headers["x-acs-retry-after"] = str(error.retry_after_ms)
    return web.json_response(
        {"RequestId": request_id, "Code": error.code, "Message": error.message},
        status=error.status,
        headers=headers,
    )


class _DroppedError(Exception):
    """Raised to abandon a request whose connection a fault dropped."""


async def _handle_api(request: web.Request) -> web.StreamResponse:
    emulator: Emulator = request.app[EMULATOR_KEY]
    request_id = _new_request_id()
    body = await request.read()
    query = parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True)
    headers = {name.lower(): request.headers.getall(name) for name in request.headers}
    params = dict(query)
    content_type = request.headers.get("content-type", "")
    if body and content_type.startswith("application/x-www-form-urlencoded"):
        # RPC parameters may also travel as a form body (signed via the body hash
        # in V3, as extra parameters in V1).
        form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        params.update(form)
    authorization = request.headers.get("authorization", "")
    is_v3 = authorization.startswith("ACS3-")
    scheme = "v3" if is_v3 else ("v1" if "Signature" in params else None)
    # V3 names the action in a header, V1 in the query; unsigned requests may
    # use either, so that they still get the signature error they deserve.
    use_headers = is_v3 or "Action" not in params
    action = request.headers.get("x-acs-action") if use_headers else params.get("Action")
    key_id = (
        authorization.partition("Credential=")[2].split(",")[0] or None
        if is_v3
        else params.get("AccessKeyId")
    )
    entry: dict[str, Any] = {
        "action": action,
        "params": redact(params),
        "request_id": request_id,
        "signature": scheme,
        "access_key_id": key_id,
    }
    await emulator.settle()
    try:
        if not action:
            raise missing_parameter("Action")
        version = request.headers.get("x-acs-version") if use_headers else params.get("Version")
        if version != _actions.API_VERSION:
            raise api_error(
                "InvalidVersion",
                f"Specified parameter Version is not valid: this endpoint serves "
                f"{_actions.API_VERSION}.",
            )
        handler = _actions.ACTIONS.get(action)
        if handler is None:
            raise api_error(
                "InvalidAction.NotFound",
                f"Specified api is not found, please check your url and method: {action}.",
                status=404,
            )
        signed = SignedRequest(request.method, request.path, query, headers, body)
        emulator.verifier.verify(signed)
        fault = emulator.take_fault(action)
        if fault is not None:
            await _apply_fault(fault, request)
        document = await emulator.run(
            _call_action, emulator, handler, action in _actions.WRITE_ACTIONS, params, request_id
        )
    except _DroppedError:
        emulator.record(**entry, status=0, code="Fault.ConnectionDropped")
        log.info("%s dropped (fault)", action)
        # The transport is already aborted: this response is never sent.
        return web.Response(status=500)
    except ApiError as error:
        emulator.record(**entry, status=error.status, code=error.code)
        log.info(
            "%s %s %s%s",
            action,
            error.status,
            error.code,
            " (auth)" if isinstance(error, AuthError) else "",
        )
        return _error_response(error, request_id)
    emulator.record(**entry, status=200, code=None)
    log.info("%s 200", action)
    response_id = document.pop("RequestId", request_id)
    return web.json_response(
        {"RequestId": response_id, **document}, headers={"x-acs-request-id": response_id}
    )


def _call_action(
    emulator: Emulator,
    handler: _actions.Handler,
    write: bool,
    params: Mapping[str, str],
    request_id: str,
) -> dict[str, Any]:
    # Tasks due by now finish first, so that no answer shows a stale status.
    emulator.tick()
    document = handler(emulator.model, params, request_id)
    if write:
        emulator.persist()
    return document


async def _apply_fault(fault: Fault, request: web.Request) -> None:
    if fault.kind == "latency":
        await asyncio.sleep((fault.latency_ms or 0) / 1000)
        return
    if fault.kind == "drop":
        transport = request.transport
        if transport is not None:
            transport.abort()  # close without sending a single byte
        raise _DroppedError
    assert fault.code is not None
    error = api_error(fault.code, fault.message, fault.status)
    error.retry_after_ms = fault.retry_after_ms
    raise error


# --- the admin API --------------------------------------------------------------


def _admin_error(status: int, message: str, code: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if code:
        body["code"] = code
    return web.json_response(body, status=status)


async def _json_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return {}
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError("body must be valid JSON") from None


@web.middleware
async def _admin_guard(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Admin routes: loopback peers only; domain errors become JSON 4xx."""
    if not request.path.startswith(ADMIN_PREFIX):
        return await handler(request)
    if not is_loopback(request.remote):
        return _admin_error(403, "the admin API is only served to loopback clients")
    try:
        await request.app[EMULATOR_KEY].settle()
        return await handler(request)
    except ValueError as exc:
        return _admin_error(400, str(exc))
    except ApiError as exc:
        return _admin_error(exc.status, exc.message, exc.code)
    except BackendError as exc:
        return _admin_error(409, str(exc))
    except StartupFailedError as exc:
        return _admin_error(500, str(exc))


def _admin_routes(emulator: Emulator) -> web.RouteTableDef:
    routes = web.RouteTableDef()
    p = ADMIN_PREFIX

    @routes.get(f"{p}/requests")
    async def list_requests(request: web.Request) -> web.Response:
        action = request.query.get("action")
        entries = [e for e in emulator.requests if action is None or e["action"] == action]
        return web.json_response({"requests": entries})

    @routes.delete(f"{p}/requests")
    async def clear_requests(request: web.Request) -> web.Response:
        emulator.requests.clear()
        return web.json_response({"cleared": True})

    @routes.post(f"{p}/faults")
    async def add_fault(request: web.Request) -> web.Response:
        fault = emulator.add_fault(await _json_body(request))
        return web.json_response({"id": fault.id}, status=201)

    @routes.get(f"{p}/faults")
    async def list_faults(request: web.Request) -> web.Response:
        return web.json_response({"faults": [asdict(f) for f in emulator.faults]})

    @routes.delete(f"{p}/faults")
    async def clear_faults(request: web.Request) -> web.Response:
        emulator.faults.clear()
        return web.json_response({"cleared": True})

    @routes.get(f"{p}/state")
    async def state(request: web.Request) -> web.Response:
        return web.json_response(await emulator.run(emulator.state_document))

    @routes.post(f"{p}/reset")
    async def reset(request: web.Request) -> web.Response:
        await emulator.run(emulator.reset)
        return web.json_response({"reset": True})

    @routes.post(f"{p}/tasks/hold")
    async def hold_tasks(request: web.Request) -> web.Response:
        await emulator.run(_persisting(emulator, emulator.model.hold_tasks))
        return web.json_response({"held": True})

    @routes.post(f"{p}/tasks/release")
    async def release_tasks(request: web.Request) -> web.Response:
        finished = await emulator.run(_persisting(emulator, emulator.model.release_tasks))
        return web.json_response({"held": False, "finished": finished})

    @routes.post(f"{p}/clusters")
    async def add_cluster(request: web.Request) -> web.Response:
        try:
            seed_cluster = parse_cluster(await _json_body(request))
        except SeedError as exc:
            raise ValueError(str(exc)) from None
        await emulator.run(_persisting(emulator, emulator.model.add_cluster), seed_cluster)
        return web.json_response({"id": seed_cluster.id}, status=201)

    @routes.patch(f"{p}/clusters/{{cluster}}")
    async def patch_cluster(request: web.Request) -> web.Response:
        changes = _changes(await _json_body(request), {"status", "description"})
        cluster = await emulator.run(
            _persisting(emulator, emulator.model.patch_cluster),
            request.match_info["cluster"],
            changes,
        )
        return web.json_response({"id": cluster.id, "status": cluster.status})

    @routes.get(f"{p}/clusters/{{cluster}}/sql")
    async def sql_login(request: web.Request) -> web.Response:
        login = await emulator.run(emulator.model.sql_login, request.match_info["cluster"])
        return web.json_response(login)

    @routes.delete(f"{p}/clusters/{{cluster}}/accounts/{{name}}")
    async def delete_account(request: web.Request) -> web.Response:
        await emulator.run(
            _persisting(emulator, emulator.model.delete_account_now),
            request.match_info["cluster"],
            request.match_info["name"],
        )
        return web.json_response({"deleted": True})

    @routes.patch(f"{p}/clusters/{{cluster}}/accounts/{{name}}")
    async def patch_account(request: web.Request) -> web.Response:
        allowed = {"type", "lock_state", "password", "status", "privileges_revoked", "description"}
        changes = _changes(await _json_body(request), allowed)
        cluster_id, name = request.match_info["cluster"], request.match_info["name"]

        def patch() -> dict[str, Any]:
            account = emulator.model.patch_account(cluster_id, name, changes)
            emulator.persist()
            return {
                "name": account.name,
                "type": account.type,
                "lock_state": account.lock_state,
                "status": account.status,
                **emulator.model.clusters[cluster_id].database.describe(name),
            }

        return web.json_response(await emulator.run(patch))

    @routes.post(f"{p}/clusters/{{cluster}}/accounts/{{name}}/verify-password")
    async def verify_password(request: web.Request) -> web.Response:
        body = _changes(await _json_body(request), {"password"})
        password = body.get("password")
        if not isinstance(password, str):
            raise ValueError("password must be a string")
        match = await emulator.run(
            emulator.model.verify_password,
            request.match_info["cluster"],
            request.match_info["name"],
            password,
        )
        return web.json_response({"match": match})

    return routes


def _persisting(emulator: Emulator, fn: Callable[..., _T]) -> Callable[..., _T]:
    """``fn`` followed by a save of the state file."""

    def call(*args: Any) -> _T:
        result = fn(*args)
        emulator.persist()
        return result

    return call


def _changes(body: object, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValueError(
            f"unknown key(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    return body


EMULATOR_KEY = web.AppKey("emulator", Emulator)


def build_app(emulator: Emulator) -> web.Application:
    """The aiohttp application serving ``emulator``."""
    app = web.Application(middlewares=[_admin_guard], client_max_size=1024 * 1024)
    app[EMULATOR_KEY] = emulator
    app.add_routes(_admin_routes(emulator))
    app.router.add_post("/", _handle_api)
    app.cleanup_ctx.append(_task_finisher)
    return app


async def _task_finisher(app: web.Application) -> AsyncIterator[None]:
    runner = asyncio.create_task(app[EMULATOR_KEY].finish_tasks_in_background())
    yield
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner


async def start_site(
    emulator: Emulator,
    *,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
) -> tuple[web.AppRunner, int]:
    """Start serving ``emulator``; return the runner (to clean up) and the bound port."""
    # access_log=None: aiohttp's access log would print query strings, which
    # carry passwords.
    runner = web.AppRunner(build_app(emulator), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    server = site._server
    assert server is not None
    bound_port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
    return runner, bound_port


async def serve(
    emulator: Emulator,
    *,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
    on_ready: Callable[[int], None],
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until ``stop`` is set (default: until SIGTERM/SIGINT); ``on_ready(port)`` once listening."""
    runner, bound_port = await start_site(emulator, host=host, port=port, ssl_context=ssl_context)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    on_ready(bound_port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
