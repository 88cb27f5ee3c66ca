"""Adapting to the process that runs the provider: Pulumi's dynamic provider host.

The host (``python -m pulumi.dynamic``, pulumi 3.260.0) reports every
exception of a provider method with ``context.abort(UNKNOWN,
traceback.format_exc())`` in its ``_abort_with_traceback`` wrapper, and offers
no supported way to report an error without a traceback: no exception type,
gRPC status or ``InputPropertyError`` handling (that exists only in
``pulumi.provider``'s component provider server). For a :class:`ResetError`
the message alone is the whole story, so this module swaps the ``traceback``
name that the wrapper reads for a stand-in that returns only that message,
after checking that the host has exactly the shape the swap relies on. When it
has not, nothing is patched (errors keep their traceback) and a warning is
logged once. Everything else (bugs) keeps its full traceback either way.

Warnings and messages: the engine starts every provider plugin with its own address
as the first argument (the plugin protocol's ``Engine.Log`` service, which the dynamic
provider host leaves unused). :func:`warn` sends a warning there, so it shows as a real
``warning:`` in the engine's output; the provider's INFO records go there as messages and
its DEBUG records as debug messages (:class:`EngineLogHandler`), which the CLI shows only
with ``--debug``, so a normal run prints only what users act on. Each carries the URN of
the resource whose operation the host is serving on this thread (:func:`current_urn`, read
from the request of the host's servicer method running on this thread), so the CLI shows
it with that resource, once, and not on the stack (which is where the host's stderr and a
log call without a URN land, and where the CLI repeated them with every status line of the
stack). Anywhere else (tests, another host) they go to the provider's log.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import re
import sys
import threading
import traceback
import types
from typing import Any, Final

from .._engine_log import EngineLog, Severity
from ..core._errors import ResetError

log = logging.getLogger("pulumi_polardb_reset")

HOST_MODULE: Final = "pulumi.dynamic.__main__"
#: The servicer methods the host wraps with ``_abort_with_traceback``.
WRAPPED_METHODS: Final = ("Check", "Diff", "Create", "Read", "Update", "Delete")

_warned = False
#: The code of the host's servicer wrapper, once adopted (see current_urn).
_adopted: dict[str, types.CodeType | None] = {}
_ENGINE_ADDRESS: Final = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):\d{1,5}$")
_engine_lock = threading.Lock()
_engine = EngineLog()
#: Whether the engine's address was looked up (once: it is the host's first argument).
_engine_connected: list[bool] = []


class Adoption(enum.Enum):
    """What :func:`adopt` did."""

    NOT_A_HOST = "not running in the dynamic provider host"
    PATCHED = "one-line errors installed"
    ALREADY = "one-line errors were already installed"
    UNKNOWN_SHAPE = "host shape not recognised; errors keep their traceback"


class UserFacingTraceback:
    """Stands in for the ``traceback`` module inside the dynamic provider host.

    ``format_exc()`` of a :class:`ResetError` is its message alone; anything
    else still gets its traceback, which is a bug report.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)

    def format_exc(self, limit: int | None = None, chain: bool = True) -> str:
        """The message of a :class:`ResetError`, else ``traceback.format_exc()``."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ResetError):
            return f"{exc}\n"
        return traceback.format_exc(limit=limit, chain=chain)


def running_host() -> types.ModuleType | None:
    """The dynamic provider host module when this process is one, else None."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return main if spec is not None and spec.name == HOST_MODULE else None


def _reporting_code(host: types.ModuleType) -> types.CodeType | None:
    # The code object of the wrapper that _abort_with_traceback returns, when that
    # wrapper reports errors through context.abort(..., traceback.format_exc()).
    factory = getattr(host, "_abort_with_traceback", None)
    code = getattr(factory, "__code__", None)
    if not isinstance(code, types.CodeType):
        return None
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and {"traceback", "format_exc", "abort"} <= set(
            const.co_names
        ):
            return const
    return None


def has_known_shape(host: types.ModuleType) -> bool:
    """Tell whether ``host`` reports errors exactly the way the patch expects.

    Its ``traceback`` global is the stdlib module (or the stand-in), its
    ``_abort_with_traceback`` wrapper calls ``context.abort`` with
    ``traceback.format_exc()``, and every CRUD method of its servicer is that wrapper.
    """
    current = vars(host).get("traceback")
    if current is not traceback and not isinstance(current, UserFacingTraceback):
        return False
    wrapper = _reporting_code(host)
    servicer = getattr(host, "DynamicResourceProviderServicer", None)
    if wrapper is None or servicer is None:
        return False
    return all(
        getattr(getattr(servicer, name, None), "__code__", None) is wrapper
        for name in WRAPPED_METHODS
    )


