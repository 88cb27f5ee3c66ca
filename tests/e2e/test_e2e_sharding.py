"""End to end: provider shards with the real Pulumi CLI in a shell, against the emulator.

What stacks rely on: a stack deployed on the default provider (K = 1, as before sharding)
moves onto the shards without a replace or a reset, and back; changing K or the targets
resets only what is new; resources are placed by cluster ID (resets of one cluster share a
process), the first shard used being the default provider, so a one-target stack has no
shard provider; stack config (credentials as encrypted secrets) and the environment reach
every shard; more than the 4 resets of one provider process run at once; a normal `pulumi
up` prints no host-adaptation line (``--debug`` does).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess
from pulumi_harness import (
    REPO,
    PulumiProject,
    assert_one_line_failure,
    emulator_config,
    pulumi_bin,
    run_cli,
    set_secret_key,
)

from pulumi_polardb_reset import shard_of
from pulumi_polardb_reset.dynamic._sharding import DEFAULT_PROVIDER_PROCESSES

pytestmark = pytest.mark.e2e

NAMESPACE = "polardb-reset"
K_KEY = "polardbReset:providerProcesses"
PROVIDER_TYPE = "pulumi:providers:pulumi-python"
CLUSTERS = 14
ROTATED_KEY_ID, ROTATED_KEY_SECRET = "LTAI5tRotatedKey002", "rotated-secret-not-real"
MakeProject = Callable[..., PulumiProject]


def cluster(i: int) -> str:
    return f"pc-shard{i:08d}"


def target(i: int, nonce: str = "1") -> dict[str, Any]:
    return {
        "name": f"t{i}",
        "dbClusterId": cluster(i),
        "accountName": "dbadmin",
        "resetNonce": nonce,
    }


@pytest.fixture(scope="module")
def fleet_emulator() -> Iterator[EmulatorProcess]:
    """An emulator with CLUSTERS MySQL clusters, one Super account each."""
    seed = {
        "access_keys": [
            {"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET},
            {"id": ROTATED_KEY_ID, "secret": ROTATED_KEY_SECRET},
        ],
        "settings": {"task_seconds": 0.3, "concurrent_tasks_per_cluster": 1},
        "clusters": [
            {
                "id": cluster(i),
                "region": "cn-hangzhou",
                "db_type": "MySQL",
                "status": "Running",
                "accounts": [{"name": "dbadmin", "type": "Super", "password": "Shard!Passw0rd"}],
            }
            for i in range(CLUSTERS)
        ],
    }
    with EmulatorProcess(seed) as emu:
        yield emu


@pytest.fixture
def emu(fleet_emulator: EmulatorProcess) -> EmulatorProcess:
    fleet_emulator.reset()
    return fleet_emulator


@pytest.fixture(scope="session")
def bin_dir() -> str:
    return pulumi_bin()


@pytest.fixture
def project(tmp_path: Path, bin_dir: str, emu: EmulatorProcess) -> MakeProject:
    """Factory: the root project configured for the fleet emulator, K as the user sets it."""

    def make(targets: list[dict[str, Any]], *, k: int | None = None) -> PulumiProject:
        proj = PulumiProject(REPO, tmp_path, bin_dir=bin_dir, only=["Pulumi.yaml", "__main__.py"])
        config = emulator_config(emu, targets, namespace=NAMESPACE)
        # The harness pins K = 1 for the other tests; here K is what each test says.
        config.pop(K_KEY, None)
        proj.write_config(config)
        set_k(proj, k)
        set_secret_key(proj)
        return proj

    return make


def set_k(proj: PulumiProject, k: int | None) -> None:
    """Set K in the stack config, or remove it (None: the default)."""
    path = proj.dir / f"Pulumi.{proj.stack_name}.yaml"
    document = yaml.safe_load(path.read_text()) or {}
    config = document.setdefault("config", {})
    if k is None:
        config.pop(K_KEY, None)
    else:
        config[K_KEY] = str(k)
    path.write_text(yaml.safe_dump(document))


def set_targets(proj: PulumiProject, targets: list[dict[str, Any]]) -> None:
    proj.write_config({f"{NAMESPACE}:targets": targets})


def resets_by_name(proj: PulumiProject) -> dict[str, dict[str, Any]]:
    """The PrivilegedAccountReset resources of the state, by name."""
    return {r["urn"].rsplit("::", 1)[-1]: r for r in proj.resources()}


def provider_of(resource: dict[str, Any]) -> str:
    """The name of the resource's provider (``default`` for the default provider)."""
    urn = str(resource.get("provider", "")).rsplit("::", 1)[0]
    return urn.rsplit("::", 1)[-1]


