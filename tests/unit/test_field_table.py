"""The field table and the one conversion: listings derived from it, every state shape read."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from pulumi_polardb_reset import PrivilegedAccountReset, PrivilegedAccountResetArgs, ResetTarget
from pulumi_polardb_reset.core import _convert as c
from pulumi_polardb_reset.core import _fingerprint
from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.core._state import CheckRecord, ResetInputs, ResetState
from pulumi_polardb_reset.dynamic import _args, _codegen
from pulumi_polardb_reset.dynamic._targets import TARGET_KEYS

#: The camelCase names of the native plugin's schema (issue 17), written out: an oracle
#: from outside the table.
SCHEMA_INPUTS = {
    "db_cluster_id": "dbClusterId",
    "account_name": "accountName",
    "account_password": "accountPassword",
    "reset_nonce": "resetNonce",
    "timeout_seconds": "timeoutSeconds",
    "region": "region",
    "endpoint": "endpoint",
    "check_privileges": "checkPrivileges",
    "sql_endpoint": "sqlEndpoint",
    "check_password": "checkPassword",
    "unlock": "unlock",
    "password_expiry_warning_days": "passwordExpiryWarningDays",
    "account_password_secret": "accountPasswordSecret",
    "account_password_secret_stage": "accountPasswordSecretStage",
}


def test_generated_listings_are_current() -> None:
    """Run ``python -m pulumi_polardb_reset.dynamic._codegen`` when this fails."""
    assert _codegen.render() == _codegen.TARGET.read_text()


def test_input_names_are_the_stored_promise_and_the_schema_names() -> None:
    assert {f.name: f.camel for f in p.INPUT_FIELDS} == SCHEMA_INPUTS
    assert [f.name for f in p.INPUT_FIELDS if f.secret] == ["account_password", "check_password"]
    assert [f.name for f in p.INPUT_FIELDS if f.required] == ["db_cluster_id", "account_name"]
    assert c.rename(c.rename({"resetNonce": "1", "__x": 1}, "snake"), "camel") == {
        "resetNonce": "1",
        "__x": 1,
    }


def test_every_listing_follows_the_table() -> None:
    names = [f.name for f in p.INPUT_FIELDS]
    params = inspect.signature(PrivilegedAccountReset.__init__).parameters
    keyword = {n: x.annotation for n, x in params.items() if x.kind is x.KEYWORD_ONLY}
    fields = {n: f.type for n, f in PrivilegedAccountResetArgs.__dataclass_fields__.items()}
    assert list(keyword) == names == list(fields)
    # The argument class and the keyword arguments agree on every type (they once did not
    # on reset_nonce): the keyword is the argument's type, optional.
    for name in names:
        assert keyword[name] == f"{str(fields[name]).removesuffix(' | None')} | None", name
    assert keyword["reset_nonce"] == "pulumi.Input[str | int] | None"
    assert {
        camel: name
        for name, camel in SCHEMA_INPUTS.items()
        if name not in ("account_password", "check_password")  # secrets: never in targets
    } == TARGET_KEYS
    assert ["name", *TARGET_KEYS.values()] == list(ResetTarget.__dataclass_fields__)
    shown = {n for n in _args.PrivilegedAccountResetBase.__annotations__}
    assert shown == set(p.OUTPUTS) - {p.SQL_CHECK_PASSWORD}


def test_inputs_convert_with_secrets_unknowns_and_defaults() -> None:
    props = {
        p.DB_CLUSTER_ID: "pc-abc123",
        p.ACCOUNT_NAME: c.secret("dbadmin"),
        p.ACCOUNT_PASSWORD: c.secret(p.UNKNOWN),
        p.RESET_NONCE: 7.0,
        "__provider": "blob",
    }
    inputs = c.inputs_from_props(props)
    assert inputs == ResetInputs(
        "pc-abc123", "dbadmin", reset_nonce="7", unknown=frozenset({p.ACCOUNT_PASSWORD})
    )
    assert not inputs.known(p.ACCOUNT_PASSWORD) and inputs.known(p.RESET_NONCE)
    back = c.inputs_to_props(inputs)
    assert back[p.ACCOUNT_PASSWORD] == c.secret(p.UNKNOWN)
    assert back[p.TIMEOUT_SECONDS] == p.DEFAULT_TIMEOUT_SECONDS and back[p.CHECK_PRIVILEGES]
    assert c.inputs_from_props(back) == inputs
    raw = c.decode_inputs({**props, "db_cluster": "x"})
    assert raw.secret == {p.ACCOUNT_NAME, p.ACCOUNT_PASSWORD}
    assert raw.unexpected == ("db_cluster",)
    assert "Passw" not in repr(ResetInputs("pc-a", "b", account_password="N3w!Passw0rd"))


#: Outputs as 0.1.0 wrote them (no check outputs; numbers as the engine carries them).
STATE_0_1_0: dict[str, Any] = {
    p.DB_CLUSTER_ID: "pc-abc123",
    p.ACCOUNT_NAME: "dbadmin",
    p.RESET_NONCE: "1",
    p.TIMEOUT_SECONDS: 900.0,
    p.PASSWORD_FINGERPRINT: c.secret("scrypt$16384$8$1$c2FsdA==$ZGlnZXN0"),
    p.LAST_RESET_AT: "2026-01-01T00:00:00Z",
    p.LAST_RESET_REQUEST_ID: "RID-0",
    p.RESET_COUNT: 1.0,
    p.ACCOUNT_STATUS: "Available",
    p.ACCOUNT_TYPE: "Super",
    p.ACCOUNT_LOCK_STATE: "UnLock",
    p.EFFECTIVE_REGION: "cn-hangzhou",
    p.EFFECTIVE_ENDPOINT: "https://polardb.aliyuncs.com",
    "__provider": "blob",
}


def test_a_0_1_0_state_converts_and_keeps_its_shape() -> None:
    state = c.state_from_props(STATE_0_1_0)
    assert state.written_before_check and state.check == CheckRecord()
    assert (state.timeout_seconds, state.reset_count) == (900, 1)
    assert state.password_fingerprint == "scrypt$16384$8$1$c2FsdA==$ZGlnZXN0"
    back = c.state_to_props(state)
    assert p.CHECK_PRIVILEGES not in back  # still recognisable as written before the check
    assert back[p.PASSWORD_FINGERPRINT] == STATE_0_1_0[p.PASSWORD_FINGERPRINT]
    assert set(back) == set(p.OUTPUTS) - {p.CHECK_PRIVILEGES}
    assert c.state_from_props(back) == state


def test_todays_state_round_trips() -> None:
    password = "Adm1n!pass"
    state = ResetState(
        "pc-abc123",
        "dbadmin",
        reset_nonce="2",
        password_fingerprint=_fingerprint.fingerprint(password),
        reset_count=3,
        check_privileges=True,
        check=CheckRecord(False, ("GRANT OPTION", "RELOAD"), "2026-01-02T00:00:00Z", True),
        sql_check_password=password,
    )
    props = c.state_to_props(state)
    assert props[p.SQL_CHECK_PASSWORD] == c.secret(password)
    assert props[p.MISSING_PRIVILEGES] == ["GRANT OPTION", "RELOAD"]
    assert c.state_from_props(props) == state
    assert password not in repr(state)


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        ({p.PRIVILEGES_OK: "false"}, CheckRecord()),  # not a boolean: not a result
        ({p.PRIVILEGES_OK: False, p.MISSING_PRIVILEGES: 1.0}, CheckRecord(privileges_ok=False)),
        ({p.MISSING_PRIVILEGES: [1, "RELOAD"]}, CheckRecord(missing_privileges=("1", "RELOAD"))),
    ],
)
def test_hand_edited_check_outputs_convert_leniently(
    outputs: dict[str, Any], expected: CheckRecord
) -> None:
    assert c.state_from_props(outputs).check == expected


def _dataclass_fields(cls: type) -> dict[str, Any]:
    return dict(cls.__dataclass_fields__)  # type: ignore[attr-defined]


def test_reset_inputs_agree_with_the_table() -> None:
    """Every input row is a field of ResetInputs, in order, with the row's default and reader."""
    fields = _dataclass_fields(ResetInputs)
    assert [f.attribute for f in p.INPUT_FIELDS] == [n for n in fields if n != "unknown"]
    for f in p.INPUT_FIELDS:
        field = fields[f.attribute]
        assert f.validate is not None, f.name  # every input is validated
        assert field.repr is not f.secret, f.name  # a secret never shows in repr
        if f.required:
            assert f.read(None) == "" and field.default is dataclasses.MISSING, f.name
        else:
            # The row's default, its reader's answer for an absent value and the
            # dataclass default are one value.
            assert f.read(None) == field.default == f.default, f.name


