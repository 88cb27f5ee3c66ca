"""Serving the application: the listening sockets, the connection handler, HTTP-level errors.

Built on public aiohttp and asyncio APIs only: an ``AppRunner`` runs the
application, ``loop.create_server`` listens, and each connection is handled
by :class:`ConnectionHandler`, aiohttp's ``RequestHandler`` with two changes:

* an HTTP-level error (a request line or header aiohttp cannot parse, a body
  it cannot read) gets the documented JSON error, never aiohttp's plain text,
  which quotes the request line, ``AccountPassword=...`` included;
* it logs one escaped line without request content instead of aiohttp's
  traceback of the parser error (which quotes the request line too).

Errors aiohttp raises inside the application (404, 405, 413) become the same
JSON through :func:`json_errors`.

Slow or idle clients cannot hold the server (:class:`HttpLimits`): a
connection that does not complete its request headers within the client
timeout, or stays idle that long between requests, is closed (aiohttp's
keep-alive timer, armed from the start of each connection); a body must
arrive within it too (``408``). At most ``max_connections`` are kept: when a
new one comes, the connection idle longest is closed to make room (idle: no
request being handled), so idle sockets can never lock out a client that
sends a request. Running out of file descriptors anyway is logged once a
minute, not once per failed ``accept()``.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import resource
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from ._emulator import ADMIN_PREFIX
from ._exceptions import CATALOG
from ._logs import escape

log = logging.getLogger("polardb_emulator")
# aiohttp's access log would print request lines, and so query strings, which
# carry passwords: connections get a logger that is switched off.
_NO_ACCESS_LOG = logging.getLogger("polardb_emulator.access")
_NO_ACCESS_LOG.disabled = True
#: Largest request body (RPC form bodies and admin JSON alike), in bytes.
MAX_BODY = 256 * 1024
#: Seconds between two log lines about the same resource problem.
_LOG_EVERY = 60.0


def default_max_connections() -> int:
    """Half the open-files limit left after a reserve (for the state file, database
    connections, ...), between 16 and 1,024."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1024
    return max(16, min(1024, (soft - 64) // 2))


@dataclass(frozen=True)
class HttpLimits:
    """How long clients may take and how many connections are kept."""

    #: Seconds a client has to send its request headers (from connecting, or from
    #: the previous response on a keep-alive connection) and, separately, its body.
    client_timeout: float = 30.0
    #: Connections kept open at once (None: from the open-files limit).
    max_connections: int | None = None

    def connection_limit(self) -> int:
        """``max_connections`` or :func:`default_max_connections`."""
        return self.max_connections or default_max_connections()


LIMITS_KEY = web.AppKey("http_limits", HttpLimits)


class _Throttled:
    """Logs a warning at most once per :data:`_LOG_EVERY` seconds per topic."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._skipped: dict[str, int] = {}

    def warning(self, topic: str, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last.get(topic, -_LOG_EVERY) < _LOG_EVERY:
            self._skipped[topic] = self._skipped.get(topic, 0) + 1
            return
        skipped = self._skipped.pop(topic, 0)
        suffix = f" ({skipped} more since the last line)" if skipped else ""
        self._last[topic] = now
        log.warning(message + "%s", *args, suffix)


_throttled = _Throttled()

# aiohttp's own error statuses -> the catalogue code the emulator answers with.
_CODES = {
    400: "MalformedRequest",
    404: "InvalidAction.NotFound",
    405: "UnsupportedHTTPMethod",
    408: "RequestTimeout",
    413: "RequestEntityTooLarge",
}


def new_request_id() -> str:
    """A fresh request ID (upper-case UUID, like the service's)."""
    return str(uuid.uuid4()).upper()


def framework_error(status: int, path: str, headers: dict[str, str] | None = None) -> web.Response:
    """The documented JSON error for an HTTP-level ``status``: the admin API's
    ``{"error"}`` under ``/_emulator``, else the API's ``{"RequestId", "Code", "Message"}``."""
    code = _CODES.get(status)
    message = CATALOG[code][1] if code else f"{status} {HTTPStatus(status).phrase}."
    if path.startswith(ADMIN_PREFIX):
        body: dict[str, Any] = {"error": message}
        return web.json_response(body, status=status, headers=headers)
    request_id = new_request_id()
    body = {"RequestId": request_id, "Code": code or f"Http{status}", "Message": message}
    return web.json_response(
        body, status=status, headers={**(headers or {}), "x-acs-request-id": request_id}
    )


@web.middleware
async def json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """aiohttp's HTTP errors (no route, wrong method, body too large) as JSON."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        log.info("%s %s %s", escape(request.method, 16), escape(request.path, 80), exc.status)
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return framework_error(exc.status, request.path, allow)


class BodyCutShortError(Exception):
    """The client closed its sending side before the whole body arrived."""


async def read_body(request: web.Request) -> bytes:
    """The request body: ``413`` past :data:`MAX_BODY` (aiohttp's own check), ``408`` when
    it does not arrive within the client timeout, ``400`` when the client stopped sending
    before its end (see :meth:`ConnectionHandler.eof_received`)."""
    timeout = request.app[LIMITS_KEY].client_timeout
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise web.HTTPRequestTimeout() from None
    except BodyCutShortError:
        raise web.HTTPBadRequest() from None


@web.middleware
async def count_in_flight(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Marks the connection busy while a request is handled (busy ones are never evicted)."""
    connection = request.protocol
    if not isinstance(connection, ConnectionHandler):
        return await handler(request)
    connection.in_flight += 1
    connection.request_in_flight = request
    if connection.half_closed and not request.content.is_eof():
        # The client stopped sending before this request was picked up.
        request.content.set_exception(BodyCutShortError())
    try:
        return await handler(request)
    finally:
        connection.in_flight -= 1
        connection.request_in_flight = None


class ConnectionHandler(web.RequestHandler):
    """aiohttp's connection handler, answering HTTP-level errors with JSON and logging
    them without request content (see the module doc)."""

    def __init__(self, manager: web.Server, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        #: Requests being handled on this connection (see :func:`count_in_flight`).
        self.in_flight = 0
        #: The request being handled, if any (see :func:`count_in_flight`).
        self.request_in_flight: web.BaseRequest | None = None
        #: Whether the client closed its sending side (see :meth:`eof_received`).
        self.half_closed = False

    def eof_received(self) -> bool:  # type: ignore[override]  # asyncio: bool | None
        """The client closed its sending side (``shutdown(SHUT_WR)``, ``nc -N``): answer what
        it sent, then close.

        aiohttp's handler lets asyncio close the connection at once, so such a client never
        got its answer (found by the raw-HTTP fuzzer). Returning True keeps the transport
        open for writing; :meth:`close` lets the request being handled (or already parsed)
        finish and closes after its answer; a body that can no longer be complete fails with
        ``400`` at once instead of waiting for the client timeout.
        """
        self.half_closed = True
        request = self.request_in_flight
        if request is not None and not request.content.is_eof():
            request.content.set_exception(BodyCutShortError())
        self.close()
        return True

    async def start(self) -> None:
        """aiohttp's request loop; after a half-close it also closes an idle connection.

        (:meth:`close` cancels the wait for a next request, which ends the loop without
        closing the transport.)
        """
        try:
            await super().start()
        finally:
            if self.half_closed and self.transport is not None:
                self.force_close()

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """The JSON error for ``status``; ``exc`` and ``message`` (which quote the request)
        are neither logged nor sent."""
        log.info("HTTP %s from %s: %s", status, escape(request.remote, 64), type(exc).__name__)
        if request.writer.output_size > 0:
            raise ConnectionError("the response has started: cannot send an error instead")
        try:
            path = str(request.path)
        except Exception:  # an unparsable request has no usable path
            path = "/"
        response = framework_error(status, path)
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """One line with the exception's class, never its text (it may quote the request)."""
        exc = kw.get("exc_info")
        if isinstance(exc, BodyCutShortError):
            # aiohttp drains an unread body after the answer: a half-closed client's body
            # ends there too, and its 400 is already sent.
            return
        name = type(exc).__name__ if isinstance(exc, BaseException) else "error"
        log.warning("connection handler: %s", name)


_BUSY = json.dumps(
    {"Code": "ServiceUnavailable", "Message": "Too many connections are busy; retry later."}
).encode()


class _Refused(asyncio.Protocol):
    """A connection over the limit when none can be closed instead: 503, then closed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(_BUSY)}\r\nConnection: close\r\n\r\n".encode()
            + _BUSY
        )
        transport.close()


class _Gate:
    """The protocol factory: a :class:`ConnectionHandler` per accepted connection, at most
    ``limit`` at once (the connection idle longest is closed to make room)."""

    def __init__(
        self, manager: web.Server, make: Callable[[], ConnectionHandler], limit: int
    ) -> None:
        self._manager = manager
        self._make = make
        self.limit = limit

    def __call__(self) -> asyncio.Protocol:
        open_ = [c for c in self._manager.connections if c.transport is not None]
        if len(open_) >= self.limit:
            # Oldest first: the manager keeps connections in the order they came.
            idle = [c for c in open_ if isinstance(c, ConnectionHandler) and not c.in_flight]
            _throttled.warning(
                "limit",
                "connection limit (%d) reached: closing the connections idle longest",
                self.limit,
            )
            if not idle:
                return _Refused()
            idle[0].force_close()
        return self._make()


def _loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The event loop's errors as throttled one-liners (no traceback, no request content)."""
    exc = context.get("exception")
    message = str(context.get("message", "event loop error"))
    if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
        _throttled.warning(
            "descriptors",
            "cannot accept connections: out of file descriptors (%s); retrying every second; "
            "raise the open-files limit (ulimit -n) or lower --max-connections",
            errno.errorcode.get(exc.errno or 0, "?"),
        )
        return
    _throttled.warning(message, "event loop: %s (%s)", escape(message), type(exc).__name__)


class Listener:
    """An application served on listening sockets (stop it with :meth:`close`)."""

    def __init__(self, runner: web.AppRunner, server: asyncio.Server) -> None:
        self._runner = runner
        self._server = server

    @classmethod
    async def start(
        cls, app: web.Application, *, host: str, port: int, ssl_context: ssl.SSLContext | None
    ) -> Listener:
        """Set the application up and listen on ``host:port`` (limits from ``app``)."""
        limits = app.get(LIMITS_KEY) or HttpLimits()
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        manager = runner.server
        assert manager is not None
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(_loop_exception)

        def connection() -> ConnectionHandler:
            return ConnectionHandler(
                manager,
                loop=loop,
                access_log=_NO_ACCESS_LOG,
                logger=log,
                auto_decompress=False,
                # Armed when a connection opens and after each response: also the
                # deadline for a request's headers.
                keepalive_timeout=limits.client_timeout,
                lingering_time=min(2.0, limits.client_timeout),
            )

        gate = _Gate(manager, connection, limits.connection_limit())
        try:
            server = await loop.create_server(
                gate,
                host,
                port,
                ssl=ssl_context,
                ssl_handshake_timeout=limits.client_timeout if ssl_context else None,
            )
        except BaseException:
            await runner.cleanup()
            raise
        return cls(runner, server)

    @property
    def addresses(self) -> list[tuple[Any, ...]]:
        """``getsockname()`` of every listening socket."""
        return [tuple(sock.getsockname()) for sock in self._server.sockets]

    @property
    def endpoint(self) -> tuple[str, int]:
        """Where clients should connect: a bound address (IPv4 first, when a name bound
        several), a wildcard replaced by the loopback address of its family."""
        addresses = sorted(self.addresses, key=len)  # (host, port) before IPv6's 4-tuples
        host, port = str(addresses[0][0]), int(addresses[0][1])
        wildcard = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104
        return wildcard.get(host, host), port

    async def close(self) -> None:
        """Stop listening, close connections, run the application's cleanup."""
        self._server.close()
        await self._runner.cleanup()
