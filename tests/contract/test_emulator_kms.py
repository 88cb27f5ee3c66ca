"""The emulator's KMS Secrets Manager, through the real ``alibabacloud_kms20160120`` SDK over
HTTP: versions and stages as KMS documents them, errors, RAM on ``kms:<Action>`` and the
secret's ARN, the request log without values, seeding and admin rotation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, DEFAULT_SEED, write_seed

from polardb_emulator.testing import EmulatorError, EmulatorProcess

kms_models = pytest.importorskip("alibabacloud_kms20160120.models")
from alibabacloud_kms20160120.client import Client  # noqa: E402
from alibabacloud_tea_openapi.models import Config  # noqa: E402
from Tea.exceptions import TeaException  # noqa: E402

ACCOUNT = "1234567890123456"
REGION = "cn-shanghai"
SEEDED = "polardb/dbadmin"
SEEDED_VALUE = "Seeded!Secret-1"
OTHER = "polardb/other"
OTHER_VALUE = "Other!Secret-2"
READER_ID, READER_SECRET = "LTAI5tKmsReader0001", "kms-reader-secret"
#: Every value this module stores (for the leak scans).
VALUES = (SEEDED_VALUE, OTHER_VALUE, "Created!Value-3", "Put!Value-4", "Rotated!Value-5")

SEED: dict[str, Any] = {
    **DEFAULT_SEED,
    "access_keys": [
        *DEFAULT_SEED["access_keys"],
        {
            "id": READER_ID,
            "secret": READER_SECRET,
            "policy": {
                "Version": "1",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "kms:GetSecretValue",
                        "Resource": f"acs:kms:*:*:secret/{SEEDED}",
                    }
                ],
            },
        },
    ],
    "settings": {**DEFAULT_SEED["settings"], "kms_region": REGION},
    "secrets": [
        {"name": SEEDED, "value": SEEDED_VALUE, "version_id": "v1", "description": "seeded"},
        {"name": OTHER, "value": OTHER_VALUE},
    ],
}


KmsFactory = Callable[..., Any]


@pytest.fixture
def kms(seeded: EmulatorProcess) -> KmsFactory:
    """Real KMS SDK clients pointed at the emulator (V3 signatures)."""

    def make(key_id: str = ACCESS_KEY_ID, secret: str = ACCESS_KEY_SECRET, **extra: Any) -> Any:
        return Client(
            Config(
                **seeded.sdk_config(
                    access_key_id=key_id, access_key_secret=secret, region_id=REGION, **extra
                )
            )
        )

    return make


def _error(call: Callable[[], Any]) -> TeaException:
    with pytest.raises(TeaException) as caught:
        call()
    return caught.value


def _value(client: Any, name: str, **request: Any) -> Any:
    return client.get_secret_value(
        kms_models.GetSecretValueRequest(secret_name=name, **request)
    ).body


def test_seeded_secret_reads_as_current(kms: KmsFactory) -> None:
    body = _value(kms(), SEEDED)
    assert (body.secret_name, body.secret_data, body.version_id) == (SEEDED, SEEDED_VALUE, "v1")
    assert body.version_stages.version_stage == ["ACSCurrent"]
    assert body.secret_data_type == "text"
    assert body.request_id


def test_v1_signature_reads_too(kms: KmsFactory) -> None:
    body = _value(kms(signature_algorithm="v2"), OTHER)
    assert body.secret_data == OTHER_VALUE


def test_put_value_moves_current_and_previous(kms: KmsFactory) -> None:
    client = kms()
    put = client.put_secret_value(
        kms_models.PutSecretValueRequest(
            secret_name=SEEDED, version_id="v2", secret_data="Put!Value-4"
        )
    ).body
    assert (put.secret_name, put.version_id) == (SEEDED, "v2")
    assert put.version_stages.version_stage == ["ACSCurrent"]
    assert _value(client, SEEDED).secret_data == "Put!Value-4"
    previous = _value(client, SEEDED, version_stage="ACSPrevious")
    assert (previous.version_id, previous.secret_data) == ("v1", SEEDED_VALUE)
    # By ID, whatever its stage.
    assert _value(client, SEEDED, version_id="v1").secret_data == SEEDED_VALUE
    # The same request again stores nothing twice; another value under v2 is refused.
    again = client.put_secret_value(
        kms_models.PutSecretValueRequest(
            secret_name=SEEDED, version_id="v2", secret_data="Put!Value-4"
        )
    ).body
    assert again.version_id == "v2"
    err = _error(
        lambda: client.put_secret_value(
            kms_models.PutSecretValueRequest(
                secret_name=SEEDED, version_id="v2", secret_data="something else"
            )
        )
    )
    assert (err.code, err.status_code) == ("Rejected.ResourceExist", 409)


def test_custom_stage_added_moved_and_removed(kms: KmsFactory) -> None:
    client = kms()
    client.put_secret_value(
        kms_models.PutSecretValueRequest(
            secret_name=OTHER,
            version_id="staged",
            secret_data="Put!Value-4",
            version_stages=json.dumps(["Pending"]),
        )
    )
    # A custom stage only: ACSCurrent stays where it was.
    assert _value(client, OTHER).secret_data == OTHER_VALUE
    assert _value(client, OTHER, version_stage="Pending").version_id == "staged"
    # Promote: ACSCurrent moves to 'staged', the old current becomes ACSPrevious.
    client.update_secret_version_stage(
        kms_models.UpdateSecretVersionStageRequest(
            secret_name=OTHER,
            version_stage="ACSCurrent",
            remove_from_version="v1",
            move_to_version="staged",
        )
    )
    current = _value(client, OTHER)
    assert (current.version_id, sorted(current.version_stages.version_stage)) == (
        "staged",
        ["ACSCurrent", "Pending"],
    )
    assert _value(client, OTHER, version_stage="ACSPrevious").version_id == "v1"
    client.update_secret_version_stage(
        kms_models.UpdateSecretVersionStageRequest(
            secret_name=OTHER, version_stage="Pending", remove_from_version="staged"
        )
    )
    err = _error(lambda: _value(client, OTHER, version_stage="Pending"))
    assert (err.code, err.status_code) == ("Forbidden.ResourceNotFound", 404)
    # The system stages cannot just be removed.
    err = _error(
        lambda: client.update_secret_version_stage(
            kms_models.UpdateSecretVersionStageRequest(
                secret_name=OTHER, version_stage="ACSCurrent", remove_from_version="staged"
            )
        )
    )
    assert (err.code, err.status_code) == ("InvalidParameter", 400)
    assert "ACSCurrent" in err.message


def test_create_describe_delete(kms: KmsFactory) -> None:
    client = kms()
    created = client.create_secret(
        kms_models.CreateSecretRequest(
            secret_name="app/new",
            version_id="first",
            secret_data="Created!Value-3",
            description="made by a test",
        )
    ).body
    assert created.arn == f"acs:kms:{REGION}:{ACCOUNT}:secret/app/new"
    assert (created.version_id, created.secret_type) == ("first", "Generic")
    err = _error(
        lambda: client.create_secret(
            kms_models.CreateSecretRequest(
                secret_name="app/new", version_id="x", secret_data="Created!Value-3"
            )
        )
    )
    assert (err.code, err.status_code) == ("Rejected.ResourceExist", 409)
    described = client.describe_secret(kms_models.DescribeSecretRequest(secret_name="app/new")).body
    assert (described.secret_name, described.description) == ("app/new", "made by a test")
    assert described.planned_delete_time is None
    deleted = client.delete_secret(
        kms_models.DeleteSecretRequest(secret_name="app/new", recovery_window_in_days="7")
    ).body
    assert deleted.planned_delete_time
    assert (
        client.describe_secret(
            kms_models.DescribeSecretRequest(secret_name="app/new")
        ).body.planned_delete_time
        == deleted.planned_delete_time
    )
    err = _error(lambda: _value(client, "app/new"))
    assert (err.code, err.status_code) == ("Rejected.SecretPendingDeletion", 400)
    client.delete_secret(
        kms_models.DeleteSecretRequest(secret_name="app/new", force_delete_without_recovery="true")
    )
    err = _error(lambda: _value(client, "app/new"))
    assert (err.code, err.status_code) == ("Forbidden.ResourceNotFound", 404)
    assert "app/new" in err.message


def test_unknown_secret_and_missing_name(kms: KmsFactory) -> None:
    client = kms()
    err = _error(lambda: _value(client, "no/such"))
    assert (err.code, err.status_code) == ("Forbidden.ResourceNotFound", 404)
    err = _error(lambda: client.get_secret_value(kms_models.GetSecretValueRequest(secret_name="")))
    assert err.code == "MissingParameter"


def test_secret_named_by_arn(kms: KmsFactory) -> None:
    arn = f"acs:kms:{REGION}:{ACCOUNT}:secret/{SEEDED}"
    assert _value(kms(), arn).secret_name == SEEDED


def test_ram_allows_only_the_granted_secret(kms: KmsFactory, seeded: EmulatorProcess) -> None:
    reader = kms(READER_ID, READER_SECRET)
    assert _value(reader, SEEDED).secret_data == SEEDED_VALUE
    err = _error(lambda: _value(reader, OTHER))
    assert (err.code, err.status_code) == ("Forbidden.RAM", 403)
    assert f"acs:kms:{REGION}:{ACCOUNT}:secret/{OTHER}" in err.message
    assert "kms:GetSecretValue" in err.message
    err = _error(
        lambda: reader.describe_secret(kms_models.DescribeSecretRequest(secret_name=SEEDED))
    )
    assert (err.code, err.status_code) == ("Forbidden.RAM", 403)
    assert "kms:DescribeSecret" in err.message
    # A refused request reaches no secret: the log says 403 and nothing else changed.
    refused = seeded.requests("DescribeSecret")[-1]
    assert (refused["status"], refused["code"]) == (403, "Forbidden.RAM")


def test_admin_rotation_makes_a_new_current_version(
    kms: KmsFactory, seeded: EmulatorProcess
) -> None:
    version_id = seeded.rotate_secret(SEEDED, "Rotated!Value-5")
    body = _value(kms(), SEEDED)
    assert (body.version_id, body.secret_data) == (version_id, "Rotated!Value-5")
    assert _value(kms(), SEEDED, version_stage="ACSPrevious").version_id == "v1"
    assert seeded.rotate_secret(SEEDED, "Rotated!Value-5", version_id="chosen") == "chosen"
    (listed,) = [s for s in seeded.secrets() if s["name"] == SEEDED]
    stages = {v["version_id"]: v["stages"] for v in listed["versions"]}
    assert stages == {"v1": [], version_id: ["ACSPrevious"], "chosen": ["ACSCurrent"]}
    with pytest.raises(EmulatorError, match="404"):
        seeded.rotate_secret("no/such", "x")
    # Reset: back to the seed's one version.
    seeded.reset()
    assert _value(kms(), SEEDED).version_id == "v1"


def test_no_value_in_the_log_the_admin_api_or_stderr(
    kms: KmsFactory, seeded: EmulatorProcess
) -> None:
    client = kms()
    client.create_secret(
        kms_models.CreateSecretRequest(
            secret_name="scan/me", version_id="a", secret_data="Created!Value-3"
        )
    )
    client.put_secret_value(
        kms_models.PutSecretValueRequest(
            secret_name="scan/me", version_id="b", secret_data="Put!Value-4"
        )
    )
    seeded.rotate_secret("scan/me", "Rotated!Value-5")
    _value(client, "scan/me")
    _value(client, SEEDED)
    entries = seeded.requests()
    put = [e for e in entries if e["action"] == "PutSecretValue"][-1]
    assert put["params"]["SecretName"] == "scan/me"  # names are kept
    assert put["params"]["SecretData"] == "***REDACTED***"
    written = json.dumps(entries) + json.dumps(seeded.state()) + json.dumps(seeded.secrets())
    written += seeded.stderr_text()
    for value in VALUES:
        assert value not in written


def test_seed_errors_name_the_key(tmp_path: Path) -> None:
    from polardb_emulator import SeedError, parse_seed

    base = {"access_keys": [{"id": "k", "secret": "s"}]}
    with pytest.raises(SeedError, match=r"secrets\[0\]\.value: is required"):
        parse_seed({**base, "secrets": [{"name": "a"}]})
    with pytest.raises(SeedError, match=r"secrets\[1\]\.name: duplicate"):
        parse_seed({**base, "secrets": [{"name": "a", "value": "x"}, {"name": "a", "value": "y"}]})
    with pytest.raises(SeedError, match=r"secrets\[0\]\.name: must be 1 to 192"):
        parse_seed({**base, "secrets": [{"name": "bad name", "value": "x"}]})
    with pytest.raises(SeedError, match=r"settings\.kms_region"):
        parse_seed({**base, "settings": {"kms_region": "Not A Region"}})
    seed = parse_seed({**base, "secrets": [{"name": "a", "value": "x"}]})
    assert seed.secrets[0].version_id == "v1"
    assert "x" not in repr(seed.secrets[0])


def test_the_state_file_never_holds_a_secret(tmp_path: Path) -> None:
    """Secrets live in memory: --state keeps clusters, never a secret's value (or name)."""
    seed = write_seed(tmp_path / "seed.yaml", SEED)
    state = tmp_path / "state.json"
    with EmulatorProcess(seed, state_path=state) as process:
        process.rotate_secret(SEEDED, "Rotated!Value-5")
        client = Client(
            Config(
                **process.sdk_config(
                    access_key_id=ACCESS_KEY_ID, access_key_secret=ACCESS_KEY_SECRET
                )
            )
        )
        client.create_secret(
            kms_models.CreateSecretRequest(
                secret_name="scan/state", version_id="a", secret_data="Created!Value-3"
            )
        )
        # A restart starts from the seed's secrets.
        process.restart()
        assert [s["name"] for s in process.secrets()] == [SEEDED, OTHER]
    written = state.read_text()
    assert '"clusters"' in written  # the file was written
    for value in VALUES:
        assert value not in written
    assert "scan/state" not in written