def current_urn() -> str:
    """The URN of the resource whose operation this thread serves in the host, else ``""``.

    The host registers its servicer's bound methods with gRPC before the provider module
    is imported, so they cannot be wrapped from here; instead this finds, up the current
    thread's stack, the frame of the host's ``_abort_with_traceback`` wrapper (the shape
    :func:`adopt` checked) and reads the URN of its ``request``.
    """
    code = _adopted.get("wrapper")
    frame = sys._getframe(1) if code is not None else None
    while frame is not None:
        if frame.f_code is code:
            urn = getattr(frame.f_locals.get("request"), "urn", "")
            return urn if isinstance(urn, str) else ""
        frame = frame.f_back
    return ""


def adopt(host: types.ModuleType | None) -> Adoption:
    """Install one-line errors into ``host`` when it has the known shape; warn once if not.

    With the known shape, warnings and messages also name the resource being served
    (:func:`current_urn`).
    """
    global _warned
    if host is None:
        return Adoption.NOT_A_HOST
    if isinstance(vars(host).get("traceback"), UserFacingTraceback):
        return Adoption.ALREADY
    if not has_known_shape(host):
        if not _warned:
            _warned = True
            log.warning(
                "this Pulumi SDK's dynamic provider host reports errors differently than "
                "the one pulumi-polardb-reset knows; errors will be shown with a Python traceback"
            )
        return Adoption.UNKNOWN_SHAPE
    host.traceback = UserFacingTraceback()  # type: ignore[attr-defined]
    _adopted["wrapper"] = _reporting_code(host)
    return Adoption.PATCHED


def setup_logging() -> None:
    """In the host: DEBUG and INFO to the engine's log with the resource's URN, the rest (and
    what the engine cannot take) to stderr, which the engine shows on the stack."""
    if not log.handlers:
        formatter = logging.Formatter("pulumi-polardb-reset: %(message)s")
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
        handler.setLevel(logging.INFO)
        handler.addFilter(lambda record: not getattr(record, "sent_to_engine", False))
        engine = EngineLogHandler(logging.DEBUG)
        engine.setFormatter(formatter)
        # The engine's handler first: it marks what it delivered, the stderr handler skips it.
        log.addHandler(engine)
        log.addHandler(handler)
        log.setLevel(logging.DEBUG if engine_address() is not None else logging.INFO)


def adopt_running_host() -> Adoption:
    """At import of the provider module: adapt to the dynamic provider host, if this is one."""
    host = running_host()
    if host is not None:
        setup_logging()
    return adopt(host)


def engine_address(host: types.ModuleType | None = None) -> str | None:
    """The engine's gRPC address when this process is the dynamic provider host, else None."""
    if (host if host is not None else running_host()) is None:
        return None
    arg = sys.argv[1] if len(sys.argv) > 1 else ""
    return arg if _ENGINE_ADDRESS.match(arg) else None


def _engine_log(severity: Severity, message: str) -> bool:
    """Send ``message`` to the engine's log at ``severity``, with the URN being served;
    False when it could not."""
    with _engine_lock:
        if not _engine_connected:
            _engine.connect(engine_address())
            _engine_connected.append(True)
    return _engine.send(severity, message, current_urn())


def warn(message: str) -> None:
    """Report ``message`` as an engine warning (the provider log outside the provider host).

    The message must already be free of secrets. A failure to reach the engine falls back
    to the provider log (stderr), which the engine shows too.
    """
    if not _engine_log("WARNING", message):
        log.warning("warning: %s", message)


class EngineLogHandler(logging.Handler):
    """Sends the provider's DEBUG and INFO records to the engine's log, with their resource.

    DEBUG records are the engine's debug messages (``pulumi up --debug``): what only helps
    diagnose the provider (how the host was adapted, retries, queue turns, SQL check
    details); the engine cannot take them, they are dropped. INFO records are messages shown
    with the resource being served (the reset's request ID, why a diff resets); the engine
    cannot take them, the stderr handler prints them. Warnings and errors are left to
    stderr (bugs, and what is not about one resource).
    """

    def emit(self, record: logging.LogRecord) -> None:
        """Forward one DEBUG or INFO record to the engine; mark it when delivered."""
        if record.levelno >= logging.WARNING:
            return
        severity: Severity = "DEBUG" if record.levelno < logging.INFO else "INFO"
        with contextlib.suppress(Exception):
            record.sent_to_engine = _engine_log(severity, self.format(record))