def shard_providers(proj: PulumiProject) -> dict[str, dict[str, Any]]:
    resources = proj.export().get("resources") or []
    return {
        r["urn"].rsplit("::", 1)[-1]: r
        for r in resources
        if r["type"] == PROVIDER_TYPE and r["urn"].rsplit("::", 1)[-1].startswith("polardb-")
    }


def placement(indexes: list[int], k: int) -> dict[str, str]:
    """The documented rule, written out: targets ``t<i>`` (config order) -> provider name.

    Shard = shard_of(cluster ID, K); the first shard used is the default provider, every
    other shard ``j`` the provider ``polardb-reset-shard-<j>``.
    """
    home: int | None = None
    placed: dict[str, str] = {}
    for i in indexes:
        shard = shard_of(cluster(i), k)
        home = shard if home is None else home
        placed[f"t{i}"] = "default" if shard == home else f"polardb-reset-shard-{shard}"
    return placed


def kept(resource: dict[str, Any]) -> dict[str, Any]:
    """What must not change when a resource moves between providers."""
    outputs = resource["outputs"]
    keys = ("last_reset_request_id", "reset_count", "last_reset_at", "reset_nonce")
    return {"urn": resource["urn"], "id": resource["id"], **{k: outputs[k] for k in keys}}


def test_upgrade_to_shards_and_changing_k_reset_nothing(
    emu: EmulatorProcess, project: MakeProject
) -> None:
    """Deployed on the default provider (K = 1), then sharded, resharded, unsharded."""
    names = [f"t{i}" for i in range(6)]
    proj = project([target(i) for i in range(6)], k=1)
    assert proj.up() == {"create": 7}
    before = {name: kept(r) for name, r in resets_by_name(proj).items()}
    assert all(provider_of(r) == "default" for r in resets_by_name(proj).values())
    assert len(emu.resets()) == 6

    # Sharding on (K = 4). Preview and up: provider creates only.
    emu.clear_requests()
    set_k(proj, 4)
    expected = placement(list(range(6)), 4)
    shards = set(expected.values()) - {"default"}
    assert shards and "default" in expected.values()
    assert proj.preview() == {"create": len(shards), "same": 7}
    assert proj.up() == {"create": len(shards), "same": 7}
    assert emu.requests() == []
    after = resets_by_name(proj)
    assert {name: kept(r) for name, r in after.items()} == before
    assert {n: provider_of(r) for n, r in after.items()} == expected
    assert set(shard_providers(proj)) == shards

    # K = 3, one target added, one removed: one ResetAccount (the new target), no replace.
    set_k(proj, 3)
    set_targets(proj, [target(i) for i in range(1, 7)])
    changes = proj.up()
    assert "replace" not in changes and "update" not in changes, changes
    assert changes.get("delete", 0) >= 1  # t0 (no API call) and the shards no longer used
    assert [c["params"]["DBClusterId"] for c in emu.resets()] == [cluster(6)]
    assert [r["action"] for r in emu.writes()] == ["ResetAccount"]
    now = resets_by_name(proj)
    assert {n: kept(now[n]) for n in names[1:]} == {n: before[n] for n in names[1:]}
    assert {n: provider_of(r) for n, r in now.items()} == placement(list(range(1, 7)), 3)

    # A nonce bump under shards: exactly that target.
    emu.clear_requests()
    set_targets(proj, [target(i, "2" if i == 4 else "1") for i in range(1, 7)])
    assert proj.up()["update"] == 1
    assert [c["params"]["DBClusterId"] for c in emu.resets()] == [cluster(4)]

    # Back to one process: the default provider again, nothing reset.
    emu.clear_requests()
    set_k(proj, 1)
    changes = proj.up()
    assert set(changes) == {"same", "delete"}, changes
    assert emu.requests() == []
    assert all(provider_of(r) == "default" for r in resets_by_name(proj).values())
    assert shard_providers(proj) == {}


