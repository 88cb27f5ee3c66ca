"""The native plugin's gRPC surface against a hostile or buggy engine (issue 24, items 1-3).

The plugin is started as the engine starts it (:func:`serve` on a loopback port, with an
engine address) and driven with Pulumi's own gRPC stubs; a small Engine service records
every ``Log`` call the plugin makes, so "the log" is what a user would see.

* Non-finite numbers (``inf``, ``-inf``, ``NaN``) in any property or configuration key and
  values nested 500 levels deep are bad input: a check failure naming the property (or a
  one-line error naming it, where the protocol has no failures), never an internal error,
  and the plugin keeps serving.
* A message quotes at most a short prefix of a bad value (a 10 MB ``accountName``).
* Fuzzed (hypothesis) ``CheckConfig``, ``Check``, ``Diff``, ``Create``/``Update`` with
  ``preview`` over arbitrary ``Struct`` values, secrets and unknowns: every answer is a
  result or a check failure, never an internal error, and no secret appears in any answer
  (outside its secret wrapper) or in the log.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any, Final

import grpc  # type: ignore[import-untyped]
import pytest
from google.protobuf import empty_pb2, struct_pb2  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.runtime.proto import engine_pb2_grpc, provider_pb2, provider_pb2_grpc

from pulumi_polardb_reset import PrivilegedAccountResetProvider
from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.core._quote import MAX_QUOTED
from pulumi_polardb_reset.native import _config, _wire
from pulumi_polardb_reset.native._server import serve

SIG_KEY: Final = p.SIG_KEY
SECRET_SIG: Final = p.SECRET_SIG
UNKNOWN: Final = p.UNKNOWN
URN: Final = "urn:pulumi:dev::proj::polardb-account:index:PrivilegedAccountReset::orders"
BASE: Final = {"dbClusterId": "pc-ok1", "accountName": "dbadmin"}
#: Large enough for the 10 MB inputs a check must echo; the failures themselves stay small.
CHANNEL_OPTIONS: Final = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]
NON_FINITE: Final = (math.inf, -math.inf, math.nan)
#: What a reason may show of a bad value, with its quotes, the property name and the sentence.
MAX_REASON: Final = 400


class RecordingEngine(engine_pb2_grpc.EngineServicer):
    """The engine's Log service: keeps every message the plugin sends."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._lock = threading.Lock()

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:  # noqa: N802 - gRPC name
        with self._lock:
            self.messages.append(request.message)
        return empty_pb2.Empty()


class Plugin:
    """A running plugin, its engine's log and a stub to call it."""

    def __init__(self, stub: Any, engine: RecordingEngine) -> None:
        self.stub = stub
        self.engine = engine

    def check(self, news: dict[str, Any] | struct_pb2.Struct) -> Any:
        return self.stub.Check(provider_pb2.CheckRequest(urn=URN, news=_struct(news)))

    def check_config(self, news: dict[str, Any] | struct_pb2.Struct) -> Any:
        return self.stub.CheckConfig(
            provider_pb2.CheckRequest(
                urn="urn:pulumi:dev::proj::pulumi:providers:polardb-account::default",
                news=_struct(news),
            )
        )

    def still_serves(self) -> None:
        response = self.check(BASE)
        assert list(response.failures) == []


def _struct(values: dict[str, Any] | struct_pb2.Struct) -> struct_pb2.Struct:
    return values if isinstance(values, struct_pb2.Struct) else _wire.to_struct(values)


@pytest.fixture(scope="module")
def plugin() -> Iterator[Plugin]:
    """The plugin started with the address of a recording engine, configured empty."""
    engine = RecordingEngine()
    engine_server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    engine_pb2_grpc.add_EngineServicer_to_server(engine, engine_server)
    engine_port = engine_server.add_insecure_port("127.0.0.1:0")
    engine_server.start()
    ports: list[int] = []
    server = serve(f"127.0.0.1:{engine_port}", ports.append)
    channel = grpc.insecure_channel(f"127.0.0.1:{ports[0]}", options=CHANNEL_OPTIONS)
    stub = provider_pb2_grpc.ResourceProviderStub(channel)
    stub.Configure(provider_pb2.ConfigureRequest(args=_wire.to_struct({})))
    try:
        yield Plugin(stub, engine)
    finally:
        channel.close()
        server.stop(grace=None)
        engine_server.stop(grace=None)


