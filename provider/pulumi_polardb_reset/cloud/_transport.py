"""The HTTP exchange of the provider's SDK calls, bounded in time and size.

The Alibaba Cloud SDK signs a request and hands it to ``DaraCore.do_action`` (darabonba),
which sends it with ``requests`` and socket timeouts only: a connect timeout, and a read
timeout that applies to *each* socket read. An endpoint that answers one byte every few
seconds therefore keeps a call alive for as long as it likes, and the whole body is read
into memory whatever its size.

:func:`run_bounded` runs one SDK call under a :class:`CallBudget`: in a daemon worker thread
that the caller waits for at most ``budget.seconds``. While a budget is active in the
calling thread, :func:`install`'s ``do_action`` sends the SDK's request itself:

* connect and read timeouts are the SDK's, cut to what remains of the budget (plus half a
  second, so that running out of budget is always reported as such);
* the body is read in chunks and refused beyond ``budget.max_body_bytes``
  (:class:`ResponseTooLargeError`; a declared ``Content-Length`` is refused before reading);
* every socket the call opens or reuses is tracked; when the budget runs out, the caller
  stops waiting, raises :class:`DeadlineExceededError` and shuts those sockets down, which
  ends the worker's blocked read at once. Name resolution, which no socket timeout covers,
  is bounded too: the caller never waits longer, and a worker that resolves late finds its
  budget cancelled and sends nothing;
* no redirects are followed, no cookies kept, and nothing of the request target (the query
  string carries ``AccountPassword``) is logged, ``DEBUG=sdk`` or not.

Without an active budget (any other user of the SDK in the process) ``do_action`` is the
SDK's own, unchanged. The worker's exception or result is handed back to the caller as is,
so the client's error classification is the same either way.
"""

from __future__ import annotations

import contextlib
import contextvars
import http.client
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ._retry import LAST_ATTEMPT_SECONDS

__all__ = [
    "ATTEMPT_SECONDS",
    "LAST_ATTEMPT_SECONDS",
    "MAX_BODY_BYTES",
    "CallBudget",
    "DeadlineExceededError",
    "ResponseTooLargeError",
    "install",
    "run_bounded",
]

log = logging.getLogger("pulumi_polardb_reset")
T = TypeVar("T")

#: Upper bound of one attempt (connect, request, headers, body), when the deadline is further.
ATTEMPT_SECONDS: Final = 30.0
#: The largest response body accepted. PolarDB answers are a few KiB (DescribeAccounts with
#: 100 accounts is about 50 KiB).
MAX_BODY_BYTES: Final = 2 * 1024 * 1024
_CHUNK_BYTES: Final = 64 * 1024
_SOCKET_GRACE_SECONDS: Final = 0.5
_MARK: Final = "_pulumi_polardb_reset_bounded"


class DeadlineExceededError(TimeoutError):
    """The endpoint did not complete its answer within the call's budget (a transport failure)."""


class ResponseTooLargeError(Exception):
    """The endpoint's answer is larger than any PolarDB API response (not an API response)."""


class CallBudget:
    """Time and size limits of one SDK call, and the sockets it uses (to cut them off).

    ``seconds`` bounds the whole call, from now. Thread-safe: the worker tracks sockets
    while the caller may cancel.
    """

    def __init__(self, seconds: float, *, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.seconds = seconds
        self.max_body_bytes = max_body_bytes
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._cancelled = False
        self._sockets: list[socket.socket] = []
        self._duplicates: list[socket.socket] = []

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._end - time.monotonic())

    @property
    def cancelled(self) -> bool:
        """Tell whether the caller has given up on this call."""
        return self._cancelled

    def check(self) -> None:
        """Raise :class:`DeadlineExceededError` when the call must not go on."""
        if self._cancelled or self.remaining() <= 0:
            raise DeadlineExceededError(self.exceeded_message())

    def exceeded_message(self) -> str:
        """What the failure says (no request content)."""
        return (
            f"the endpoint did not complete its answer within {self.seconds:.1f} s "
            "(connect, request, headers and body)"
        )

    def track(self, sock: socket.socket, *, duplicate: bool = False) -> None:
        """Remember ``sock`` to shut it down on :meth:`cancel`; at once when already cancelled.

        ``duplicate`` marks a ``dup()`` this budget owns and closes (see ``_BoundedConnection``).
        """
        with self._lock:
            if not self._cancelled:
                (self._duplicates if duplicate else self._sockets).append(sock)
                return
        _shutdown(sock)
        if duplicate:
            sock.close()

    def cancel(self) -> None:
        """Give up: shut down every tracked socket, which ends a read blocked on it."""
        with self._lock:
            self._cancelled = True
            sockets, self._sockets = self._sockets, []
            duplicates, self._duplicates = self._duplicates, []
        for sock in (*sockets, *duplicates):
            _shutdown(sock)
        for sock in duplicates:
            sock.close()

    def release(self) -> None:
        """The call is over: close the duplicates, forget the sockets (they stay pooled)."""
        with self._lock:
            duplicates, self._duplicates = self._duplicates, []
            self._sockets = []
        for sock in duplicates:
            sock.close()