@pytest.mark.parametrize(
    ("k", "host_workers"),
    [(2, None), (1, None), (2, "4")],
    ids=["two-processes", "one-process", "two-processes-4-workers"],
)
def test_more_than_four_resets_at_once(
    emu: EmulatorProcess, project: MakeProject, k: int | None, host_workers: str | None
) -> None:
    """12 targets on 12 clusters, tasks held: how many ResetAccount tasks are in flight.

    With the widened worker pool (the default) all 12, in one process as in K. With the
    host's 4 workers (POLARDB_RESET_HOST_WORKERS=4) at most 4 per process, and fewer than
    12 in all even with K processes: the engine checks resources one at a time and waits at
    the first whose process has no free worker, holding up every other registration (so
    how many depends on the order the shards' resources register in). ``--parallel`` above
    all of it: the CLI's default (4 x CPU cores) may be lower.
    """
    count = 12
    processes = k or DEFAULT_PROVIDER_PROCESSES
    proj = project([target(i) for i in range(count)], k=k)
    if host_workers is not None:
        proj.env["POLARDB_RESET_HOST_WORKERS"] = host_workers
    proj.run("stack", "select", proj.stack_name)
    done: list[dict[str, int]] = []

    def in_flight() -> list[int]:
        """The shard of every task in flight."""
        return [shard_of(t["cluster_id"], processes) for t in emu.state()["tasks"]]

    emu.hold_tasks()
    runner = threading.Thread(target=lambda: done.append(proj.up("--parallel", "64")))
    runner.start()
    try:
        wanted = count if host_workers is None else 4
        emu.wait_for(
            lambda: len(in_flight()) >= wanted,
            timeout=300,
            what=f"{wanted} ResetAccount tasks in flight at once",
        )
        # No further start while the tasks are held, measured in the system's own progress
        # rather than seconds: every held reset polls its task 3 more times meanwhile, time
        # enough for a free worker to take the next resource.
        polled = len(emu.requests(action="DescribeAccounts"))
        emu.wait_for(
            lambda: len(emu.requests(action="DescribeAccounts")) >= polled + 3 * wanted,
            timeout=300,
            what="3 more polls of each held reset",
        )
        shards = Counter(in_flight())
        if host_workers is None:
            assert sum(shards.values()) == count
        else:
            assert sum(shards.values()) < count and max(shards.values()) == 4, shards
    finally:
        emu.release_tasks()
        runner.join(timeout=600)
    providers = len(set(placement(list(range(count)), processes).values()) - {"default"})
    assert done == [{"create": 1 + count + providers}]
    assert len(emu.resets()) == count


def test_stack_config_reaches_shards_as_secrets(emu: EmulatorProcess, project: MakeProject) -> None:
    """Keys from encrypted stack config sign every shard's calls; state holds ciphertext."""
    proj = project([target(i) for i in range(5)], k=4)
    proj.up()
    assert {c["access_key_id"] for c in emu.requests()} == {ACCESS_KEY_ID}
    providers = shard_providers(proj)
    assert len(providers) >= 1
    for provider in providers.values():
        inputs = provider["inputs"]
        assert inputs["alicloud:region"] == "cn-hangzhou"
        assert "polardb-reset:targets" not in inputs  # only the keys the provider reads
        for key in ("alicloud:accessKey", "alicloud:secretKey"):
            assert "ciphertext" in json.dumps(inputs[key]), key
    proj.refresh()  # the shards read their config from state: same keys
    written = {**proj.written(), "stack export": json.dumps(proj.export())}
    leaks = [where for where, text in written.items() if ACCESS_KEY_SECRET in text]
    assert leaks == []
    text = proj.preview_text()
    assert ACCESS_KEY_SECRET not in text