def nested(depth: int, leaf: struct_pb2.Value | None = None) -> struct_pb2.Value:
    """A ``Value`` that is a struct ``depth`` levels deep (built without recursion)."""
    value = leaf or struct_pb2.Value(string_value="x")
    for _ in range(depth):
        inner = struct_pb2.Struct()
        inner.fields["a"].CopyFrom(value)
        value = struct_pb2.Value(struct_value=inner)
    return value


def with_field(values: dict[str, Any], name: str, value: struct_pb2.Value) -> struct_pb2.Struct:
    struct = _wire.to_struct(values)
    struct.fields[name].CopyFrom(value)
    return struct


def failures_of(response: Any) -> dict[str, str]:
    return {f.property: f.reason for f in response.failures}


# -- item 1: non-finite numbers and deep values ------------------------------------------

NUMBER_INPUTS: Final = ("timeoutSeconds", "passwordExpiryWarningDays", "resetNonce")
STRING_INPUTS: Final = ("region", "endpoint", "sqlEndpoint", "accountName", "dbClusterId")


@pytest.mark.parametrize("value", NON_FINITE, ids=["inf", "-inf", "nan"])
@pytest.mark.parametrize("name", NUMBER_INPUTS + STRING_INPUTS)
def test_check_fails_a_non_finite_number_naming_the_property(
    plugin: Plugin, name: str, value: float
) -> None:
    failures = failures_of(plugin.check({**BASE, name: value}))
    assert set(failures) == {name}
    assert failures[name].startswith(name)
    assert "bug" not in failures[name]
    plugin.still_serves()


@pytest.mark.parametrize("value", NON_FINITE, ids=["inf", "-inf", "nan"])
@pytest.mark.parametrize("key", [k.name for k in _config.KEYS])
def test_check_config_fails_a_non_finite_number_naming_the_key(
    plugin: Plugin, key: str, value: float
) -> None:
    failures = failures_of(plugin.check_config({key: value}))
    assert set(failures) == {key}
    assert f"polardb-account:{key}" in failures[key]
    plugin.still_serves()


@pytest.mark.parametrize("value", NON_FINITE, ids=["inf", "-inf", "nan"])
def test_diff_and_preview_answer_non_finite_numbers_without_an_internal_error(
    plugin: Plugin, value: float
) -> None:
    news = _wire.to_struct({**BASE, "timeoutSeconds": value, "passwordExpiryWarningDays": value})
    olds = _wire.to_struct({**BASE, "timeoutSeconds": value, "resetCount": value})
    diff = plugin.stub.Diff(
        provider_pb2.DiffRequest(urn=URN, id="pc-ok1:dbadmin", olds=olds, news=news)
    )
    assert diff.changes in (
        provider_pb2.DiffResponse.DIFF_NONE,
        provider_pb2.DiffResponse.DIFF_SOME,
    )
    created = plugin.stub.Create(provider_pb2.CreateRequest(urn=URN, properties=news, preview=True))
    assert _wire.to_dict(created.properties)["accountName"] == "dbadmin"
    updated = plugin.stub.Update(
        provider_pb2.UpdateRequest(urn=URN, id="pc-ok1:dbadmin", olds=olds, news=news, preview=True)
    )
    assert _wire.to_dict(updated.properties)["accountName"] == "dbadmin"
    plugin.stub.Configure(
        provider_pb2.ConfigureRequest(args=_wire.to_struct({"region": value, "endpoint": value}))
    )
    plugin.stub.Configure(provider_pb2.ConfigureRequest(args=_wire.to_struct({})))
    plugin.still_serves()


def test_a_value_nested_500_levels_is_a_check_failure_naming_the_property(plugin: Plugin) -> None:
    deep = nested(500)
    failures = failures_of(plugin.check(with_field(BASE, "region", deep)))
    assert set(failures) == {"region"}
    assert failures["region"].startswith("region is nested more than")
    failures = failures_of(plugin.check(with_field(BASE, "notAnInput", deep)))
    assert set(failures) == {"notAnInput"}
    failures = failures_of(plugin.check_config(with_field({}, "region", deep)))
    assert set(failures) == {"region"}
    assert len(failures["region"]) < MAX_REASON
    plugin.still_serves()


