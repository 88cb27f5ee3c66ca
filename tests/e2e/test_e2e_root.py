"""End to end: the root stack with the real Pulumi CLI, run in a shell, against the emulator.

Every step is a ``pulumi`` subprocess on a copy of the project directory; the
emulator's request log witnesses every API call the engine caused.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pickletools
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from emulator_harness import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    SEED_PASSWORDS,
    EmulatorProcess,
    write_seed,
)
from pulumi_harness import (
    REPO,
    PulumiProject,
    assert_one_line_failure,
    emulator_config,
    pulumi_bin,
    set_secret_key,
)

pytestmark = pytest.mark.e2e

CLUSTER, OTHER = "pc-mysql00000001", "pc-mysql00000002"
PASSWORD = "E2e!Passw0rd"
TARGETS = [
    {"name": "main", "dbClusterId": CLUSTER, "accountName": "dbadmin", "resetNonce": "1"},
    {"name": "other", "dbClusterId": OTHER, "accountName": "polar_super", "resetNonce": "1"},
]
MakeProject = Callable[..., PulumiProject]


@pytest.fixture(scope="session")
def bin_dir() -> str:
    return pulumi_bin()


@pytest.fixture
def project(tmp_path: Path, bin_dir: str, emu: EmulatorProcess) -> MakeProject:
    """Factory: the root project in a temp dir, configured for the emulator."""

    def make(targets: Any = None, *, secret_key: bool = True) -> PulumiProject:
        proj = PulumiProject(REPO, tmp_path, bin_dir=bin_dir, only=["Pulumi.yaml", "__main__.py"])
        proj.write_config(
            emulator_config(emu, TARGETS if targets is None else targets, namespace="polardb-reset")
        )
        if secret_key:
            set_secret_key(proj)
        return proj

    return make


def set_targets(proj: PulumiProject, targets: list[dict[str, Any]]) -> None:
    proj.write_config({"polardb-reset:targets": targets})


def test_preview_up_and_second_up(emu: EmulatorProcess, project: MakeProject) -> None:
    proj = project()
    assert proj.preview().get("create") == 3
    assert emu.requests() == []

    assert proj.up() == {"create": 3}
    calls = emu.resets()
    assert sorted(c["params"]["DBClusterId"] for c in calls) == [CLUSTER, OTHER]
    assert all(c["status"] == 200 for c in calls)
    outputs = proj.outputs()
    assert outputs["main"]["account_status"] == "Available" and outputs["main"]["reset_count"] == 1
    assert outputs["main"]["id"] == f"{CLUSTER}:dbadmin"

    emu.clear_requests()
    assert proj.up() == {"same": 3}
    assert emu.requests() == []


def test_a_reset_costs_exactly_four_api_calls(tmp_path: Path, bin_dir: str) -> None:
    """The request log of one `pulumi up` whose task ends at once: the 4 documented calls."""
    with EmulatorProcess(write_seed(tmp_path / "seed.yaml"), task_seconds=0) as emulator:
        proj = PulumiProject(REPO, tmp_path, bin_dir=bin_dir, only=["Pulumi.yaml", "__main__.py"])
        proj.write_config(emulator_config(emulator, [TARGETS[0]], namespace="polardb-reset"))
        set_secret_key(proj)
        assert proj.up() == {"create": 2}
        actions = [r["action"] for r in emulator.requests()]
    assert actions == [
        "DescribeDBClusterAttribute",
        "DescribeAccounts",
        "ResetAccount",
        "DescribeAccounts",
    ]


def test_nonce_password_and_password_removal(emu: EmulatorProcess, project: MakeProject) -> None:
    proj = project()
    proj.up()
    emu.clear_requests()

    set_targets(proj, [{**TARGETS[0], "resetNonce": "2"}, TARGETS[1]])
    assert proj.up() == {"same": 2, "update": 1}
    (call,) = emu.resets()
    assert call["params"]["DBClusterId"] == CLUSTER and "AccountPassword" not in call["params"]
    assert proj.outputs()["main"]["reset_count"] == 2

    emu.clear_requests()
    proj.set_secret("polardb-reset:passwords.main", PASSWORD, path=True)
    assert proj.up() == {"same": 2, "update": 1}
    assert len(emu.resets()) == 1
    assert emu.verify_password(CLUSTER, "dbadmin", PASSWORD)

    emu.clear_requests()
    proj.remove_config("polardb-reset:passwords.main", path=True)
    assert proj.up() == {"same": 3}
    assert emu.writes() == []
    assert emu.verify_password(CLUSTER, "dbadmin", PASSWORD)


@pytest.mark.parametrize(
    ("target", "secret", "needle"),
    [
        ({"accountName": "Bad-Name"}, None, "account_name"),
        ({"dbClusterId": "rm-notpolardb"}, None, "db_cluster_id"),
        ({}, "short", "account_password"),
    ],
)
def test_invalid_input_fails_preview_naming_the_property(
    emu: EmulatorProcess,
    project: MakeProject,
    target: dict[str, str],
    secret: str | None,
    needle: str,
) -> None:
    proj = project([{**TARGETS[0], **target}])
    if secret:
        proj.set_secret("polardb-reset:passwords.main", secret, path=True)
    assert_one_line_failure(proj.fail("preview"), needle)
    # A preview calls no API whatever the input; `up` would, had validation not stopped it.
    assert_one_line_failure(proj.fail("up"), needle)
    assert emu.requests() == []


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ({"dbClusterId": "pc-nothere00001"}, "does not exist"),
        (
            {"dbClusterId": "pc-pgsql00000001", "accountName": "pgadmin"},
            "only supports PolarDB for MySQL",
        ),
        ({"accountName": "app_rw"}, "privileged account is 'dbadmin'"),
    ],
)
def test_up_fails_clearly_and_records_nothing(
    emu: EmulatorProcess, project: MakeProject, target: dict[str, str], needle: str
) -> None:
    proj = project([{**TARGETS[0], **target}])
    output = proj.fail("up")
    assert_one_line_failure(output, needle)
    assert proj.resources() == []
    assert emu.resets() == []


def test_transient_faults_retried_and_timeout_keeps_state(
    emu: EmulatorProcess, project: MakeProject
) -> None:
    proj = project([{**TARGETS[0], "timeoutSeconds": 30}])
    emu.add_fault(
        action="ResetAccount", kind="error", code="ConcurrentTaskExceeded", status=403, count=2
    )
    emu.add_fault(
        action="DescribeAccounts",
        kind="error",
        code="Throttling.User",
        status=400,
        retry_after_ms=300,
        count=1,
    )
    assert proj.up() == {"create": 2}
    assert [c["status"] for c in emu.resets()] == [403, 403, 200]
    before = proj.resources()[0]["outputs"]

    emu.clear_requests()
    emu.add_fault(
        action="ResetAccount", kind="error", code="ConcurrentTaskExceeded", status=403, count=1000
    )
    set_targets(proj, [{**TARGETS[0], "timeoutSeconds": 4, "resetNonce": "2"}])
    output = proj.fail("up")
    assert_one_line_failure(output, "Gave up after timeout_seconds=4")
    after = proj.resources()[0]["outputs"]
    assert after["reset_count"] == before["reset_count"] == 1 and after["reset_nonce"] == "1"

    emu.clear_faults()
    emu.clear_requests()
    assert proj.up() == {"same": 1, "update": 1}
    assert [c["status"] for c in emu.resets()] == [200]
    assert proj.resources()[0]["outputs"]["reset_count"] == 2


def test_refresh_drops_deleted_account_and_destroy_calls_nothing(
    emu: EmulatorProcess, project: MakeProject
) -> None:
    proj = project()
    proj.up()
    emu.delete_account(OTHER, "polar_super")
    emu.clear_requests()
    proj.refresh()
    assert [r["outputs"]["account_name"] for r in proj.resources()] == ["dbadmin"]
    assert emu.writes() == []

    emu.clear_requests()
    proj.destroy()
    assert emu.requests() == []
    assert proj.export().get("resources") in (None, [])


FROZEN_BLOBS = Path(__file__).parent.parent / "fixtures" / "pickled"


def _pickled_path(blob: str) -> str:
    """The module a ``__provider`` blob names (the first string it pickles)."""
    raw = base64.b64decode(blob)
    return next(str(arg) for op, arg, _ in pickletools.genops(raw) if op.name == "SHORT_BINUNICODE")


@pytest.mark.parametrize(
    "frozen", ["pulumi_polardb_reset._provider", "pulumi_polardb_reset.provider"]
)
def test_provider_upgrade_changes_nothing(
    emu: EmulatorProcess, project: MakeProject, frozen: str
) -> None:
    """A state written by 0.1.0 (its frozen ``__provider`` blob, pickled path ``_provider``)
    or by today's version: refresh reads (no write), `up` makes 0 API calls, changes nothing,
    and leaves today's blob (path ``pulumi_polardb_reset.provider``) in state."""
    proj = project()
    proj.up()
    state = proj.export()
    blob = (FROZEN_BLOBS / f"{frozen}.b64").read_text().strip()
    assert _pickled_path(blob) == frozen
    changed = 0
    for resource in state["resources"]:
        for section in ("inputs", "outputs"):
            props = resource.get(section) or {}
            if "__provider" in props:
                props["__provider"] = blob
                changed += 1
    assert changed >= 2
    proj.import_state(state)

    emu.clear_requests()
    assert set(proj.refresh()) == {"same"}
    assert emu.writes() == []
    emu.clear_requests()
    assert proj.up() == {"same": 3}
    assert emu.requests() == []
    for resource in proj.resources():
        assert _pickled_path(resource["inputs"]["__provider"]) == "pulumi_polardb_reset.provider"


