"""The least-privilege RAM policy (docs/ram-policy.json), proven sufficient and necessary
with the real Pulumi CLI in a shell against the emulator (issue 12, item 2).

The emulator runs its ``mariadb`` backend, so the provider's privilege check really logs
in over SQL (it needs ``DescribeDBClusterEndpoints``). The stack signs with an AccessKey
whose RAM policy is the file, verbatim: its resources are the two clusters of
``demo/seed.yaml``, which this seed also has.

* **Sufficient**: the whole lifecycle (up, an up with nothing to do, a nonce bump, a
  refresh that finds an account gone, destroy) succeeds with that key, every API call is
  allowed, and the actions called are exactly the policy's.
* **Necessary**: for each action of the policy, the same key with that one action removed
  (swapped through ``PUT /_emulator/access-keys/{id}/policy`` on the same emulator) makes
  ``pulumi up`` fail, or for ``DescribeDBClusterEndpoints`` leaves the privileges
  unchecked, with a message naming the missing action and the cluster's ARN: the
  ``"polardb:<Action>"`` line of the file to add back.

Skipped when MariaDB is not installed, except with ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from emulator_harness import EmulatorProcess
from pulumi_harness import REPO, PulumiProject, emulator_config, pulumi_bin

pytestmark = pytest.mark.e2e

POLICY_FILE = REPO / "docs" / "ram-policy.json"
POLICY: dict[str, Any] = json.loads(POLICY_FILE.read_text())
#: The second documented policy: the minimal one plus what ``unlock: true`` needs.
UNLOCK_FILE = REPO / "docs" / "ram-policy-unlock.json"
UNLOCK_POLICY: dict[str, Any] = json.loads(UNLOCK_FILE.read_text())
#: The third: the minimal one plus kms:GetSecretValue on the password's secrets (proven by
#: tests/contract/test_ram_policy_kms.py).
KMS_POLICY: dict[str, Any] = json.loads((REPO / "docs" / "ram-policy-kms.json").read_text())
ACTIONS = [a.split(":", 1)[1] for a in POLICY["Statement"][0]["Action"]]
ACCOUNT_ID = "5550001112223334"
KEY_ID, KEY_SECRET = "LTAI5tLeastPriv0001", "least-privilege-secret"
OWNER_ID, OWNER_SECRET = "LTAI5tOwnerKey00001", "owner-secret"
CLUSTERS = {"main": "pc-demo0000000001", "second": "pc-demo0000000002"}
ACCOUNTS = {"main": "dbadmin", "second": "polar_root"}
PASSWORDS = {"main": "Ram!Managed1", "second": "Ram!Managed2"}
OUTSIDE = "pc-demo0000000003"  # a cluster the policy does not name
SEED: dict[str, Any] = {
    "access_keys": [
        {"id": KEY_ID, "secret": KEY_SECRET, "policy": POLICY},
        {"id": OWNER_ID, "secret": OWNER_SECRET},
    ],
    "settings": {"task_seconds": 0.3, "account_id": ACCOUNT_ID},
    "clusters": [
        {
            "id": cluster,
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "accounts": [{"name": account, "type": "Super", "password": "Seed!Passw0rd"}],
        }
        for cluster, account in [
            (CLUSTERS["main"], ACCOUNTS["main"]),
            (CLUSTERS["second"], ACCOUNTS["second"]),
            (OUTSIDE, "dbadmin"),
        ]
    ],
}
#: The secrets docs/ram-policy-kms.json names, one per demo cluster's account.
KMS_SECRETS = {name: f"polardb/{CLUSTERS[name]}/{ACCOUNTS[name]}" for name in CLUSTERS}
KMS_VALUES = {"main": "Kms!Ram-0001", "second": "Kms!Ram-0002"}
SEED["secrets"] = [{"name": KMS_SECRETS[n], "value": KMS_VALUES[n]} for n in CLUSTERS]
MARIADB_SEED = SEED  # the maria fixtures' (tests/conftest.py)
TARGETS = [
    {"name": name, "dbClusterId": CLUSTERS[name], "accountName": ACCOUNTS[name], "resetNonce": 1}
    for name in CLUSTERS
]


def arn(cluster: str) -> str:
    """The resource the emulator (and RAM) checks for a call on ``cluster``."""
    return f"acs:polardb:cn-hangzhou:{ACCOUNT_ID}:dbcluster/{cluster}"


def without(action: str) -> dict[str, Any]:
    """The policy file with one action removed."""
    policy = copy.deepcopy(POLICY)
    policy["Statement"][0]["Action"].remove(f"polardb:{action}")
    return policy


@pytest.fixture
def emu(maria: EmulatorProcess) -> EmulatorProcess:
    """The module's MariaDB-backed emulator back to the seed (the key's policy is the file
    again)."""
    return maria


@pytest.fixture(scope="module")
def project(
    maria_emulator: EmulatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> PulumiProject:
    """The root project, its stack signing with the least-privilege key (one for the module:
    each test ends with an empty stack)."""
    proj = PulumiProject(
        REPO,
        tmp_path_factory.mktemp("ram-policy"),
        bin_dir=pulumi_bin(),
        only=["Pulumi.yaml", "__main__.py"],
    )
    proj.write_config(
        {
            **emulator_config(maria_emulator, TARGETS, namespace="polardb-reset"),
            "alicloud:accessKey": KEY_ID,
        }
    )
    proj.set_secret("alicloud:secretKey", KEY_SECRET)
    for name, password in PASSWORDS.items():
        proj.set_secret(f"polardb-reset:passwords.{name}", password, path=True)
    return proj


@pytest.fixture
def stack(project: PulumiProject, emu: EmulatorProcess) -> Iterator[PulumiProject]:
    """The module's project with its original targets; emptied (destroy) afterwards."""
    project.write_config({"polardb-reset:targets": TARGETS})
    project.log.clear()  # each test reads the CLI output of its own commands only
    yield project
    emu.clear_policy(KEY_ID)  # whatever the test left: destroy makes no API call anyway
    project.destroy()


