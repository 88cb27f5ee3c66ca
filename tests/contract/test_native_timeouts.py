"""The native plugin's operations over gRPC against the emulator (issue 24, items 11 and 14).

* The timeout message names the limit that applied. Under the engine's custom timeouts
  (``customTimeouts.create``/``update``, the request's ``timeout``), the resource's
  ``timeoutSeconds`` does not apply, so "raise timeoutSeconds" would change nothing: the
  message names the custom timeout of the operation; without one it names
  ``timeoutSeconds``. The cluster stays ``Maintaining``, so only the deadline ends the wait.
* Outputs without a value are ``null`` in the answers, never left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc  # type: ignore[import-untyped]
import pytest
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_polardb_reset.native import _wire
from pulumi_polardb_reset.native._server import serve

URN = "urn:pulumi:dev::proj::polardb-account:index:PrivilegedAccountReset::admin"
MAINTAINING = {"dbClusterId": "pc-maint0000001", "accountName": "dbadmin", "resetNonce": "1"}


@pytest.fixture
def stub(emu: EmulatorProcess) -> Iterator[Any]:
    ports: list[int] = []
    server = serve(None, ports.append)
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
        yield stub
    finally:
        channel.close()
        server.stop(grace=None)


def _failure(call: Any, request: Any) -> str:
    with pytest.raises(grpc.RpcError) as caught:
        call(request)
    assert caught.value.code() == grpc.StatusCode.UNKNOWN
    details: str = caught.value.details()
    assert "[Timeout]" in details, details
    return details


def test_create_under_custom_timeouts_names_customtimeouts_create(stub: Any) -> None:
    props = _wire.to_struct({**MAINTAINING, "timeoutSeconds": 900})
    details = _failure(
        stub.Create, provider_pb2.CreateRequest(urn=URN, properties=props, timeout=2)
    )
    assert "timed out after customTimeouts.create=2 " in details, details
    assert "Raise the resource option customTimeouts.create" in details, details
    assert "Raise timeoutSeconds" not in details and "timeout_seconds" not in details


def test_update_under_custom_timeouts_names_customtimeouts_update(stub: Any) -> None:
    olds = _wire.to_struct({**MAINTAINING, "resetNonce": "0", "resetCount": 1})
    news = _wire.to_struct(MAINTAINING)
    request = provider_pb2.UpdateRequest(
        urn=URN, id="pc-maint0000001:dbadmin", olds=olds, news=news, timeout=2
    )
    details = _failure(stub.Update, request)
    assert "timed out after customTimeouts.update=2 " in details, details
    assert "Raise the resource option customTimeouts.update" in details, details
    assert "Raise timeoutSeconds" not in details


def test_without_custom_timeouts_the_message_names_timeoutseconds(stub: Any) -> None:
    props = _wire.to_struct({**MAINTAINING, "timeoutSeconds": 2})
    details = _failure(stub.Create, provider_pb2.CreateRequest(urn=URN, properties=props))
    assert "timed out after timeoutSeconds=2 " in details, details
    assert "Raise timeoutSeconds or check the cluster" in details, details
    assert "customTimeouts" not in details


def test_outputs_without_a_value_are_null_not_left_out(stub: Any) -> None:
    """Issue 24, item 14: the SDKs read a left-out output as undefined (TypeScript warns
    "Undefined value (privilegesOk)") and, in a preview, as unknown; null is neither."""
    props = _wire.to_struct(
        {"dbClusterId": "pc-mysql00000001", "accountName": "dbadmin", "checkPrivileges": False}
    )
    created = stub.Create(provider_pb2.CreateRequest(urn=URN, properties=props))
    fields = created.properties.fields
    for name in ("privilegesOk", "missingPrivileges", "passwordOk", "passwordExpiresAt"):
        assert fields[name].WhichOneof("kind") == "null_value", (name, fields[name])
    assert fields["resetCount"].number_value == 1
    read = stub.Read(
        provider_pb2.ReadRequest(
            urn=URN, id=created.id, properties=created.properties, inputs=props
        )
    )
    assert read.properties.fields["privilegesOk"].WhichOneof("kind") == "null_value"
    # A preview of an update keeps them: null, known.
    updated = stub.Update(
        provider_pb2.UpdateRequest(
            urn=URN, id=created.id, olds=read.properties, news=props, preview=True
        )
    )
    assert updated.properties.fields["missingPrivileges"].WhichOneof("kind") == "null_value"