def test_credentials_from_environment(emu: EmulatorProcess, project: MakeProject) -> None:
    proj = project([TARGETS[0]], secret_key=False)
    # Before the stack exists, so the CLI (and the provider it starts) sees them.
    proj.env.update(
        ALIBABA_CLOUD_ACCESS_KEY_ID=ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET=ACCESS_KEY_SECRET
    )
    proj.remove_config("alicloud:accessKey")
    assert proj.up() == {"create": 2}
    assert emu.resets()[0]["access_key_id"] == ACCESS_KEY_ID


def test_wrong_secret_is_a_clear_error(emu: EmulatorProcess, project: MakeProject) -> None:
    proj = project([TARGETS[0]], secret_key=False)
    proj.set_secret("alicloud:secretKey", "definitely-wrong-secret")
    text = proj.fail("up")
    assert_one_line_failure(text, "SignatureDoesNotMatch")
    assert "alicloud:secretKey" in text and "definitely-wrong-secret" not in text
    assert emu.resets() == []


@pytest.mark.parametrize("k", [None, 4], ids=["default-k", "k4-with-a-shard-provider"])
def test_no_plaintext_secret_anywhere(
    emu: EmulatorProcess, project: MakeProject, k: int | None
) -> None:
    """A managed password, changed once, refreshed: with the default K and with a shard
    provider (which holds the stack's credentials in its inputs)."""
    proj = project()
    if k is not None:
        proj.write_config({"polardbReset:providerProcesses": str(k)})
    proj.set_secret("polardb-reset:passwords.main", PASSWORD, path=True)
    proj.up()
    shards = [r for r in proj.resources("pulumi-python") if "polardb-reset-shard-" in r["urn"]]
    assert len(shards) == (0 if k is None else 1)
    proj.set_secret("polardb-reset:passwords.main", "Sec0nd!Passw0rd", path=True)
    proj.up()
    proj.refresh()
    written = {
        **proj.written(),
        "stack export": json.dumps(proj.export()),
        "emulator request log": json.dumps(emu.requests()),
        "emulator state": json.dumps(emu.state()),
        "emulator stderr": emu.stderr_text(),
    }
    for secret in (PASSWORD, "Sec0nd!Passw0rd", ACCESS_KEY_SECRET, *SEED_PASSWORDS):
        for variant in (secret, secret.replace("!", "%21")):
            leaks = [where for where, text in written.items() if variant in text]
            assert leaks == [], f"{secret!r} written to {leaks}"
    (resource,) = [r for r in proj.resources() if r["outputs"]["account_name"] == "dbadmin"]
    for key in ("account_password", "account_password_fingerprint"):
        assert "ciphertext" in json.dumps(
            resource["outputs"].get(key) or resource["inputs"].get(key)
        )


