"""The native provider plugin without the CLI: schema, wire form, config, migration, gRPC errors.

The servicer tests talk to the real gRPC server (``serve``) through Pulumi's own
``ResourceProviderStub`` on a free loopback port, as the engine does; no API call is made.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc  # type: ignore[import-untyped]
import pytest
from google.protobuf import empty_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.native import _config, _schema, _wire, migrate
from pulumi_polardb_reset.native._server import plugin_version, serve

SECRET = {p.SIG_KEY: p.SECRET_SIG, "value": "S3cret!value"}


def test_schema_declares_every_input_and_output_in_camel_case_with_secrets() -> None:
    schema = _schema.schema("1.2.3")
    resource = schema["resources"]["polardb-account:index:PrivilegedAccountReset"]
    assert set(resource["inputProperties"]) == {_wire.camel(n) for n in p.INPUTS}
    assert set(resource["properties"]) == {f.camel for f in p.OUTPUT_FIELDS if not f.internal}
    assert resource["requiredInputs"] == ["dbClusterId", "accountName"]
    for name in ("accountPassword", "checkPassword"):
        assert resource["inputProperties"][name]["secret"] is True
    assert resource["properties"]["accountPasswordFingerprint"]["secret"] is True
    assert resource["properties"]["missingPrivileges"]["type"] == "array"
    variables = schema["config"]["variables"]
    assert {"region", "accessKey", "secretKey", "securityToken", "endpoint"} <= set(variables)
    assert variables["secretKey"]["secret"] is True and variables["securityToken"]["secret"] is True
    assert schema["name"] == "polardb-account" and schema["version"] == "1.2.3"


def test_wire_round_trip_keeps_secrets_unknowns_and_names() -> None:
    values = {"dbClusterId": "pc-x", "accountPassword": SECRET, "resetNonce": p.UNKNOWN}
    assert _wire.to_dict(_wire.to_struct(values)) == values
    snake = _wire.from_wire(_wire.to_struct(values))
    assert snake == {"db_cluster_id": "pc-x", "account_password": SECRET, "reset_nonce": p.UNKNOWN}
    assert _wire.to_dict(_wire.to_wire(snake)) == values
    assert _wire.from_wire(_wire.to_struct({"bogus": 1})) == {"bogus": 1}  # check names it


def test_provider_config_maps_onto_the_settings_keys() -> None:
    config = _config.settings_config(
        {"region": "cn-shanghai", "secretKey": SECRET, "endpoint": "http://127.0.0.1:1"},
        {"polardb-account:accessKey": "LTAIkey"},
    )
    assert config == {
        "alicloud:region": "cn-shanghai",
        "alicloud:accessKey": "LTAIkey",
        "alicloud:secretKey": "S3cret!value",
        "alicloud:endpoints": json.dumps([{"polardb": "http://127.0.0.1:1"}]),
    }
    assert _config.problems({"region": "Hangzhou", "allowInsecureEndpoint": "maybe"}) == [
        (
            "region",
            "polardb-account:region 'Hangzhou' is not an Alibaba Cloud region ID such as "
            "'cn-hangzhou'",
        ),
        (
            "allowInsecureEndpoint",
            "polardb-account:allowInsecureEndpoint must be true or false (got 'maybe')",
        ),
    ]


def test_migration_rewrites_dynamic_resets_and_keeps_their_values() -> None:
    stack_urn = "urn:pulumi:prod::proj::pulumi:pulumi:Stack::proj-prod"
    dyn_provider = "urn:pulumi:prod::proj::pulumi:providers:pulumi-python::default"
    cipher = {p.SIG_KEY: p.SECRET_SIG, "ciphertext": "v1:abc"}
    deployment = {
        "resources": [
            {"urn": stack_urn, "type": "pulumi:pulumi:Stack", "custom": False},
            {
                "urn": dyn_provider,
                "type": "pulumi:providers:pulumi-python",
                "id": "p1",
                "custom": True,
            },
            {
                "urn": f"urn:pulumi:prod::proj::{migrate.DYNAMIC_TYPE}::orders",
                "type": migrate.DYNAMIC_TYPE,
                "id": "pc-1:dbadmin",
                "custom": True,
                "provider": f"{dyn_provider}::p1",
                "inputs": {
                    "__provider": "blob",
                    "db_cluster_id": "pc-1",
                    "account_password": cipher,
                },
                "outputs": {
                    "__provider": "blob",
                    "reset_count": 2,
                    "account_password_fingerprint": cipher,
                },
            },
        ]
    }
    migrated, moved = migrate.migrate(deployment, "0.2.0")
    assert len(moved) == 1
    types = [r["type"] for r in migrated["resources"]]
    assert types == ["pulumi:pulumi:Stack", "pulumi:providers:polardb-account", _schema.TOKEN]
    provider, reset = migrated["resources"][1:]
    assert (
        provider["urn"] == "urn:pulumi:prod::proj::pulumi:providers:polardb-account::default_0_2_0"
    )
    assert reset["urn"] == f"urn:pulumi:prod::proj::{_schema.TOKEN}::orders"
    assert reset["provider"] == f"{provider['urn']}::{provider['id']}"
    assert reset["id"] == "pc-1:dbadmin"
    assert reset["inputs"] == {"dbClusterId": "pc-1", "accountPassword": cipher}
    assert reset["outputs"] == {"resetCount": 2, "accountPasswordFingerprint": cipher}


@pytest.fixture
def stub() -> Iterator[Any]:
    """A stub of the plugin's gRPC server, started as the engine starts it."""
    ports: list[int] = []
    server = serve(None, ports.append)
    channel = grpc.insecure_channel(f"127.0.0.1:{ports[0]}")
    try:
        yield provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        channel.close()
        server.stop(grace=None)


