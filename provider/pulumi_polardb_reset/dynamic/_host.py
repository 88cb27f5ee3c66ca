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

Warnings and debug messages: the engine starts every provider plugin with its own address
as the first argument (the plugin protocol's ``Engine.Log`` service, which the dynamic
provider host leaves unused). :func:`warn` sends a warning there, so it shows as a real
``warning:`` in the engine's output; the provider's DEBUG records go there as debug
messages (:class:`EngineDebugHandler`), which the CLI shows only with ``--debug``, so a
normal run prints only what users act on. Anywhere else (tests, another host) both go to
the provider's log.
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

from ..core._errors import ResetError

log = logging.getLogger("pulumi_polardb_reset")

HOST_MODULE: Final = "pulumi.dynamic.__main__"
#: The servicer methods the host wraps with ``_abort_with_traceback``.
WRAPPED_METHODS: Final = ("Check", "Diff", "Create", "Read", "Update", "Delete")

_warned = False
_ENGINE_ADDRESS: Final = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):\d{1,5}$")
_engine_lock = threading.Lock()
_engine: dict[str, Any] = {}


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


def adopt(host: types.ModuleType | None) -> Adoption:
    """Install one-line errors into ``host`` when it has the known shape; warn once if not."""
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
    return Adoption.PATCHED


def setup_logging() -> None:
    """In the host: INFO and above to stderr (shown by the engine), DEBUG to the engine's debug log."""
    if not log.handlers:
        formatter = logging.Formatter("pulumi-polardb-reset: %(message)s")
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
        handler.setLevel(logging.INFO)
        debug = EngineDebugHandler(logging.DEBUG)
        debug.setFormatter(formatter)
        log.addHandler(handler)
        log.addHandler(debug)
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


def _engine_stub() -> Any | None:
    with _engine_lock:
        if "stub" not in _engine:
            address = engine_address()
            stub = None
            if address is not None:
                import grpc  # type: ignore[import-untyped]
                from pulumi.runtime.proto import engine_pb2_grpc

                stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address))
            _engine["stub"] = stub
        return _engine["stub"]


def _engine_log(severity: str, message: str) -> bool:
    """Send ``message`` to the engine's log at ``severity``; False when it could not."""
    stub = _engine_stub()
    if stub is None:
        return False
    from pulumi.runtime.proto import engine_pb2

    try:
        stub.Log(
            engine_pb2.LogRequest(severity=getattr(engine_pb2, severity), message=message, urn=""),
            timeout=10,
        )
        return True
    except Exception:  # grpc.RpcError and friends: never fail an operation for a log line
        return False


def warn(message: str) -> None:
    """Report ``message`` as an engine warning (the provider log outside the provider host).

    The message must already be free of secrets. A failure to reach the engine falls back
    to the provider log (stderr), which the engine shows too.
    """
    if not _engine_log("WARNING", message):
        log.warning("warning: %s", message)


class EngineDebugHandler(logging.Handler):
    """Sends the provider's DEBUG records to the engine's debug log (``pulumi up --debug``).

    In the host, stderr is shown to every user, so what only helps diagnose the provider
    (how the host was adapted, retries, queue turns, SQL check details) goes here instead.
    Records the engine cannot take are dropped: they were debug output.
    """

    def emit(self, record: logging.LogRecord) -> None:
        """Forward one record below INFO to the engine."""
        if record.levelno < logging.INFO:
            with contextlib.suppress(Exception):
                _engine_log("DEBUG", self.format(record))