def test_rotated_stack_keys_reach_shards_with_the_next_up(
    emu: EmulatorProcess, project: MakeProject
) -> None:
    """Shards keep the keys of the last `pulumi up` in state: a plain refresh signs with them;
    `up` (and `refresh --run-program`) with the stack's new ones, resetting nothing extra."""
    proj = project([target(i) for i in range(3)], k=4)
    proj.up()
    assert shard_providers(proj)
    proj.set_config("alicloud:accessKey", ROTATED_KEY_ID)
    proj.set_secret("alicloud:secretKey", ROTATED_KEY_SECRET)

    emu.clear_requests()
    proj.refresh()
    assert {c["access_key_id"] for c in emu.requests()} == {ACCESS_KEY_ID}

    emu.clear_requests()
    set_targets(proj, [target(i, "2") for i in range(3)])
    changes = proj.up()
    assert changes["update"] == 3 + len(shard_providers(proj)), changes  # resets + providers
    assert {c["access_key_id"] for c in emu.requests()} == {ROTATED_KEY_ID}
    assert len(emu.resets()) == 3

    proj.set_config("alicloud:accessKey", ACCESS_KEY_ID)
    proj.set_secret("alicloud:secretKey", ACCESS_KEY_SECRET)
    emu.clear_requests()
    proj.refresh("--run-program")
    assert {c["access_key_id"] for c in emu.requests()} == {ACCESS_KEY_ID}
    assert emu.writes() == []


def test_environment_credentials_reach_shards(emu: EmulatorProcess, project: MakeProject) -> None:
    """No credentials in stack config: the CLI's environment reaches every shard process."""
    proj = project([target(i) for i in range(5)], k=4)
    proj.remove_config("alicloud:secretKey")
    proj.remove_config("alicloud:accessKey")
    proj.env.update(
        ALIBABA_CLOUD_ACCESS_KEY_ID=ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET=ACCESS_KEY_SECRET
    )
    proj.up()
    assert len(emu.resets()) == 5
    assert shard_providers(proj)
    for provider in shard_providers(proj).values():
        assert "alicloud:secretKey" not in provider["inputs"]
    emu.clear_requests()
    proj.destroy()
    assert emu.requests() == []


@pytest.mark.parametrize("k", [None, 2, 8])
def test_a_one_cluster_stack_is_quiet_and_has_no_shard_provider(
    emu: EmulatorProcess, project: MakeProject, k: int | None
) -> None:
    """Default K and more: one target, then three targets of its cluster, on the default
    provider alone; `pulumi up` prints no host-adaptation line, `pulumi up --debug` does."""
    proj = project([target(0)], k=k)
    assert proj.up() == {"create": 2}  # the stack and the one reset
    assert shard_providers(proj) == {}
    ours = [line for line in proj.output_text().splitlines() if "pulumi-polardb-reset:" in line]
    # The progress display and the Diagnostics section: the one line a user acts on.
    assert ours and all("ResetAccount accepted for pc-shard00000000/dbadmin" in x for x in ours)
    assert "worker threads" not in proj.output_text()

    same_cluster = [{**target(0), "name": f"t0-{i}"} for i in range(1, 3)]
    set_targets(proj, [target(0), *same_cluster])
    assert proj.up() == {"create": 2, "same": 2}
    assert shard_providers(proj) == {}
    assert {provider_of(r) for r in resets_by_name(proj).values()} == {"default"}

    set_targets(proj, [target(0, "2"), *same_cluster])
    debug = proj.run("up", "--yes", "--non-interactive", "--skip-preview", "--debug")
    assert "provider host: 64 worker threads (was 4)" in debug.stdout + debug.stderr