@pytest.mark.parametrize("method", ["Diff", "Create", "Update", "Configure", "DiffConfig"])
def test_a_deep_value_elsewhere_is_a_one_line_error_naming_the_property(
    plugin: Plugin, method: str
) -> None:
    deep = with_field(BASE, "timeoutSeconds", nested(500))
    requests = {
        "Diff": provider_pb2.DiffRequest(urn=URN, id="pc-ok1:dbadmin", olds=deep, news=deep),
        "Create": provider_pb2.CreateRequest(urn=URN, properties=deep, preview=True),
        "Update": provider_pb2.UpdateRequest(
            urn=URN, id="pc-ok1:dbadmin", olds=deep, news=deep, preview=True
        ),
        "Configure": provider_pb2.ConfigureRequest(args=deep),
        "DiffConfig": provider_pb2.DiffRequest(urn=URN, olds=deep, news=deep),
    }
    with pytest.raises(grpc.RpcError) as caught:
        getattr(plugin.stub, method)(requests[method])
    assert caught.value.code() == grpc.StatusCode.UNKNOWN
    details = caught.value.details()
    assert details.startswith("timeoutSeconds is nested more than"), details
    assert "\n" not in details and "bug" not in details
    plugin.stub.Configure(provider_pb2.ConfigureRequest(args=_wire.to_struct({})))
    plugin.still_serves()


# -- item 2: a bad value is quoted by a short prefix -------------------------------------

HUGE: Final = "A" * 10_000_000 + "_"  # no pattern accepts it


@pytest.mark.parametrize(
    "name", ["accountName", "dbClusterId", "region", "endpoint", "sqlEndpoint", "resetNonce"]
)
def test_a_10mb_value_is_quoted_by_a_short_prefix(plugin: Plugin, name: str) -> None:
    response = plugin.check({**BASE, name: HUGE})
    failures = failures_of(response)
    assert set(failures) == {name}
    reason = failures[name]
    assert len(reason) < MAX_REASON, reason[:500]
    assert "A" * (MAX_QUOTED + 1) not in reason
    if name != "resetNonce":  # "at most 256 characters" quotes nothing
        assert "A" * MAX_QUOTED in reason
    # The answer holds the inputs the engine sent (once) and a short reason.
    assert response.ByteSize() < len(HUGE) + 1000


def test_a_10mb_key_and_config_value_are_quoted_by_a_short_prefix(plugin: Plugin) -> None:
    failures = failures_of(plugin.check({**BASE, HUGE: 1}))
    assert len(failures) == 1
    ((name, reason),) = failures.items()
    assert len(name) < 100 and len(reason) < MAX_REASON
    failures = failures_of(plugin.check_config({"region": HUGE, "endpoint": HUGE}))
    assert set(failures) == {"region", "endpoint"}
    assert all(len(reason) < MAX_REASON for reason in failures.values())


def test_the_dynamic_resource_quotes_a_short_prefix_too() -> None:
    result = PrivilegedAccountResetProvider().check(
        {}, {"db_cluster_id": HUGE, "account_name": HUGE, "region": HUGE}
    )
    reasons = [f.reason for f in result.failures or []]
    assert len(reasons) == 3
    assert all(len(reason) < MAX_REASON for reason in reasons), [r[:100] for r in reasons]


# -- item 3: fuzzing the wire ------------------------------------------------------------

#: A marker no message of the plugin contains: every secret of the fuzzer carries it.
MARKER: Final = "Zq9Secr"
SECRETS: Final = st.text(alphabet=st.characters(codec="utf-8"), max_size=12).map(
    lambda tail: f"{MARKER}{tail}"
)

PLAUSIBLE: Final = (
    "pc-abc123",
    "dbadmin",
    "root",
    "cn-hangzhou",
    "polardb.aliyuncs.com",
    "http://127.0.0.1:18080",
    "http://10.0.0.5:8080",
    "127.0.0.1:3306",
    "1",
    "",
    UNKNOWN,
)
SCALARS: Final = (
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(2**53), max_value=2**53).map(float)
    | st.text(max_size=30)
    | st.sampled_from(PLAUSIBLE)
)
JSON: Final = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


VALUES: Final = (
    JSON
    | SECRETS.map(_secret)
    | st.tuples(SECRETS, JSON).map(lambda pair: _secret([pair[0], pair[1]]))
    | st.just(_secret(UNKNOWN))
    | st.just({SIG_KEY: SECRET_SIG})
)
INPUT_KEYS: Final = st.sampled_from([p.CAMEL.get(n, n) for n in (*p.INPUTS, *p.OUTPUTS)]) | st.text(
    max_size=12
)
CONFIG_KEYS: Final = st.sampled_from([k.name for k in _config.KEYS]) | st.text(max_size=12)
#: Password properties are never quoted, marked secret or not.
PASSWORDS: Final = st.fixed_dictionaries(
    {},
    optional={
        "accountPassword": SECRETS | SECRETS.map(_secret),
        "checkPassword": SECRETS | SECRETS.map(_secret),
    },
)


