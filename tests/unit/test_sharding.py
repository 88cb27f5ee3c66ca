"""Sharding across provider processes: the placement hash, K from config, and what a program
registers (Pulumi's mock monitor: no engine, no process)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

import pulumi
import pulumi.runtime
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_polardb_reset import PrivilegedAccountReset, resets_from_config
from pulumi_polardb_reset.cloud._settings import CONFIG_KEYS
from pulumi_polardb_reset.dynamic import _sharding
from pulumi_polardb_reset.dynamic._sharding import (
    DEFAULT_PROVIDER_PROCESSES,
    MAX_PROVIDER_PROCESSES,
    ShardingConfigError,
    in_shard,
    jump_hash,
    parse_processes,
    parse_shard,
    shard_of,
    stable_hash,
)

PROVIDER_TYPE = "pulumi:providers:pulumi-python"
RESOURCE_TYPE = "pulumi-python:dynamic/polardb:PrivilegedAccountReset"

# -- the placement hash ----------------------------------------------------------------


def test_placement_is_frozen() -> None:
    """Placement is what stacks and CI matrices rely on: these values never change.

    A change here would move resources between shard processes (harmless) and targets
    between a pipeline's CI jobs, that is between stacks (a reset in the new one).
    """
    assert stable_hash("main") == 0x0D6E4079E36703EB  # first 8 bytes of SHA-256, big-endian
    assert [shard_of(f"t{i}", 8) for i in range(12)] == [2, 3, 2, 4, 5, 6, 5, 6, 7, 4, 5, 1]
    assert [shard_of(n, 4) for n in ("main", "other", "orders", "billing")] == [0, 1, 1, 0]


def test_jump_hash_matches_other_implementations() -> None:
    """Vectors of ClickHouse's jumpConsistentHash tests and another published suite."""
    cases = [(1, 1), (42, 57), (256, 1024), (3735883980, 1), (3735883980, 666)]
    cases += [(16045690984833335023, 255), (10863919174838991, 11), (2016238256797177309, 11)]
    assert [jump_hash(k, n) for k, n in cases] == [0, 43, 520, 0, 361, 237, 6, 3]


@given(st.text(min_size=1, max_size=40), st.integers(min_value=1, max_value=200))
def test_shard_is_in_range_and_moves_only_to_the_new_bucket(name: str, count: int) -> None:
    before, after = shard_of(name, count), shard_of(name, count + 1)
    assert 0 <= before < count
    assert after in (before, count)


def test_shards_are_balanced_and_few_targets_move() -> None:
    names = [f"target-{i}" for i in range(8000)]
    counts = Counter(shard_of(n, 8) for n in names)
    assert sorted(counts) == list(range(8))
    assert all(900 <= c <= 1100 for c in counts.values()), counts
    moved = sum(shard_of(n, 8) != shard_of(n, 9) for n in names)
    assert 700 <= moved <= 1100  # about 1/9 of them, all to the new shard


def test_jump_hash_refuses_no_buckets() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        jump_hash(1, 0)


# -- K from config -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "k"),
    [
        (None, DEFAULT_PROVIDER_PROCESSES),
        ("", DEFAULT_PROVIDER_PROCESSES),
        ("1", 1),
        (" 16 ", 16),
        ("64", 64),
        (3, 3),
    ],
)
def test_processes_from_config(raw: Any, k: int) -> None:
    assert parse_processes(raw) == k


@pytest.mark.parametrize("raw", ["0", "65", "-1", "2.5", "eight", "1e3", "٣", True])
def test_bad_processes_name_the_key(raw: Any) -> None:
    with pytest.raises(
        ShardingConfigError,
        match=r"polardbReset:providerProcesses must be a whole number from 1 to 64",
    ):
        parse_processes(raw)
    assert issubclass(ShardingConfigError, pulumi.RunError)
    assert MAX_PROVIDER_PROCESSES == 64


# -- what a program registers ---------------------------------------------------------------


class Recorder(pulumi.runtime.Mocks):
    """Records every registration; resources get their inputs as outputs."""

    def __init__(self) -> None:
        self.registered: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registered.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None

    def of_type(self, typ: str) -> dict[str, pulumi.runtime.MockResourceArgs]:
        return {a.name: a for a in self.registered if a.typ == typ}


Program = Callable[[], list[pulumi.Resource]]


def run_program(
    program: Program, config: dict[str, str] | None = None, secret_keys: list[str] | None = None
) -> Recorder:
    """Run ``program`` against the mock monitor with ``config``; return what it registered."""
    mocks = Recorder()
    pulumi.runtime.set_mocks(mocks, project="polardb-reset", stack="test", preview=False)
    pulumi.runtime.set_all_config(config or {}, secret_keys or [])

    def body() -> pulumi.Output[Any]:
        resources = program()
        return pulumi.Output.all(*[r.urn for r in resources])

    # pulumi.runtime.test runs the program and waits for what it returns.
    cast(Callable[[], None], pulumi.runtime.test(body))()  # type: ignore[no-untyped-call]
    return mocks