def test_the_file_lists_exactly_the_actions_the_provider_calls_on_named_clusters() -> None:
    assert POLICY["Version"] == "1" and len(POLICY["Statement"]) == 1
    statement = POLICY["Statement"][0]
    assert statement["Effect"] == "Allow" and set(statement) == {"Effect", "Action", "Resource"}
    assert sorted(ACTIONS) == sorted(
        [
            "DescribeDBClusterAttribute",
            "DescribeAccounts",
            "ResetAccount",
            "DescribeDBClusterEndpoints",
        ]
    )
    # Scoped to named clusters: no wildcard in the cluster ID, no "*" resource.
    assert statement["Resource"] == [f"acs:polardb:*:*:dbcluster/{c}" for c in CLUSTERS.values()]


def test_the_credentials_page_shows_the_file() -> None:
    page = (REPO / "docs" / "credentials.md").read_text()
    section = page.split("\n## Least-privilege RAM policy\n", 1)[1].split("\n## ", 1)[0]
    shown = re.findall(r"```json\n(.*?)```", section, re.S)
    assert [json.loads(s) for s in shown] == [POLICY, KMS_POLICY, UNLOCK_POLICY]


def test_the_unlock_policy_is_the_minimal_one_plus_modify_account_lock_state() -> None:
    expected = copy.deepcopy(POLICY)
    expected["Statement"][0]["Action"].append("polardb:ModifyAccountLockState")
    assert expected == UNLOCK_POLICY
    assert "ModifyAccountLockState" not in POLICY_FILE.read_text()  # the minimal one stays so


def test_unlock_needs_the_unlock_policy_and_the_minimal_one_names_what_to_add(
    emu: EmulatorProcess, stack: PulumiProject
) -> None:
    targets = [{**TARGETS[0], "unlock": True}, TARGETS[1]]
    stack.write_config({"polardb-reset:targets": targets})
    # Not locked: unlock calls nothing more, the minimal policy suffices.
    assert stack.up() == {"create": 3}
    assert {c["action"] for c in emu.requests()} == set(ACTIONS)
    emu.patch_account(CLUSTERS["main"], ACCOUNTS["main"], lock_state="Lock")
    emu.clear_requests()

    output = stack.fail("up", "--refresh")
    assert f"Resource: {arn(CLUSTERS['main'])} Action: polardb:ModifyAccountLockState" in output
    assert 'Add "polardb:ModifyAccountLockState" to the Action list' in output, output
    assert "docs/ram-policy-unlock.json" in output, output
    refused = [c for c in emu.requests() if c["status"] == 403]
    assert {c["action"] for c in refused} == {"ModifyAccountLockState"}, refused
    assert emu.resets() == []

    # The second documented policy: the unlock goes through, every call allowed.
    emu.set_policy(KEY_ID, UNLOCK_POLICY)
    emu.clear_requests()
    assert stack.up("--refresh") == {"update": 1, "same": 2}
    calls = emu.requests()
    assert [c for c in calls if c["status"] != 200] == []
    assert [c["action"] for c in emu.writes()] == ["ModifyAccountLockState"]
    assert {c["action"] for c in calls} <= {
        a.split(":", 1)[1] for a in UNLOCK_POLICY["Statement"][0]["Action"]
    }
    assert stack.outputs()["main"]["account_locked"] is False