def test_reset_state_agrees_with_the_table() -> None:
    """Every output row is an attribute of ResetState (or of its CheckRecord) and back."""
    state = _dataclass_fields(ResetState)
    record = _dataclass_fields(CheckRecord)
    attributes = [f.attribute for f in p.OUTPUT_FIELDS]
    assert sorted(attributes) == sorted(
        [n for n in state if n not in ("check", "written_before_check")]
        + [f"check.{n}" for n in record]
    )
    absent = c.state_from_props({p.CHECK_PRIVILEGES: True})
    for f in p.OUTPUT_FIELDS:
        record_name, _, name = f.attribute.rpartition(".")
        field = (record if record_name else state)[name]
        assert field.repr is not f.secret, f.name
        if field.default is not dataclasses.MISSING:
            # An output a state does not have reads as the dataclass default.
            value: Any = absent.check if record_name else absent
            assert getattr(value, name) == field.default, f.name
    # Each output round-trips through its own row: a value of the right kind is kept.
    sample = {
        "string": "x",
        "integer": 3,
        "boolean": True,
        "array": ["A", "B"],
    }
    props = {f.name: sample[f.kind] for f in p.OUTPUT_FIELDS}
    back = c.state_to_props(c.state_from_props(props))
    assert {k: c.plain(x) for k, x in back.items()} == props


def test_the_documented_target_keys_follow_the_table() -> None:
    """Step 5 of the recipe: the root program and docs/resource.md list every targets key."""
    root = Path(__file__).resolve().parents[2]
    expected = ["name", *TARGET_KEYS]
    program = (root / "__main__.py").read_text()
    listed = program.split("Target keys:", 1)[1].split('"""', 1)[0]
    assert [k.strip(" .\n") for k in listed.split(",")] == expected
    resource = (root / "docs" / "resource.md").read_text()
    keys = resource.split("(a non-empty list; keys ", 1)[1].split(")", 1)[0]
    assert re.findall(r"`([A-Za-z]+)`", keys) == expected