def _shutdown(sock: socket.socket) -> None:
    # Already closed or never connected: nothing to cut off.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


_ACTIVE: contextvars.ContextVar[CallBudget | None] = contextvars.ContextVar(
    "pulumi_polardb_reset_call_budget", default=None
)


def run_bounded(fn: Callable[[], T], budget: CallBudget) -> T:
    """Run ``fn`` (an SDK call) under ``budget``; return its result or raise its exception.

    Raises :class:`DeadlineExceededError` once ``budget.seconds`` have passed without an
    outcome; the worker is then cut off (its sockets shut down) and left to end on its own.
    """
    outcome: list[tuple[bool, Any]] = []
    finished = threading.Event()

    def work() -> None:
        _ACTIVE.set(budget)  # a new thread starts with an empty context
        try:
            outcome.append((True, fn()))
        except BaseException as exc:  # handed to the caller below, in its own thread
            outcome.append((False, exc))
        finally:
            finished.set()

    worker = threading.Thread(target=work, name="polardb-api-call", daemon=True)
    worker.start()
    if not finished.wait(budget.seconds):
        budget.cancel()
        raise DeadlineExceededError(budget.exceeded_message())
    budget.release()
    ok, value = outcome[0]
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


# -- the transport -------------------------------------------------------------------------


