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
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import uuid
from collections.abc import Awaitable, Callable
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


async def read_body(request: web.Request) -> bytes:
    """The request body (``413`` past :data:`MAX_BODY`, through aiohttp's own check)."""
    return await request.read()


class ConnectionHandler(web.RequestHandler):
    """aiohttp's connection handler, answering HTTP-level errors with JSON and logging
    them without request content (see the module doc)."""

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
        name = type(exc).__name__ if isinstance(exc, BaseException) else "error"
        log.warning("connection handler: %s", name)


class Listener:
    """An application served on listening sockets (stop it with :meth:`close`)."""

    def __init__(self, runner: web.AppRunner, server: asyncio.Server) -> None:
        self._runner = runner
        self._server = server

    @classmethod
    async def start(
        cls, app: web.Application, *, host: str, port: int, ssl_context: ssl.SSLContext | None
    ) -> Listener:
        """Set the application up and listen on ``host:port``."""
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        manager = runner.server
        assert manager is not None
        loop = asyncio.get_running_loop()

        def connection() -> ConnectionHandler:
            return ConnectionHandler(
                manager, loop=loop, access_log=_NO_ACCESS_LOG, logger=log, auto_decompress=False
            )

        try:
            server = await loop.create_server(connection, host, port, ssl=ssl_context)
        except BaseException:
            await runner.cleanup()
            raise
        return cls(runner, server)

    @property
    def addresses(self) -> list[tuple[Any, ...]]:
        """``getsockname()`` of every listening socket."""
        return [tuple(sock.getsockname()) for sock in self._server.sockets]

    async def close(self) -> None:
        """Stop listening, close connections, run the application's cleanup."""
        self._server.close()
        await self._runner.cleanup()