def test_plugin_serves_info_schema_and_check_failures_in_camel_case(stub: Any) -> None:
    assert stub.GetPluginInfo(empty_pb2.Empty()).version == plugin_version()
    schema = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest()).schema)
    assert _schema.TOKEN in schema["resources"]
    stub.Configure(provider_pb2.ConfigureRequest(args=_wire.to_struct({})))
    news = _wire.to_struct(
        {
            "dbClusterId": "pc-ok1",
            "accountName": "dbadmin",
            "timeoutSeconds": -1,
            "accountPassword": SECRET,
        }
    )
    response = stub.Check(provider_pb2.CheckRequest(urn="urn:x", news=news))
    failures = {f.property: f.reason for f in response.failures}
    assert set(failures) == {"timeoutSeconds"}
    assert "timeout_seconds" not in failures["timeoutSeconds"]
    inputs = _wire.to_dict(response.inputs)
    assert inputs["accountPassword"] == SECRET  # still marked secret on the wire


def test_check_config_wraps_a_clear_secret_key_keeping_its_value(stub: Any) -> None:
    # The engine sends the stack's `polardb-account:secretKey` in clear; the answer marks it
    # secret with the same value (Configure gets the checked inputs: an emptied secret was
    # "polardb-account:secretKey is not set" at the first update).
    news = _wire.to_struct({"region": "cn-hangzhou", "secretKey": "S3cret!value"})
    response = stub.CheckConfig(provider_pb2.CheckRequest(urn="urn:p", news=news))
    assert list(response.failures) == []
    inputs = _wire.to_dict(response.inputs)
    assert inputs == {"region": "cn-hangzhou", "secretKey": SECRET}


def test_a_user_error_is_one_line_without_traceback(
    stub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ALIBABA_CLOUD_REGION", "ALICLOUD_REGION"):
        monkeypatch.delenv(name, raising=False)
    stub.Configure(provider_pb2.ConfigureRequest(args=_wire.to_struct({})))
    props = _wire.to_struct(
        {"dbClusterId": "pc-ok1", "accountName": "dbadmin", "timeoutSeconds": 5}
    )
    with pytest.raises(grpc.RpcError) as caught:
        # No region anywhere: a configuration error, before any API call.
        stub.Create(provider_pb2.CreateRequest(urn="urn:x", properties=props))
    error = caught.value
    assert error.code() == grpc.StatusCode.UNKNOWN
    assert "no region is configured" in error.details()
    # The keys a native user sets, not the dynamic resource's.
    assert "polardb-account:region" in error.details() and "alicloud:" not in error.details()
    assert "Traceback" not in error.details() and "\n" not in error.details().strip()


def test_preview_of_create_and_update_makes_no_api_call(
    stub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No region and no credentials: any API call would fail, so success proves there was none.
    for name in ("ALIBABA_CLOUD_REGION", "ALICLOUD_REGION"):
        monkeypatch.delenv(name, raising=False)
    stub.Configure(provider_pb2.ConfigureRequest(args=_wire.to_struct({})))
    news = _wire.to_struct({"dbClusterId": "pc-ok1", "accountName": "dbadmin", "resetNonce": "2"})
    created = stub.Create(provider_pb2.CreateRequest(urn="urn:x", properties=news, preview=True))
    assert _wire.to_dict(created.properties)["resetNonce"] == "2"
    olds = _wire.to_struct({"dbClusterId": "pc-ok1", "accountName": "dbadmin", "resetCount": 1})
    updated = stub.Update(
        provider_pb2.UpdateRequest(
            urn="urn:x", id="pc-ok1:dbadmin", olds=olds, news=news, preview=True
        )
    )
    outs = _wire.to_dict(updated.properties)
    assert outs["resetNonce"] == "2" and outs["resetCount"] == 1