def fleet(n: int, clusters: Callable[[int], str] = lambda i: f"pc-a{i}", **kwargs: Any) -> Program:
    def program() -> list[pulumi.Resource]:
        return [
            PrivilegedAccountReset(
                f"t{i}", db_cluster_id=clusters(i), account_name="dbadmin", **kwargs
            )
            for i in range(n)
        ]

    return program


def provider_name(args: pulumi.runtime.MockResourceArgs) -> str | None:
    """The name of the provider a registration names (``urn::id``), None for the default."""
    if not args.provider:
        return None
    urn = args.provider.rsplit("::", 1)[0]
    return urn.rsplit("::", 1)[-1]


def expected_providers(keys: list[tuple[str, str]], k: int) -> dict[str, str | None]:
    """The documented rule, written out: ``(name, placement key)`` in registration order ->
    provider name. The first shard used is the default provider (None); every other shard
    ``i`` is ``polardb-reset-shard-<i>``."""
    home: int | None = None
    placed: dict[str, str | None] = {}
    for name, key in keys:
        shard = shard_of(key, k)
        home = shard if home is None else home
        placed[name] = None if shard == home else f"polardb-reset-shard-{shard}"
    return placed


def clusters_on_distinct_shards(count: int, k: int) -> list[str]:
    """``count`` cluster IDs that land on ``count`` different shards of ``k``."""
    found: dict[int, str] = {}
    for i in range(10_000):
        found.setdefault(shard_of(f"pc-d{i}", k), f"pc-d{i}")
        if len(found) == count:
            return list(found.values())
    raise AssertionError("not enough shards")


K2 = {"polardbReset:providerProcesses": "2"}
STACK_CONFIG = {
    "alicloud:region": "cn-hangzhou",
    "alicloud:accessKey": "LTAI5tShardKey00001",
    "alicloud:secretKey": "shard-secret-not-real",
    "alicloud:endpoints": '[{"polardb": "http://127.0.0.1:1"}]',
    "polardbReset:caBundle": "/etc/ssl/ca.pem",
    "polardb-reset:unrelated": "not passed",
}


@pytest.mark.usefixtures("current_event_loop")
@pytest.mark.parametrize("k", [2, 3, 8])
def test_resets_spread_over_shards_by_cluster_id(k: int) -> None:
    mocks = run_program(fleet(24), {**STACK_CONFIG, "polardbReset:providerProcesses": str(k)})
    resets = mocks.of_type(RESOURCE_TYPE)
    assert len(resets) == 24
    placed = {name: provider_name(args) for name, args in resets.items()}
    assert placed == expected_providers([(f"t{i}", f"pc-a{i}") for i in range(24)], k)
    assert placed["t0"] is None  # the first shard used is the default provider
    used = {shard_of(f"pc-a{i}", k) for i in range(24)}
    assert set(mocks.of_type(PROVIDER_TYPE)) == {
        f"polardb-reset-shard-{s}" for s in used - {shard_of("pc-a0", k)}
    }
    assert len(used) > 1


@pytest.mark.usefixtures("current_event_loop")
def test_resets_of_one_cluster_share_one_process() -> None:
    """Names that hash to different shards, on 2 clusters: 2 processes, one per cluster."""
    first, second = clusters_on_distinct_shards(2, 2)
    mocks = run_program(fleet(10, lambda i: (first, second)[i % 2]), K2)
    placed = {name: provider_name(args) for name, args in mocks.of_type(RESOURCE_TYPE).items()}
    assert {placed[f"t{i}"] for i in range(0, 10, 2)} == {None}
    assert {placed[f"t{i}"] for i in range(1, 10, 2)} == {
        f"polardb-reset-shard-{shard_of(second, 2)}"
    }
    assert len({shard_of(f"t{i}", 2) for i in range(10)}) == 2  # by name, they would split


@pytest.mark.usefixtures("current_event_loop")
@pytest.mark.parametrize("k", [None, "2", "4", "64"])
def test_a_stack_on_one_shard_registers_no_provider(k: str | None) -> None:
    """One target, or many targets of one cluster: whatever K, only the default provider."""
    config = {} if k is None else {"polardbReset:providerProcesses": k}
    for program in (fleet(1), fleet(7, lambda i: "pc-one")):
        mocks = run_program(program, {**STACK_CONFIG, **config})
        assert mocks.of_type(PROVIDER_TYPE) == {}
        assert {provider_name(a) for a in mocks.of_type(RESOURCE_TYPE).values()} == {None}


