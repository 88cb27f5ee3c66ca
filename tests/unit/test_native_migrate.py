"""``polardb-reset migrate`` without a stack: the state rewrite, the config it sets, its failures.

The rewrite and the config plan are pure functions of what ``pulumi stack export`` and
``pulumi config --json`` print. The command itself runs as a subprocess (the console
script of this virtualenv) against a stand-in ``pulumi`` on PATH that records every call,
so a test can show which commands ran (no ``stack import`` after a failure) and that a
secret travels on stdin, never on a command line. tests/e2e/test_native_migration.py runs
it against the real CLI.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.native import _schema, migrate

DYN = migrate.DYNAMIC_TYPE
NATIVE = _schema.TOKEN
PREFIX = "urn:pulumi:prod::proj::"
STACK = f"{PREFIX}pulumi:pulumi:Stack::proj-prod"
DYN_PROVIDER = f"{PREFIX}pulumi:providers:pulumi-python::default"
CIPHER = {p.SIG_KEY: p.SECRET_SIG, "ciphertext": "v1:abc"}


def reset(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "urn": f"{PREFIX}{DYN}::{name}",
        "type": DYN,
        "id": f"pc-{name}:dbadmin",
        "custom": True,
        "provider": f"{DYN_PROVIDER}::p1",
        "inputs": {"__provider": "blob", "db_cluster_id": f"pc-{name}", "reset_nonce": "1"},
        "outputs": {"__provider": "blob", "reset_count": 1},
        **extra,
    }


def deployment(*resets: dict[str, Any], **extra: Any) -> dict[str, Any]:
    provider = {"urn": DYN_PROVIDER, "type": "pulumi:providers:pulumi-python", "id": "p1"}
    return {
        "manifest": {"time": "2026-12-01T00:00:00Z"},
        "resources": [{"urn": STACK, "type": "pulumi:pulumi:Stack"}, provider, *resets],
        **extra,
    }


def by_name(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["urn"].rsplit("::", 1)[-1]: r for r in resources}


def test_depends_on_and_property_dependencies_follow_the_new_urns() -> None:
    first = reset("first", propertyDependencies={"__provider": [], "db_cluster_id": []})
    second = reset(
        "second",
        dependencies=[first["urn"]],
        propertyDependencies={"__provider": [], "account_name": [first["urn"]]},
    )
    # Something else of the program that depends on a reset, and a child of one.
    other = {
        "urn": f"{PREFIX}random:index/randomId:RandomId::other",
        "type": "random:index/randomId:RandomId",
        "dependencies": [second["urn"], STACK],
        "propertyDependencies": {"keepers": [second["urn"]]},
    }
    child = {
        "urn": f"{PREFIX}{DYN}$my:index:Child::child",
        "type": "my:index:Child",
        "parent": first["urn"],
    }
    before = deployment(first, second, other, child)
    frozen = copy.deepcopy(before)
    migrated, moved = migrate.migrate(before, "0.2.0")
    assert before == frozen  # the input is not modified

    assert [r["urn"] for r in moved] == [f"{PREFIX}{NATIVE}::first", f"{PREFIX}{NATIVE}::second"]
    resources = by_name(migrated["resources"])
    assert resources["second"]["dependencies"] == [f"{PREFIX}{NATIVE}::first"]
    assert resources["second"]["propertyDependencies"] == {
        "accountName": [f"{PREFIX}{NATIVE}::first"]
    }
    assert resources["first"]["propertyDependencies"] == {"dbClusterId": []}
    assert resources["other"]["dependencies"] == [f"{PREFIX}{NATIVE}::second", STACK]
    assert resources["other"]["propertyDependencies"] == {"keepers": [f"{PREFIX}{NATIVE}::second"]}
    assert resources["child"]["urn"] == f"{PREFIX}{NATIVE}$my:index:Child::child"
    assert resources["child"]["parent"] == f"{PREFIX}{NATIVE}::first"
    # Every reference names a resource of the state, and each comes before its dependents
    # (what `pulumi stack import` checks).
    seen: set[str] = set()
    for resource in migrated["resources"]:
        refs = [*resource.get("dependencies", []), resource.get("parent")]
        refs += [u for urns in resource.get("propertyDependencies", {}).values() for u in urns]
        assert all(ref is None or ref in seen for ref in refs), resource["urn"]
        seen.add(resource["urn"])
    # The dynamic provider is gone; the native default provider serves both.
    types = [r["type"] for r in migrated["resources"]]
    assert "pulumi:providers:pulumi-python" not in types
    assert types.count("pulumi:providers:polardb-account") == 1
    assert migrated["manifest"] == before["manifest"]


@pytest.mark.parametrize(
    ("broken", "named"),
    [
        ({"resources": "nope"}, "resources is not a list"),
        ({"resources": [{"urn": STACK}]}, "a resource without a type"),
        ({"resources": [{"type": DYN, "urn": "orders"}]}, "'orders' is not a resource URN"),
        (deployment(reset("a", inputs=["x"])), f"inputs of {PREFIX}{DYN}::a is not an object"),
        (
            deployment(reset("a", dependencies="x")),
            f"dependencies of {PREFIX}{DYN}::a is not a list of URNs",
        ),
        (
            deployment(reset("a", propertyDependencies={"db_cluster_id": [1]})),
            "propertyDependencies.db_cluster_id of",
        ),
    ],
)
def test_a_checkpoint_it_cannot_read_is_one_line_naming_what(
    broken: dict[str, Any], named: str
) -> None:
    with pytest.raises(migrate.MigrationError) as caught:
        migrate.migrate(broken, "0.2.0")
    message = str(caught.value)
    assert named in message and "\n" not in message, message
    assert message.startswith("the stack's checkpoint is malformed")
    assert message.endswith("the stack's state was not changed")


def test_a_pending_operation_on_a_reset_stops_the_migration() -> None:
    first = reset("first")
    broken = deployment(first, pendingOperations=[{"type": "updating", "resource": first}])
    with pytest.raises(migrate.MigrationError, match=r"pending updating of .*pulumi refresh"):
        migrate.migrate(broken, "0.2.0")


def test_config_keys_of_the_dynamic_resource_become_the_native_providers() -> None:
    config = {
        "alicloud:region": {"value": "cn-hangzhou", "secret": False},
        "alicloud:accessKey": {"value": "LTAIexample", "secret": False},
        "alicloud:secretKey": {"value": "s3cret", "secret": True},
        # A token kept in plain config is still written as a secret.
        "alicloud:securityToken": {"value": "sts-token", "secret": False},
        "alicloud:endpoints": {
            "value": '[{"polardb":"https://polardb.example:8443"}]',
            "objectValue": [{"polardb": "https://polardb.example:8443"}],
            "secret": False,
        },
        "polardbReset:allowInsecureEndpoint": {"value": "true", "secret": False},
        "polardbReset:providerProcesses": {"value": "4", "secret": False},  # dynamic only
        "proj:password": {"value": "other", "secret": True},
    }
    writes, notes = migrate.config_writes(config)
    assert {(w.key, w.source, w.value, w.secret) for w in writes} == {
        ("polardb-account:region", "alicloud:region", "cn-hangzhou", False),
        ("polardb-account:accessKey", "alicloud:accessKey", "LTAIexample", False),
        ("polardb-account:secretKey", "alicloud:secretKey", "s3cret", True),
        ("polardb-account:securityToken", "alicloud:securityToken", "sts-token", True),
        ("polardb-account:endpoint", "alicloud:endpoints", "https://polardb.example:8443", False),
        (
            "polardb-account:allowInsecureEndpoint",
            "polardbReset:allowInsecureEndpoint",
            "true",
            False,
        ),
    }
    assert notes == []
    assert all("s3cret" not in repr(w) for w in writes)


def test_native_keys_already_set_take_precedence() -> None:
    config = {
        "alicloud:region": {"value": "cn-hangzhou", "secret": False},
        "alicloud:secretKey": {"value": "old", "secret": True},
        "polardb-account:region": {"value": "cn-shanghai", "secret": False},
        "polardb-account:secretKey": {"value": "new", "secret": True},
        # The endpoint as its JSON text only (a string in Pulumi.<stack>.yaml).
        "alicloud:endpoints": {"value": '[{"polardb": "http://127.0.0.1:1"}]', "secret": False},
    }
    writes, notes = migrate.config_writes(config)
    assert [(w.key, w.value) for w in writes] == [
        ("polardb-account:endpoint", "http://127.0.0.1:1")
    ]
    assert notes == [
        "polardb-account:region is already set and is kept; alicloud:region (cn-hangzhou) is "
        "not used",
        "polardb-account:secretKey is already set and is kept; alicloud:secretKey is not used",
    ]


def test_endpoints_that_are_not_json_stop_the_migration() -> None:
    with pytest.raises(migrate.MigrationError, match=r"alicloud:endpoints. is not valid JSON"):
        migrate.config_writes({"alicloud:endpoints": {"value": "[{", "secret": False}})


# -- the command, against a stand-in pulumi ----------------------------------------------

FAKE = """#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_LOG"
if [ -n "$FAKE_FAIL" ]; then echo "error: $FAKE_FAIL" >&2; exit "$FAKE_EXIT"; fi
case "$1 $2" in
  "stack export") cat "$FAKE_EXPORT" ;;
  "config --json") cat "$FAKE_CONFIG" ;;
  "config set") cat > "$FAKE_LOG.$4" ;;
  "stack import") cp "$4" "$FAKE_LOG.imported" ;;
