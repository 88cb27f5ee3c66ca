"""The engine's Log service, the one client of both engines that run inside Pulumi.

The dynamic provider host (``dynamic._host``) and the native plugin (``native._server``)
both send the user's warnings (and debug detail) to the engine with the resource's URN,
so that ``pulumi up`` shows them with the resource. Outside the layers: it speaks only the
protocol, and each engine decides what to do when the engine cannot be told.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal

import grpc  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc
else:
    from ._proto import engine_pb2, engine_pb2_grpc

Severity = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
#: How long one log line may take to deliver before the engine is given up on for it.
SEND_TIMEOUT_SECONDS = 10


class EngineLog:
    """A connection to the engine's Log service (none until :meth:`connect` gets an address)."""

    def __init__(self) -> None:
        self._stub: Any = None
        self._lock = threading.Lock()

    def connect(self, address: str | None) -> None:
        """Use the engine at ``address`` (host:port) from now on; None or "" changes nothing."""
        if not address:
            return
        with self._lock:
            self._stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address))

    @property
    def connected(self) -> bool:
        """Whether there is an engine to tell."""
        with self._lock:
            return self._stub is not None

    def send(self, severity: Severity, message: str, urn: str = "") -> bool:
        """Send one message; False when there is no engine or it did not take it (never
        raises: no operation fails for a log line)."""
        with self._lock:
            stub = self._stub
        if stub is None:
            return False
        try:
            stub.Log(
                engine_pb2.LogRequest(
                    severity=getattr(engine_pb2, severity), message=message, urn=urn
                ),
                timeout=SEND_TIMEOUT_SECONDS,
            )
        except grpc.RpcError:
            return False
        return True