def test_the_policy_is_sufficient_for_the_whole_lifecycle(
    emu: EmulatorProcess, stack: PulumiProject
) -> None:
    assert stack.up() == {"create": 3}
    outputs = stack.outputs()
    for name in CLUSTERS:
        assert outputs[name]["reset_count"] == 1, outputs[name]
        assert outputs[name]["privileges_ok"] is True, outputs[name]  # checked over SQL
    assert stack.up() == {"same": 3}  # nothing to do: no API call

    stack.write_config({"polardb-reset:targets": [{**TARGETS[0], "resetNonce": 2}, TARGETS[1]]})
    assert stack.up() == {"update": 1, "same": 2}
    assert stack.outputs()["main"]["reset_count"] == 2

    # A refresh that finds one account gone (dropped out of band) drops it from the state.
    emu.delete_account(CLUSTERS["second"], ACCOUNTS["second"])
    stack.refresh()
    assert [r["outputs"]["db_cluster_id"] for r in stack.resources()] == [CLUSTERS["main"]]
    stack.destroy()
    assert stack.resources() == []

    calls = emu.requests()
    refused = [c for c in calls if c["status"] != 200]
    assert refused == [], refused
    assert {c["access_key_id"] for c in calls} == {KEY_ID}
    assert {c["params"]["DBClusterId"] for c in calls} <= set(CLUSTERS.values())
    # Exactly the policy's actions: each is needed, nothing else is called.
    assert sorted({c["action"] for c in calls}) == sorted(ACTIONS)
    output = stack.output_text()
    assert "Forbidden" not in output and "not checked" not in output, output


def test_the_policy_is_scoped_to_the_clusters_it_names(
    emu: EmulatorProcess, stack: PulumiProject
) -> None:
    target = {"name": "main", "dbClusterId": OUTSIDE, "accountName": "dbadmin", "resetNonce": 1}
    stack.write_config({"polardb-reset:targets": [target]})
    output = stack.fail("up")
    assert f"Resource: {arn(OUTSIDE)} Action: polardb:DescribeDBClusterAttribute" in output
    assert emu.writes() == []


@pytest.mark.parametrize("action", ACTIONS)
def test_each_action_of_the_policy_is_necessary(
    emu: EmulatorProcess, stack: PulumiProject, action: str
) -> None:
    emu.set_policy(KEY_ID, without(action))
    line = f'"polardb:{action}"'
    assert line in POLICY_FILE.read_text()  # the line the message tells the user to add
    named = f"Resource: {arn(CLUSTERS['main'])} Action: polardb:{action}"

    if action == "DescribeDBClusterEndpoints":
        # Only the privilege check needs it: the resets happen, the privileges stay
        # unchecked and the warning says why and what to grant.
        stack.up()
        outputs = stack.outputs()
        assert outputs["main"]["reset_count"] == 1
        assert outputs["main"]["privileges_ok"] is None, outputs["main"]
        output = next(entry for entry in reversed(stack.log) if entry.startswith("$ pulumi up"))
        assert "privileges of account 'dbadmin' on PolarDB cluster" in output, output
        assert named in output and "grant polardb:DescribeDBClusterEndpoints" in output, output
    else:
        output = stack.fail("up")
        assert named in output, output
        assert "Forbidden.RAM" in output, output
        # The provider's own sentence names the policy line to add.
        assert f"Add {line} to the Action list of your RAM policy" in output, output
        if action != "ResetAccount":
            assert emu.resets() == []  # refused before any write
    refused = [c for c in emu.requests() if c["status"] == 403]
    assert refused and {c["action"] for c in refused} == {action}, refused
    assert {c["code"] for c in refused} == {"Forbidden.RAM"}


def test_the_kms_policy_adds_only_what_a_kms_password_needs(
    stack: PulumiProject, emu: EmulatorProcess
) -> None:
    """docs/ram-policy-kms.json, verbatim, with targets whose password is a KMS secret:
    without its KMS statement (the plain policy) the first read of a secret fails in one line
    naming kms:GetSecretValue and the secret's ARN, before any write; with it, the reset and
    a rotation applied by up --refresh succeed with every call allowed, and GetSecretValue is
    the only KMS action called."""
    targets = [
        {**t, "name": f"kms-{t['name']}", "accountPasswordSecret": KMS_SECRETS[str(t["name"])]}
        for t in TARGETS
    ]
    endpoints = json.dumps([{"polardb": emu.base_url, "kms": emu.base_url}])
    stack.write_config({"alicloud:endpoints": endpoints, "polardb-reset:targets": targets})
    emu.set_policy(KEY_ID, POLICY)
    output = stack.fail("up")
    assert "kms:GetSecretValue on acs:kms:cn-hangzhou:*:secret/polardb/pc-demo" in output, output
    assert emu.resets() == []

    emu.set_policy(KEY_ID, KMS_POLICY)
    emu.clear_requests()
    stack.up()
    emu.rotate_secret(KMS_SECRETS["main"], "Kms!Ram-0003")
    stack.up("--refresh")
    entries = emu.requests()
    assert all(e["status"] == 200 for e in entries), [e for e in entries if e["status"] != 200]
    assert len(emu.resets()) == 3  # two creates, then the rotated one
    assert {e["action"] for e in entries} - set(ACTIONS) == {"GetSecretValue"}