@pytest.mark.usefixtures("current_event_loop")
def test_a_cluster_id_unknown_at_registration_places_by_name() -> None:
    names = [f"n{i}" for i in range(12)]

    def program() -> list[pulumi.Resource]:
        return [
            PrivilegedAccountReset(
                name, db_cluster_id=pulumi.Output.from_input("pc-one"), account_name="dbadmin"
            )
            for name in names
        ]

    mocks = run_program(program, K2)
    placed = {name: provider_name(args) for name, args in mocks.of_type(RESOURCE_TYPE).items()}
    assert placed == expected_providers([(n, n) for n in names], 2)
    assert len(set(placed.values())) == 2


@pytest.mark.usefixtures("current_event_loop")
def test_shard_providers_get_the_config_keys_with_credentials_secret() -> None:
    clusters = clusters_on_distinct_shards(2, 2)
    mocks = run_program(
        fleet(2, lambda i: clusters[i]), {**STACK_CONFIG, **K2}, ["alicloud:secretKey"]
    )
    (provider,) = mocks.of_type(PROVIDER_TYPE).values()
    expected = {k: v for k, v in {**STACK_CONFIG, **K2}.items() if k in CONFIG_KEYS}
    assert set(provider.inputs) == set(expected)
    # The mock monitor keeps secrets as the wire's secret envelope: find which are secret.
    secret = {k for k, v in provider.inputs.items() if isinstance(v, dict) and "value" in v}
    assert secret == {"alicloud:accessKey", "alicloud:secretKey"}
    plain = {k: (v["value"] if k in secret else v) for k, v in provider.inputs.items()}
    assert plain == expected


@pytest.mark.usefixtures("current_event_loop")
def test_a_value_set_as_secret_stays_secret() -> None:
    clusters = clusters_on_distinct_shards(2, 2)
    mocks = run_program(
        fleet(2, lambda i: clusters[i]),
        {**STACK_CONFIG, **K2},
        ["alicloud:secretKey", "alicloud:endpoints"],
    )
    (provider,) = mocks.of_type(PROVIDER_TYPE).values()
    assert isinstance(provider.inputs["alicloud:endpoints"], dict)
    assert provider.inputs["alicloud:region"] == "cn-hangzhou"


@pytest.mark.usefixtures("current_event_loop")
def test_one_process_is_the_default_provider() -> None:
    mocks = run_program(fleet(5), {**STACK_CONFIG, "polardbReset:providerProcesses": "1"})
    assert mocks.of_type(PROVIDER_TYPE) == {}
    assert all(provider_name(a) is None for a in mocks.of_type(RESOURCE_TYPE).values())


@pytest.mark.usefixtures("current_event_loop")
def test_only_used_shards_are_registered() -> None:
    clusters = clusters_on_distinct_shards(2, 64)
    mocks = run_program(fleet(2, lambda i: clusters[i]), {"polardbReset:providerProcesses": "64"})
    name = f"polardb-reset-shard-{shard_of(clusters[1], 64)}"
    assert list(mocks.of_type(PROVIDER_TYPE)) == [name]
    assert mocks.of_type(PROVIDER_TYPE)[name].inputs == {}


@pytest.mark.usefixtures("current_event_loop")
def test_bad_processes_fail_the_program() -> None:
    with pytest.raises(ShardingConfigError, match="providerProcesses"):
        run_program(fleet(1), {"polardbReset:providerProcesses": "0"})


@pytest.mark.usefixtures("current_event_loop")
def test_a_provider_the_user_chose_wins() -> None:
    first, second = clusters_on_distinct_shards(2, 2)

    def program() -> list[pulumi.Resource]:
        mine = pulumi.ProviderResource("pulumi-python", "mine")
        parent = pulumi.ComponentResource(
            "test:index:Group", "group", opts=pulumi.ResourceOptions(providers=[mine])
        )
        return [
            PrivilegedAccountReset(
                "explicit",
                db_cluster_id="pc-a1",
                account_name="dbadmin",
                opts=pulumi.ResourceOptions(provider=mine),
            ),
            PrivilegedAccountReset(
                "by-map",
                db_cluster_id="pc-a2",
                account_name="dbadmin",
                opts=pulumi.ResourceOptions(providers={"pulumi-python": mine}),
            ),
            PrivilegedAccountReset(
                "by-parent",
                db_cluster_id="pc-a3",
                account_name="dbadmin",
                opts=pulumi.ResourceOptions(parent=parent),
            ),
            PrivilegedAccountReset("home", db_cluster_id=first, account_name="dbadmin"),
            PrivilegedAccountReset("sharded", db_cluster_id=second, account_name="dbadmin"),
        ]

    mocks = run_program(program, K2)
    resets = mocks.of_type(RESOURCE_TYPE)
    assert {n: provider_name(a) for n, a in resets.items()} == {
        "explicit": "mine",
        "by-map": "mine",
        "by-parent": "mine",
        "home": None,
        "sharded": f"polardb-reset-shard-{shard_of(second, 2)}",
    }