def test_malformed_targets_config_is_a_clean_error(
    emu: EmulatorProcess, project: MakeProject
) -> None:
    proj = project([{**TARGETS[0], "dbClusterID": "pc-typo"}])
    text = proj.fail("preview")
    assert_one_line_failure(text, "polardb-reset:targets[0] (main) has unknown key(s) dbClusterID")
    assert "Traceback" not in text
    assert emu.requests() == []


def test_integer_nonces_from_yaml_and_type_int(emu: EmulatorProcess, project: MakeProject) -> None:
    """The engine carries numbers as floats: 1, 1.0 and "1" are one nonce; 2 is another."""
    proj = project([{**TARGETS[0], "resetNonce": 1}, {**TARGETS[1], "resetNonce": "7"}])
    assert proj.up() == {"create": 3}
    (main,) = [r for r in proj.resources() if r["outputs"]["account_name"] == "dbadmin"]
    assert main["outputs"]["reset_nonce"] == "1"

    emu.clear_requests()
    set_targets(proj, [{**TARGETS[0], "resetNonce": "1"}, {**TARGETS[1], "resetNonce": 7.0}])
    assert proj.preview() == {"same": 3}
    assert proj.up() == {"same": 3}
    assert emu.requests() == []

    # As a user types it: pulumi config set --path --type int ...
    # (on a number: Pulumi keeps a string a string when it sets a path).
    proj.set_config("polardb-reset:targets[1].resetNonce", "8", path=True, type_="int")
    assert "resetNonce: 8\n" in (proj.dir / "Pulumi.e2e.yaml").read_text()
    assert proj.up() == {"same": 2, "update": 1}
    (call,) = emu.resets()
    assert call["params"]["DBClusterId"] == OTHER
    assert proj.outputs()["other"]["reset_nonce"] == "8"


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ({"resetNonce": 1.5}, "(main).resetNonce must be a string or a whole number (got 1.5)"),
        ({"resetNonce": True}, "(main).resetNonce must be a string or a whole number (got True)"),
        ({"timeoutSeconds": 2.5}, "(main).timeoutSeconds must be a whole number of seconds"),
    ],
)
def test_non_integral_numbers_are_clear_errors(
    emu: EmulatorProcess, project: MakeProject, target: dict[str, Any], needle: str
) -> None:
    proj = project([{**TARGETS[0], **target}])
    output = proj.fail("preview")
    assert needle in output, output
    assert "Traceback" not in output
    assert emu.requests() == []


