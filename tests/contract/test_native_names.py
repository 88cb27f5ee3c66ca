"""The native plugin's messages name what a native user sets (issue 24, item 11).

A user of the plugin sets camelCase properties (``checkPassword``) and
``polardb-account:<key>`` config; the warnings, check failures and errors the plugin sends
(and the recorded cause of a check that could not tell) say those, never the Python names
of the dynamic resource (``check_password``, ``alicloud:accessKey``). Driven over gRPC, the
plugin started with the address of an engine whose Log service records every message,
against the emulator.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any, Final

import grpc  # type: ignore[import-untyped]
import pytest
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess
from google.protobuf import empty_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import engine_pb2_grpc, provider_pb2, provider_pb2_grpc

from pulumi_polardb_reset.native import _spelling, _wire
from pulumi_polardb_reset.native._server import serve

URN: Final = "urn:pulumi:dev::proj::polardb-account:index:PrivilegedAccountReset::admin"
#: The Python spellings a native user never sets, written out (an oracle apart from the table).
PYTHON_NAMES: Final = re.compile(
    r"account_password|check_password|check_privileges|sql_endpoint|timeout_seconds|"
    r"reset_nonce|db_cluster_id|account_name|password_expiry_warning_days|alicloud:|"
    r"polardbReset:"
)


class RecordingEngine(engine_pb2_grpc.EngineServicer):
    """The engine's Log service: keeps every message the plugin sends."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._lock = threading.Lock()

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:  # noqa: N802 - gRPC name
        with self._lock:
            self.messages.append(request.message)
        return empty_pb2.Empty()


@pytest.fixture
def plugin(emu: EmulatorProcess) -> Iterator[tuple[Any, RecordingEngine]]:
    engine = RecordingEngine()
    engine_server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(engine, engine_server)
    engine_port = engine_server.add_insecure_port("127.0.0.1:0")
    engine_server.start()
    ports: list[int] = []
    server = serve(f"127.0.0.1:{engine_port}", ports.append)
    channel = grpc.insecure_channel(f"127.0.0.1:{ports[0]}")
    stub = provider_pb2_grpc.ResourceProviderStub(channel)
    config = {
        "region": "cn-hangzhou",
        "endpoint": emu.base_url,
        "accessKey": ACCESS_KEY_ID,
        "secretKey": ACCESS_KEY_SECRET,
    }
    stub.Configure(provider_pb2.ConfigureRequest(args=_wire.to_struct(config)))
    try:
        yield stub, engine
    finally:
        channel.close()
        server.stop(grace=None)
        engine_server.stop(grace=None)


def test_a_check_without_a_login_warns_in_camel_case(plugin: tuple[Any, RecordingEngine]) -> None:
    stub, engine = plugin
    props = {"dbClusterId": "pc-mysql00000001", "accountName": "dbadmin", "resetNonce": "1"}
    created = stub.Create(
        provider_pb2.CreateRequest(urn=URN, properties=_wire.to_struct(props), timeout=120)
    )
    (warning,) = [m for m in engine.messages if "not checked" in m]
    assert "Set checkPassword (a secret) or accountPassword, or checkPrivileges=false" in warning
    assert PYTHON_NAMES.search(warning) is None, warning
    # The recorded cause is the warning's reason, spelled the same way.
    cause = _wire.to_dict(created.properties)["privilegesCheckCause"]
    assert warning.endswith(f"not checked: {cause}.")
    assert PYTHON_NAMES.search(cause) is None, cause
    assert all(PYTHON_NAMES.search(m) is None for m in engine.messages), engine.messages


def test_check_failures_and_errors_name_camel_case_and_plugin_keys(
    plugin: tuple[Any, RecordingEngine],
) -> None:
    stub, _ = plugin
    news = {"dbClusterId": "pc-mysql00000001", "accountName": "dbadmin", "checkPassword": ""}
    response = stub.Check(provider_pb2.CheckRequest(urn=URN, news=_wire.to_struct(news)))
    reasons = {f.property: f.reason for f in response.failures}
    assert reasons["checkPassword"].startswith("checkPassword must be a non-empty string")
    # A configuration error names the plugin's config key (a bad key pair, refused by the API).
    stub.Configure(
        provider_pb2.ConfigureRequest(
            args=_wire.to_struct({"region": "cn-hangzhou", "accessKey": "LTAI-none"})
        )
    )
    with pytest.raises(grpc.RpcError) as caught:
        stub.Create(
            provider_pb2.CreateRequest(
                urn=URN,
                properties=_wire.to_struct({**news, "checkPassword": "x"}),
                timeout=30,
            )
        )
    details = caught.value.details()
    assert "polardb-account:secretKey" in details and PYTHON_NAMES.search(details) is None, details


def test_render_maps_whole_names_only() -> None:
    assert _spelling.render("set account_password or check_privileges=false") == (
        "set accountPassword or checkPrivileges=false"
    )
    assert _spelling.render("account_password_fingerprint") == "accountPasswordFingerprint"
    assert _spelling.render("alicloud:region (or alicloud:accessKey)") == (
        "polardb-account:region (or polardb-account:accessKey)"
    )
    # Inside a longer identifier or key, a name is not a name.
    assert _spelling.render("my_account_password_x x_region") == "my_account_password_x x_region"