def test_bad_k_is_a_clear_error(emu: EmulatorProcess, project: MakeProject) -> None:
    proj = project([target(0)], k=0)
    output = proj.fail("preview")
    assert_one_line_failure(output, "polardbReset:providerProcesses must be a whole number")
    assert "Traceback" not in output
    assert emu.requests() == []


# -- beyond one stack: polardb-reset remediate --shard I/N, one stack per shard -----------


def test_remediate_shards_split_the_fleet_across_stacks(
    emu: EmulatorProcess, tmp_path: Path, bin_dir: str
) -> None:
    """CI jobs of a matrix: each resets only its shard's targets, in its own stack, one backend.

    The fleet lives in project-level config (Pulumi.yaml), shared by every shard stack;
    the credentials come from the environment, as CI secrets do. Then the matrix grows
    from 2 to 3 jobs: only the targets the new shard takes are reset (by its stack), the
    old stacks drop them without an API call.
    """
    proj = PulumiProject(REPO / "examples" / "drift-remediation", tmp_path, bin_dir=bin_dir)
    # No SQL server on this backend: the privilege check is off, so healthy means exit 0.
    fleet = [{**target(i), "checkPrivileges": False} for i in range(8)]
    project_file = proj.dir / "Pulumi.yaml"
    document = yaml.safe_load(project_file.read_text())
    document["config"] = {
        "alicloud:region": {"value": "cn-hangzhou"},
        "alicloud:endpoints": {"value": json.dumps([{"polardb": emu.base_url}])},
        "polardb-drift:targets": {"value": fleet},
        "polardbReset:providerProcesses": {"value": "2"},
    }
    project_file.write_text(yaml.safe_dump(document))
    proj.env.update(
        ALIBABA_CLOUD_ACCESS_KEY_ID=ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET=ACCESS_KEY_SECRET
    )
    names = [t["name"] for t in fleet]

    def job(shard: str, *flags: str) -> dict[str, dict[str, Any]]:
        stack = f"fleet-{shard.split('/')[0]}"
        done = run_cli(proj, "remediate", "--stack", stack, "--shard", shard, "--json", *flags)
        assert done.returncode == 0, proj.log[-1]
        report = json.loads(done.stdout)
        assert report["shard"] == shard
        return {t["name"]: t for t in report["targets"]}

    covered: list[str] = []
    for index in range(2):
        emu.clear_requests()
        report = job(f"{index}/2", "--all", "--run-id", "run-1")
        mine = [n for n in names if shard_of(n, 2) == index]
        assert sorted(report) == sorted(mine)
        assert all(t["action"] == "reset" and t["status"] == "ok" for t in report.values())
        reset = sorted(c["params"]["DBClusterId"] for c in emu.resets())
        assert reset == sorted(cluster(int(n[1:])) for n in mine)
        covered += mine
    assert sorted(covered) == sorted(names)  # every target in exactly one stack

    # Three jobs now: the new shard takes some targets; nothing else is reset.
    moved = [n for n in names if shard_of(n, 3) == 2]
    assert moved and all(shard_of(n, 3) == shard_of(n, 2) for n in names if n not in moved)
    emu.clear_requests()
    for index in range(2):
        report = job(f"{index}/3")
        gone = {n for n, t in report.items() if t["action"] == "removed"}
        assert gone == {n for n in moved if shard_of(n, 2) == index}
        assert all(report[n]["verdict"] == "removed: belongs to shard 2/3 now" for n in gone)
        assert all(t["action"] == "unchanged" for n, t in report.items() if n not in gone)
    assert emu.writes() == []  # refreshes read; dropping a target calls nothing
    report = job("2/3")
    assert sorted(report) == sorted(moved)
    assert all(t["before"] == "not deployed" and t["action"] == "reset" for t in report.values())
    assert sorted(c["params"]["DBClusterId"] for c in emu.resets()) == sorted(
        cluster(int(n[1:])) for n in moved
    )