@pytest.mark.usefixtures("current_event_loop")
def test_each_program_run_gets_its_own_shard_providers() -> None:
    first = run_program(fleet(6), K2)
    second = run_program(fleet(6), K2)
    assert set(first.of_type(PROVIDER_TYPE)) == set(second.of_type(PROVIDER_TYPE))
    assert len(second.of_type(PROVIDER_TYPE)) == 1


@pytest.mark.usefixtures("current_event_loop")
def test_targets_from_config_are_placed_by_cluster_id() -> None:
    targets = [
        {"name": f"db{i}", "dbClusterId": f"pc-a{i % 3}", "accountName": "dbadmin"}
        for i in range(9)
    ]
    config = {"polardb-reset:targets": json.dumps(targets), "polardbReset:providerProcesses": "4"}
    mocks = run_program(lambda: list(resets_from_config(pulumi.Config()).values()), config)
    placed = {name: provider_name(args) for name, args in mocks.of_type(RESOURCE_TYPE).items()}
    assert placed == expected_providers([(t["name"], t["dbClusterId"]) for t in targets], 4)


def test_public_names() -> None:
    import pulumi_polardb_reset

    assert pulumi_polardb_reset.shard_of is _sharding.shard_of


@pytest.mark.parametrize(
    ("cluster", "key"),
    [("pc-x", "pc-x"), (" pc-x ", "pc-x"), ("", "name"), (None, "name"), (3, "name")],
)
def test_placement_key(cluster: object, key: str) -> None:
    assert _sharding.placement_key("name", cluster) == key


# -- one stack per shard: resets_from_config (and polardb-reset's --shard I/N) ----------------


@pytest.mark.parametrize(
    ("raw", "shard"), [(None, None), ("", None), ("0/1", (0, 1)), (" 3/4 ", (3, 4))]
)
def test_parse_shard(raw: str | None, shard: tuple[int, int] | None) -> None:
    assert parse_shard(raw) == shard


@pytest.mark.parametrize("raw", ["4/4", "1/0", "-1/4", "1", "1/4/2", "a/b", "1 / 4"])
def test_bad_shard_names_the_key(raw: str) -> None:
    with pytest.raises(ShardingConfigError, match=r"polardb-drift:shard must be I/N"):
        parse_shard(raw, "polardb-drift:shard")


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
def test_shards_partition_the_fleet(count: int) -> None:
    names = [f"db-{i}" for i in range(200)]
    parts = [[n for n in names if in_shard(n, (i, count))] for i in range(count)]
    assert sorted(n for part in parts for n in part) == sorted(names)  # each exactly once
    assert all(part for part in parts)
    assert all(in_shard(n, None) for n in names)


@pytest.mark.usefixtures("current_event_loop")
def test_targets_of_one_shard_only() -> None:
    targets = [
        {"name": f"db{i}", "dbClusterId": f"pc-a{i}", "accountName": "dbadmin"} for i in range(9)
    ]
    config = {
        "polardb-reset:targets": json.dumps(targets),
        "polardb-reset:shard": "1/3",
        "polardbReset:providerProcesses": "1",
    }
    mocks = run_program(lambda: list(resets_from_config(pulumi.Config()).values()), config)
    declared = sorted(mocks.of_type(RESOURCE_TYPE))
    assert declared == sorted(t["name"] for t in targets if shard_of(t["name"], 3) == 1)
    # An explicit shard wins over config; every shard together declares every target.
    every: list[str] = []
    for i in range(3):
        mocks = run_program(shard_program(f"{i}/3"), config)
        every += mocks.of_type(RESOURCE_TYPE)
    assert sorted(every) == sorted(t["name"] for t in targets)


def shard_program(shard: str) -> Program:
    """A program declaring the targets of ``shard`` from config."""
    return lambda: list(resets_from_config(pulumi.Config(), shard=shard).values())


@pytest.mark.usefixtures("current_event_loop")
def test_bad_shard_config_fails_the_program() -> None:
    config = {
        "polardb-reset:targets": json.dumps(
            [{"name": "a", "dbClusterId": "pc-a", "accountName": "x"}]
        ),
        "polardb-reset:shard": "2/2",
    }
    with pytest.raises(ShardingConfigError, match="polardb-reset:shard must be I/N"):
        run_program(lambda: list(resets_from_config(pulumi.Config()).values()), config)