class _TrackedMixin:
    """Connection hooks: track every socket with the active budget; refuse a cancelled call.

    A socket is tracked as a ``dup()`` when it is created, because a TLS handshake replaces
    (detaches) the socket object that ``_new_conn`` returns while the handshake still
    reads from the same connection; shutting down the duplicate cuts that connection.
    """

    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        budget = _ACTIVE.get()
        if budget is not None:
            budget.check()
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        if budget is not None:
            budget.track(sock.dup(), duplicate=True)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        budget = _ACTIVE.get()
        if budget is not None:
            budget.check()  # never send a request the caller has given up on
            if self.sock is not None:  # a pooled connection, reused
                budget.track(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _BoundedHTTPConnection(_TrackedMixin, HTTPConnection):
    pass


class _BoundedHTTPSConnection(_TrackedMixin, HTTPSConnection):
    pass


class _BoundedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _BoundedHTTPConnection


class _BoundedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _BoundedHTTPSConnection


_POOLS: Final = {"http": _BoundedHTTPPool, "https": _BoundedHTTPSPool}


class _BoundedAdapter(HTTPAdapter):
    """``requests``' adapter with connections that report their sockets to the budget."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS has its own connection classes
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


# One adapter for every call, like the SDK's shared sessions: pooled connections are reused
# across operations. Used directly (not through a Session): no redirects, no cookie jar.
_ADAPTER: Final = _BoundedAdapter(pool_connections=10, pool_maxsize=40)


def _seconds(value: Any, default_ms: int) -> float:
    try:
        ms = float(value) if value else float(default_ms)
    except (TypeError, ValueError):
        ms = float(default_ms)
    return ms / 1000.0


def _proxies(runtime: dict[str, Any]) -> dict[str, str]:
    # As darabonba's do_action: runtime options first, then HTTP(S)_PROXY.
    proxies: dict[str, str] = {}
    http_proxy = (
        runtime.get("httpProxy") or os.environ.get("HTTP_PROXY") or os.environ.get("http_proxy")
    )
    https_proxy = (
        runtime.get("httpsProxy") or os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy")
    )
    if http_proxy:
        proxies["http"] = http_proxy
    if https_proxy:
        proxies["https"] = https_proxy
    return proxies


def _read_body(response: requests.Response, budget: CallBudget) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > budget.max_body_bytes:
        raise ResponseTooLargeError(
            f"the endpoint announced a {int(declared):,}-byte answer; a PolarDB API response "
            f"is at most {budget.max_body_bytes:,} bytes"
        )
    body = bytearray()
    for chunk in response.raw.stream(_CHUNK_BYTES, decode_content=True):
        body += chunk
        if len(body) > budget.max_body_bytes:
            raise ResponseTooLargeError(
                f"the endpoint's answer exceeds {budget.max_body_bytes:,} bytes, more than "
                "any PolarDB API response"
            )
        budget.check()
    return bytes(body)


def _send(request: Any, runtime: dict[str, Any], budget: CallBudget) -> Any:
    """``DaraCore.do_action`` within ``budget`` (same arguments, same ``DaraResponse``)."""
    from darabonba.core import DaraCore
    from darabonba.exceptions import RetryError
    from darabonba.response import DaraResponse

    budget.check()
    url = DaraCore.compose_url(request)
    verify: bool | str = not runtime.get("ignoreSSL", False)
    if verify and runtime.get("ca") is not None:
        verify = str(runtime["ca"])
    body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
    prepared = requests.PreparedRequest()
    prepared.prepare(method=request.method.upper(), url=url, data=body, headers=request.headers)
    # The SDK's socket timeouts, cut to what remains. A little more than what remains: when
    # the budget runs out, the caller's wait ends first and reports it, always the same way.
    limit = budget.remaining() + _SOCKET_GRACE_SECONDS
    timeout = (
        min(_seconds(runtime.get("connectTimeout"), 5000), limit),
        min(_seconds(runtime.get("readTimeout"), 10000), limit),
    )
    started = time.monotonic()
    response: requests.Response | None = None
    try:
        response = _ADAPTER.send(
            prepared,
            stream=True,
            timeout=timeout,
            verify=verify,
            cert=runtime.get("cert"),
            proxies=_proxies(runtime),
        )
        content = _read_body(response, budget)
    except (OSError, urllib3.exceptions.HTTPError, http.client.HTTPException) as exc:
        if response is not None:
            response.close()
        # As the SDK's own do_action: an I/O failure is a RetryError raised while handling
        # it (the client finds the cause in __context__).
        raise RetryError(str(exc))  # noqa: B904
    except BaseException:
        if response is not None:
            response.close()
        raise
    response.raw.release_conn()  # fully read: the connection may serve the next call
    log.debug(
        "HTTP %s %s://%s%s -> %s, %d bytes in %.2f s (query string not logged)",
        request.method.upper(),
        request.protocol.lower(),
        str(request.headers.get("host", "")).rstrip("/"),
        request.pathname,
        response.status_code,
        len(content),
        time.monotonic() - started,
    )
    answer = DaraResponse()
    answer.status_message = response.reason
    answer.status_code = response.status_code
    answer.headers = {k.lower(): v for k, v in response.headers.items()}
    answer.body = content
    answer.response = response
    return answer


_install_lock = threading.Lock()


def install() -> None:
    """Route ``DaraCore.do_action`` through :func:`_send` while a budget is active (idempotent).

    Other callers in the process (no active budget) keep the SDK's own transport.
    """
    from darabonba.core import DaraCore

    with _install_lock:
        if getattr(DaraCore.do_action, _MARK, False):
            return
        original = DaraCore.do_action

        def do_action(request: Any, runtime_option: Any = None) -> Any:
            budget = _ACTIVE.get()
            if budget is None:
                return original(request, runtime_option)
            return _send(request, dict(runtime_option or {}), budget)

        setattr(do_action, _MARK, True)
        DaraCore.do_action = staticmethod(do_action)