#: The provider's secret configuration keys, likewise.
CONFIG_SECRETS: Final = st.fixed_dictionaries(
    {},
    optional={key.name: SECRETS | SECRETS.map(_secret) for key in _config.KEYS if key.secret},
)


def _maps(
    keys: st.SearchStrategy[str], secrets: st.SearchStrategy[dict[str, Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(st.dictionaries(keys, VALUES, max_size=8), secrets).map(
        lambda pair: {**pair[0], **pair[1]}
    )


PROPERTY_MAPS: Final = _maps(INPUT_KEYS, PASSWORDS)
CONFIG_MAPS: Final = _maps(CONFIG_KEYS, CONFIG_SECRETS)
#: Bounded for ``make check`` (about 20 s for the module on 2 cores); no per-example deadline.
FUZZ: Final = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


def _without_secrets(value: Any) -> Any:
    """``value`` with each secret wrapper's content removed (there it may be, encrypted)."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return {SIG_KEY: SECRET_SIG}
        return {k: _without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def _visible(message: Any) -> str:
    """What a user or a log could read of an answer: everything but the secrets' values."""
    parts: list[str] = []
    for field, value in message.ListFields():
        if isinstance(value, struct_pb2.Struct):
            parts.append(repr(_without_secrets(_wire.to_dict_lenient(value)[0])))
        elif field.is_repeated:
            parts.extend(repr(item) for item in value)
        else:
            parts.append(repr(value))
    return "\n".join(parts)


def _call(plugin: Plugin, method: str, request: Any) -> str:
    """Call ``method``; the visible answer. Only a clean result or a user's error is allowed."""
    try:
        return _visible(getattr(plugin.stub, method)(request))
    except grpc.RpcError as error:
        details = error.details() or ""
        assert error.code() == grpc.StatusCode.UNKNOWN, (method, error.code(), details)
        assert "bug" not in details and "Traceback" not in details, details
        assert "\n" not in details.strip() and len(details) < 4000
        return details


def _assert_no_secret(plugin: Plugin, *answers: str) -> None:
    log = "\n".join(plugin.engine.messages)
    for text in (*answers, log):
        assert MARKER not in text, text[:2000]


@FUZZ
@given(news=PROPERTY_MAPS)
def test_fuzz_check_answers_a_result_or_failures_and_no_secret(
    plugin: Plugin, news: dict[str, Any]
) -> None:
    answer = _call(plugin, "Check", provider_pb2.CheckRequest(urn=URN, news=_wire.to_struct(news)))
    _assert_no_secret(plugin, answer)


@FUZZ
@given(news=CONFIG_MAPS)
def test_fuzz_check_config_answers_a_result_or_failures_and_no_secret(
    plugin: Plugin, news: dict[str, Any]
) -> None:
    request = provider_pb2.CheckRequest(urn=URN, news=_wire.to_struct(news))
    answer = _call(plugin, "CheckConfig", request)
    _assert_no_secret(plugin, answer)


@FUZZ
@given(olds=PROPERTY_MAPS, news=PROPERTY_MAPS)
def test_fuzz_diff_and_previews_answer_a_result_and_no_secret(
    plugin: Plugin, olds: dict[str, Any], news: dict[str, Any]
) -> None:
    olds_s, news_s = _wire.to_struct(olds), _wire.to_struct(news)
    answers = [
        _call(
            plugin,
            "Diff",
            provider_pb2.DiffRequest(urn=URN, id="pc-ok1:dbadmin", olds=olds_s, news=news_s),
        ),
        _call(
            plugin,
            "Create",
            provider_pb2.CreateRequest(urn=URN, properties=news_s, preview=True),
        ),
        _call(
            plugin,
            "Update",
            provider_pb2.UpdateRequest(
                urn=URN, id="pc-ok1:dbadmin", olds=olds_s, news=news_s, preview=True
            ),
        ),
        _call(plugin, "DiffConfig", provider_pb2.DiffRequest(urn=URN, olds=olds_s, news=news_s)),
    ]
    _assert_no_secret(plugin, *answers)