@pytest.mark.parametrize(
    ("targets", "needle"),
    [
        (
            [{"name": "main", "accountName": "dbadmin"}],
            "polardb-reset:targets[0] (main) needs dbClusterId",
        ),
        (
            [TARGETS[0], {**TARGETS[1], "name": "main"}],
            "polardb-reset:targets[1].name 'main' is used",
        ),
        ([{**TARGETS[0], "dbClusterId": 12}], "dbClusterId must be a string (got int)"),
        ({"name": "main"}, "polardb-reset:targets must be a non-empty list"),
        ([], "polardb-reset:targets must be a non-empty list"),
    ],
)
def test_malformed_targets_name_entry_and_key(
    emu: EmulatorProcess, project: MakeProject, targets: Any, needle: str
) -> None:
    proj = project(targets)
    output = proj.fail("preview")
    assert needle in output, output
    assert "Traceback" not in output
    assert emu.requests() == []


def _processes_mentioning(needle: str) -> list[int]:
    """PIDs whose command line contains ``needle`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if needle in cmdline:
            found.append(int(entry.name))
    return found


def _kill_plugins_of(project_dir: Path) -> None:
    """Kill the language host and provider a killed CLI left behind (they share its port)."""
    ports: set[str] = set()
    for pid in _processes_mentioning(str(project_dir)):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ports.update(a.decode() for a in cmdline if a.startswith(b"127.0.0.1:"))
    for port in ports:
        for pid in _processes_mentioning(port):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _kill_9_during_reset(proj: PulumiProject, emu: EmulatorProcess) -> None:
    """Start `pulumi up` with tasks held; SIGKILL it (and its plugins) once ResetAccount ran.

    The interrupted reset then completes on the service side (tasks released).
    """
    before = len(emu.resets())
    emu.hold_tasks()
    killed = subprocess.Popen(
        ["pulumi", "up", "--yes", "--skip-preview", "--non-interactive"],
        cwd=proj.dir,
        env=proj.environ(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        emu.wait_for(lambda: len(emu.resets()) == before + 1, timeout=300, what="a ResetAccount")
    finally:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait()
        _kill_plugins_of(proj.dir)
    emu.release_tasks()


def test_kill_9_mid_reset_then_documented_recovery(
    emu: EmulatorProcess, project: MakeProject
) -> None:
    """`pulumi up` killed while ResetAccount runs: the README's recovery converges.

    What a user sees and does: the next `pulumi up` refuses (the stack is locked);
    `pulumi cancel`, `pulumi refresh --clear-pending-creates`, `pulumi up`: at most one
    more ResetAccount, the resource in state, no pending operation left.
    """
    proj = project([TARGETS[0]])
    proj.run("stack", "select", proj.stack_name)  # the stack exists before the kill
    _kill_9_during_reset(proj, emu)

    assert_one_line_failure(proj.fail("up"), "the stack is currently locked")
    proj.run("cancel", "--yes")
    proj.refresh("--clear-pending-creates")
    assert proj.up() == {"create": 1, "same": 1}
    assert [c["status"] for c in emu.resets()] == [200, 200]  # at most one more
    assert proj.export().get("pending_operations") in (None, [])
    assert proj.outputs()["main"]["account_status"] == "Available"

    emu.clear_requests()
    assert proj.up() == {"same": 2}
    assert emu.writes() == []

    # An interrupted *update*: a nonce bump killed while its ResetAccount runs. `pulumi
    # cancel`, then `pulumi up` (a pending update needs no --clear-pending-creates): the
    # bump is applied with at most one more ResetAccount, the stack ends clean.
    set_targets(proj, [{**TARGETS[0], "resetNonce": "2"}])
    emu.clear_requests()
    _kill_9_during_reset(proj, emu)
    assert_one_line_failure(proj.fail("up"), "the stack is currently locked")
    proj.run("cancel", "--yes")
    changes = proj.up()
    assert changes.get("update") == 1 and "create" not in changes and "replace" not in changes
    assert [c["status"] for c in emu.resets()] == [200, 200]  # at most one more
    assert proj.export().get("pending_operations") in (None, [])
    main = proj.outputs()["main"]
    assert (main["reset_nonce"], main["account_status"]) == ("2", "Available")

    emu.clear_requests()
    assert proj.up() == {"same": 2}
    assert emu.requests() == []
