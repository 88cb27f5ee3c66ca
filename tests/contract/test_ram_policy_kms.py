"""docs/ram-policy-kms.json, verbatim, is sufficient and necessary for a password from KMS
(issue 26 #2): the emulator enforces it on the key the provider signs with, its request log
witnesses every call.

* **Sufficient**: create (GetSecretValue, ResetAccount), a refresh that finds a rotation,
  the update that applies it: every call allowed, and the KMS actions called are exactly
  the policy's KMS actions.
* **Necessary**: without the KMS statement's action, the reset fails before any write, in
  one line naming ``kms:GetSecretValue`` and the secret's ARN (the line to add back); a
  secret the policy does not name is refused the same way.

The PolarDB statement is the one of docs/ram-policy.json, proven with the real CLI by
tests/e2e/test_ram_policy.py (the SQL check is off here: no SQL server behind the memory
backend, so DescribeDBClusterEndpoints is not exercised).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from emulator_harness import EmulatorProcess, write_seed
from pulumi_harness import REPO

from pulumi_polardb_reset import lifecycle
from pulumi_polardb_reset.core._errors import ErrorCode, ResetError
from pulumi_polardb_reset.core._state import ResetInputs

POLICY_FILE = REPO / "docs" / "ram-policy-kms.json"
POLICY: dict[str, Any] = json.loads(POLICY_FILE.read_text())
PLAIN: dict[str, Any] = json.loads((REPO / "docs" / "ram-policy.json").read_text())
KEY_ID, KEY_SECRET = "LTAI5tKmsLeastPriv1", "kms-least-privilege"
ACCOUNT_ID = "5550001112223334"
CLUSTER, ACCOUNT = "pc-demo0000000001", "dbadmin"
SECRET = f"polardb/{CLUSTER}/{ACCOUNT}"
OTHER_SECRET = "polardb/not-in-the-policy"
SEED: dict[str, Any] = {
    "access_keys": [{"id": KEY_ID, "secret": KEY_SECRET, "policy": POLICY}],
    "settings": {"task_seconds": 0.1, "account_id": ACCOUNT_ID},
    "clusters": [
        {
            "id": CLUSTER,
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "accounts": [{"name": ACCOUNT, "type": "Super", "password": "Seed!Passw0rd"}],
        }
    ],
    "secrets": [
        {"name": SECRET, "value": "Kms!Policy-001"},
        {"name": OTHER_SECRET, "value": "Kms!Policy-002"},
    ],
}


@pytest.fixture(scope="module")
def policy_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(write_seed(tmp_path_factory.mktemp("kmsram") / "seed.yaml", SEED)) as e:
        yield e


@pytest.fixture
def emu(policy_emulator: EmulatorProcess) -> EmulatorProcess:
    policy_emulator.reset()
    return policy_emulator


def config(emu: EmulatorProcess) -> lifecycle.ProviderConfig:
    return lifecycle.ProviderConfig(
        values={
            "alicloud:accessKey": KEY_ID,
            "alicloud:secretKey": KEY_SECRET,
            "alicloud:region": "cn-hangzhou",
            "alicloud:endpoints": json.dumps([{"polardb": emu.base_url, "kms": emu.base_url}]),
        },
        env={},
    )


def given(secret: str = SECRET) -> ResetInputs:
    return replace(
        ResetInputs(CLUSTER, ACCOUNT, reset_nonce="1", timeout_seconds=30),
        check_privileges=False,
        account_password_secret=secret,
    )


def test_the_kms_statement_adds_only_get_secret_value_to_the_plain_policy() -> None:
    polardb, kms = POLICY["Statement"]
    assert polardb == PLAIN["Statement"][0]
    assert kms["Action"] == ["kms:GetSecretValue"]
    assert all(r.startswith("acs:kms:*:*:secret/") for r in kms["Resource"])


def test_the_policy_is_sufficient(emu: EmulatorProcess) -> None:
    state = lifecycle.create(given(), config(emu))
    emu.rotate_secret(SECRET, "Kms!Policy-003")
    refreshed = lifecycle.read(state.id, state, config(emu))
    assert refreshed is not None and refreshed.rotated
    lifecycle.update(refreshed, given(), config(emu))
    entries = emu.requests()
    assert all(e["status"] == 200 for e in entries), entries
    called = {e["action"] for e in entries}
    kms_actions = {a.split(":", 1)[1] for a in POLICY["Statement"][1]["Action"]}
    assert {"GetSecretValue"} == called & {"GetSecretValue", "DescribeSecret"} == kms_actions
    assert len(emu.resets()) == 2


def test_the_kms_action_is_necessary(emu: EmulatorProcess) -> None:
    without = copy.deepcopy(POLICY)
    del without["Statement"][1]
    emu.set_policy(KEY_ID, without)
    with pytest.raises(ResetError) as caught:
        lifecycle.create(given(), config(emu))
    message = str(caught.value)
    assert caught.value.code == ErrorCode.PERMISSION_DENIED
    assert "kms:GetSecretValue" in message and f"secret/{SECRET}" in message
    assert "\n" not in message
    assert emu.resets() == []


def test_a_secret_outside_the_policy_is_refused(emu: EmulatorProcess) -> None:
    with pytest.raises(ResetError) as caught:
        lifecycle.create(given(OTHER_SECRET), config(emu))
    assert caught.value.code == ErrorCode.PERMISSION_DENIED
    assert OTHER_SECRET in str(caught.value)
    assert emu.resets() == []
