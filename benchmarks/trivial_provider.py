"""A native provider plugin that does nothing: the floor of the native mechanism.

Serves ``trivial:index:Nothing`` (one input, ``value``) over the same gRPC server as
``pulumi-resource-polardb-account`` (``grpcio`` from the Pulumi SDK): Check echoes, Diff
compares, Create/Update return the inputs, Read echoes, Delete does nothing. Benchmarks
compare the real plugin's no-op ``pulumi up`` with this one's.

Run by the engine through a ``pulumi-resource-trivial`` wrapper (see bench_native.py).
"""

from __future__ import annotations

import json
import sys
from concurrent import futures
from typing import Any

import grpc  # type: ignore[import-untyped]
from google.protobuf import empty_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import plugin_pb2, provider_pb2
from pulumi.runtime.proto import provider_pb2_grpc as rpc

SCHEMA = {
    "name": "trivial",
    "version": "0.0.1",
    "resources": {
        "trivial:index:Nothing": {
            "inputProperties": {"value": {"type": "string"}},
            "properties": {"value": {"type": "string"}},
        }
    },
}


class Trivial(rpc.ResourceProviderServicer):
    """Every method answers at once."""

    def Handshake(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.ProviderHandshakeResponse()

    def GetPluginInfo(self, request: Any, context: Any) -> Any:  # noqa: N802
        return plugin_pb2.PluginInfo(version="0.0.1")

    def GetSchema(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.GetSchemaResponse(schema=json.dumps(SCHEMA))

    def CheckConfig(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.DiffResponse()

    def Configure(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.ConfigureResponse(acceptSecrets=True)

    def Check(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.CheckResponse(inputs=request.news)

    def Diff(self, request: Any, context: Any) -> Any:  # noqa: N802
        same = request.olds == request.news
        kind = provider_pb2.DiffResponse.DIFF_NONE if same else provider_pb2.DiffResponse.DIFF_SOME
        return provider_pb2.DiffResponse(changes=kind)

    def Create(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.CreateResponse(id="nothing", properties=request.properties)

    def Update(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.UpdateResponse(properties=request.news)

    def Read(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.ReadResponse(
            id=request.id, properties=request.properties, inputs=request.inputs
        )

    def Delete(self, request: Any, context: Any) -> Any:  # noqa: N802
        return empty_pb2.Empty()

    def Cancel(self, request: Any, context: Any) -> Any:  # noqa: N802
        return empty_pb2.Empty()


def main() -> None:
    """Serve on a free loopback port; print the port (the engine reads it)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=256))
    rpc.add_ResourceProviderServicer_to_server(Trivial(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    server.wait_for_termination()


if __name__ == "__main__":
    main()
