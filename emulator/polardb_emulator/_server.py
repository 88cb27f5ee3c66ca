"""The aiohttp application and serving it: the RPC endpoint ``POST /`` and the admin API.

The pieces live in their own modules: ``_emulator`` (the facade over model,
verifier, request log, faults and persistence), ``_rpc`` (the signed API
endpoint), ``_admin`` (the admin API), ``_http`` (listening sockets,
connection handling, HTTP-level errors), ``_faults`` and ``_requestlog``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator

from aiohttp import web

from ._admin import admin_guard, routes
from ._emulator import EMULATOR_KEY, Emulator
from ._http import LIMITS_KEY, MAX_BODY, HttpLimits, Listener, count_in_flight, json_errors
from ._rpc import handle_api

__all__ = ["EMULATOR_KEY", "Emulator", "HttpLimits", "build_app", "serve", "start_site"]


def build_app(emulator: Emulator, limits: HttpLimits | None = None) -> web.Application:
    """The aiohttp application serving ``emulator`` (``limits``: default :class:`HttpLimits`)."""
    app = web.Application(
        middlewares=[count_in_flight, json_errors, admin_guard], client_max_size=MAX_BODY
    )
    app[EMULATOR_KEY] = emulator
    app[LIMITS_KEY] = limits or HttpLimits()
    app.add_routes(routes)
    app.router.add_post("/", handle_api)
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
    limits: HttpLimits | None = None,
) -> Listener:
    """Start serving ``emulator`` on ``host:port``; :meth:`Listener.close` stops it."""
    app = build_app(emulator, limits)
    return await Listener.start(app, host=host, port=port, ssl_context=ssl_context)


async def serve(
    emulator: Emulator,
    *,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
    on_ready: Callable[[tuple[str, int]], None],
    stop: asyncio.Event | None = None,
    limits: HttpLimits | None = None,
) -> None:
    """Serve until ``stop`` is set (default: until SIGTERM/SIGINT); once listening,
    ``on_ready((host, port))`` with the address clients should use (:meth:`Listener.endpoint`)."""
    listener = await start_site(
        emulator, host=host, port=port, ssl_context=ssl_context, limits=limits
    )
    stop_listening: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if stop is None:
        stop = asyncio.Event()
        stop_listening = _stopped_by_signals(stop)
    with stop_listening:
        on_ready(listener.endpoint)
        try:
            await stop.wait()
        finally:
            await listener.close()


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextlib.contextmanager
def _stopped_by_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set ``stop`` at the first SIGTERM or SIGINT; from then on both are ignored for good.

    Not ``loop.add_signal_handler``: closing the loop gives its signals back their default
    action while the servers are still being stopped, and a second SIGTERM then killed the
    emulator, leaving its temporary directory behind. Here the handler ignores both signals
    before anything else, and the loop is woken through the signal wakeup fd (as asyncio's
    own handlers are), whichever thread the signal reached.
    """
    loop = asyncio.get_running_loop()
    wake_read, wake_write = socket.socketpair()
    wake_read.setblocking(False)
    wake_write.setblocking(False)

    def on_signal(signum: int, frame: object) -> None:
        for sig in _STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        loop.call_soon_threadsafe(stop.set)

    def drain() -> None:
        with contextlib.suppress(OSError):
            wake_read.recv(4096)

    loop.add_reader(wake_read, drain)
    previous = signal.set_wakeup_fd(wake_write.fileno())
    handlers = {sig: signal.signal(sig, on_signal) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        # Stopped some other way (an error): the caller's handlers again, not one that
        # would wake a closed loop. After a signal, both stay ignored.
        for sig, handler in handlers.items():
            if signal.getsignal(sig) is on_signal:
                signal.signal(sig, handler)
        signal.set_wakeup_fd(previous)
        loop.remove_reader(wake_read)
        wake_read.close()
        wake_write.close()