esac
"""


def command(
    tmp_path: Path,
    exported: str,
    config: str = "{}",
    *args: str,
    fail: tuple[str, int] | None = None,
) -> Any:
    """``polardb-reset migrate ARGS`` in a project directory with the stand-in on PATH."""
    bin_dir, project = tmp_path / "bin", tmp_path / "project"
    bin_dir.mkdir()
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: proj\nruntime: python\n")
    fake = bin_dir / "pulumi"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    (tmp_path / "export.json").write_text(exported)
    (tmp_path / "config.json").write_text(config)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin",
        "FAKE_LOG": str(tmp_path / "log"),
        "FAKE_EXPORT": str(tmp_path / "export.json"),
        "FAKE_CONFIG": str(tmp_path / "config.json"),
    }
    if fail is not None:
        env |= {"FAKE_FAIL": fail[0], "FAKE_EXIT": str(fail[1])}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "polardb-reset"), "migrate", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = tmp_path / "log"
    calls = log.read_text().splitlines() if log.exists() else []
    return done, calls


def test_command_sets_config_on_stdin_then_imports_the_state(tmp_path: Path) -> None:
    exported = json.dumps({"version": 3, "deployment": deployment(reset("orders"))})
    config = json.dumps(
        {
            "alicloud:region": {"value": "cn-hangzhou", "secret": False},
            "alicloud:secretKey": {"value": "s3cret-value", "secret": True},
        }
    )
    done, calls = command(tmp_path, exported, config, "--stack", "prod")
    assert done.returncode == 0, done.stderr
    assert calls == [
        "stack export --stack prod",
        "config --json --show-secrets --stack prod",
        "config set polardb-account:region --non-interactive --stack prod",
        "config set --secret polardb-account:secretKey --non-interactive --stack prod",
        calls[-1],
    ]
    assert calls[-1].startswith("stack import --file ") and calls[-1].endswith("--stack prod")
    assert (tmp_path / "log.polardb-account:secretKey").read_text() == "s3cret-value"
    assert "s3cret-value" not in done.stdout + done.stderr + "\n".join(calls)
    imported = json.loads((tmp_path / "log.imported").read_text())
    assert [r["type"] for r in imported["deployment"]["resources"]][-1] == NATIVE
    assert done.stderr.splitlines() == [
        "set polardb-account:region from alicloud:region",
        "set polardb-account:secretKey (secret) from alicloud:secretKey",
        f"moved 1 PrivilegedAccountReset resource(s) to {NATIVE}; now declare them with the "
        "native provider under the same names and run `pulumi preview` (no change expected)",
    ]


def test_command_on_a_stack_already_moved_sets_the_config_only(tmp_path: Path) -> None:
    native = {**reset("orders"), "type": NATIVE, "urn": f"{PREFIX}{NATIVE}::orders"}
    exported = json.dumps({"version": 3, "deployment": deployment(native)})
    config = json.dumps({"alicloud:accessKey": {"value": "LTAIexample", "secret": False}})
    done, calls = command(tmp_path, exported, config)
    assert done.returncode == 0, done.stderr
    assert calls == [
        "stack export",
        "config --json --show-secrets",
        "config set polardb-account:accessKey --non-interactive",
    ]
    assert done.stderr.splitlines() == [
        "set polardb-account:accessKey from alicloud:accessKey",
        f"no {DYN} left in the stack: the state stays as it is",
    ]


@pytest.mark.parametrize(
    ("exported", "named"),
    [
        ("this is not JSON", "`pulumi stack export` printed no JSON"),
        (json.dumps({"version": 2, "deployment": {}}), "not a version 3 deployment"),
        (
            json.dumps({"version": 3, "deployment": deployment(reset("a", outputs=7))}),
            f"outputs of {PREFIX}{DYN}::a is not an object",
        ),
    ],
)
def test_command_fails_in_one_line_before_writing_anything(
    tmp_path: Path, exported: str, named: str
) -> None:
    done, calls = command(tmp_path, exported)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and named in done.stderr, done.stderr
    assert done.stderr.startswith("error: the stack's checkpoint is malformed")
    assert calls == ["stack export"]  # no config set, no stack import
    assert "Traceback" not in done.stderr


def test_a_failed_pulumi_command_gives_its_own_exit_status(tmp_path: Path) -> None:
    # Pulumi's exit codes: 6 is "stack not found", as `pulumi stack export` says it.
    done, calls = command(
        tmp_path, "{}", "{}", "--stack", "nope", fail=("no stack named 'nope' found", 6)
    )
    assert done.returncode == 6
    assert done.stderr == (
        "error: `pulumi stack export` failed: no stack named 'nope' found; the stack's state "
        "was not changed\n"
    )
    assert calls == ["stack export --stack nope"]


def test_command_without_pulumi_is_a_usage_error_in_one_line(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: proj\nruntime: python\n")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "polardb-reset"), "migrate"],
        cwd=project,
        env={"PATH": str(tmp_path / "nothing-here")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "error: the pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) "
        "or pass --pulumi-bin DIR; the stack's state was not changed\n"
    )


def test_the_0_2_0_module_spelling_runs_the_same_command(tmp_path: Path) -> None:
    exported = json.dumps({"version": 3, "deployment": deployment(reset("orders"))})
    (tmp_path / "a").mkdir()
    done, _ = command(tmp_path / "a", exported, "{}", "--dry-run")
    assert done.returncode == 0, done.stderr
    env = {"PATH": f"{tmp_path / 'a' / 'bin'}{os.pathsep}/usr/bin:/bin"}
    env |= {k: str(tmp_path / "a" / v) for k, v in _FILES.items()}
    old = subprocess.run(
        [sys.executable, "-m", "pulumi_polardb_reset.native.migrate", "--dry-run"],
        cwd=tmp_path / "a" / "project",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert old.returncode == 0, old.stderr
    urns = [
        [r["urn"] for r in json.loads(o)["deployment"]["resources"]]
        for o in (old.stdout, done.stdout)
    ]
    assert urns[0] == urns[1] and urns[0][-1] == f"{PREFIX}{NATIVE}::orders"


_FILES = {"FAKE_LOG": "log", "FAKE_EXPORT": "export.json", "FAKE_CONFIG": "config.json"}
