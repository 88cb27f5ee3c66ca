"""accountPasswordSecret on typed values (pure, no API): validation, the diff's reasons, rotation
as drift, the verdict, and the native spelling of the messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest

from pulumi_polardb_reset.core import _convert, _diff, _verdicts
from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.core._state import ROTATION_DRIFT, ResetInputs, ResetState
from pulumi_polardb_reset.native._spelling import render

SECRET = "polardb/pc-abc123/dbadmin"
BASE = {p.DB_CLUSTER_ID: "pc-abc123", p.ACCOUNT_NAME: "dbadmin"}


def reasons(**props: object) -> list[str]:
    return [f.reason for f in _convert.validate_inputs({**BASE, **props})]


def applied(version: str = "v1", latest: str | None = "v1", **kw: Any) -> ResetState:
    return replace(
        ResetState("pc-abc123", "dbadmin", reset_nonce="1"),
        account_password_secret=SECRET,
        account_password_secret_version=version,
        account_password_secret_latest_version=latest,
        **kw,
    )


def inputs(**kw: Any) -> ResetInputs:
    return replace(
        ResetInputs("pc-abc123", "dbadmin", reset_nonce="1"),
        **{"account_password_secret": SECRET, **kw},
    )


@pytest.mark.parametrize(
    ("props", "needle"),
    [
        ({p.ACCOUNT_PASSWORD_SECRET: "has space"}, "is not a KMS secret name"),
        ({p.ACCOUNT_PASSWORD_SECRET: "x" * 193}, "is not a KMS secret name"),
        ({p.ACCOUNT_PASSWORD_SECRET: SECRET, p.ACCOUNT_PASSWORD_SECRET_STAGE: ""}, "version stage"),
        (
            {p.ACCOUNT_PASSWORD: _convert.secret("Aa1!aaaaa"), p.ACCOUNT_PASSWORD_SECRET: SECRET},
            "account_password and account_password_secret are mutually exclusive",
        ),
        ({p.ACCOUNT_PASSWORD_SECRET_STAGE: "ACSPrevious"}, "needs account_password_secret"),
    ],
)
def test_bad_inputs_are_one_reason_naming_the_property(
    props: dict[str, object], needle: str
) -> None:
    [reason] = reasons(**props)
    assert needle in reason
    assert "Aa1!aaaaa" not in reason


def test_good_and_unknown_inputs_pass() -> None:
    assert reasons(**{p.ACCOUNT_PASSWORD_SECRET: SECRET}) == []
    assert (
        reasons(**{p.ACCOUNT_PASSWORD_SECRET: SECRET, p.ACCOUNT_PASSWORD_SECRET_STAGE: "Pending"})
        == []
    )
    # Unknown at preview: checked once known.
    assert reasons(**{p.ACCOUNT_PASSWORD: p.UNKNOWN, p.ACCOUNT_PASSWORD_SECRET: SECRET}) == []
    assert (
        reasons(**{p.ACCOUNT_PASSWORD_SECRET: p.UNKNOWN, p.ACCOUNT_PASSWORD_SECRET_STAGE: "A"})
        == []
    )


def test_the_native_plugin_names_both_in_camel_case() -> None:
    [reason] = reasons(**{p.ACCOUNT_PASSWORD: "Aa1!aaaaa", p.ACCOUNT_PASSWORD_SECRET: SECRET})
    shown = render(reason)
    assert "accountPassword and accountPasswordSecret are mutually exclusive" in shown


def test_nothing_changed_is_no_diff_and_a_rotation_is_a_reset() -> None:
    assert not _diff.decide(applied(), inputs()).changes
    rotated = applied(latest="v2")
    assert rotated.rotated
    decision = _diff.decide(rotated, inputs())
    assert decision.reset and decision.reasons == [ROTATION_DRIFT]
    # A latest version not read yet (a state from before) is no drift.
    assert not applied(latest=None).rotated


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        (inputs(account_password_secret="polardb/other"), "account_password_secret set or changed"),
        (
            inputs(account_password_secret_stage="ACSPrevious"),
            "account_password_secret_stage changed",
        ),
        (inputs(account_password_secret_stage="ACSCurrent"), None),
        (inputs(unknown=frozenset({p.ACCOUNT_PASSWORD_SECRET})), "is not known yet"),
    ],
)
def test_secret_and_stage_changes(new: ResetInputs, reason: str | None) -> None:
    decision = _diff.decide(applied(), new)
    if reason is None:
        assert not decision.changes
    else:
        assert decision.reset and any(reason in r for r in decision.reasons), decision.reasons


def test_removing_the_secret_records_without_a_reset() -> None:
    decision = _diff.decide(applied(), inputs(account_password_secret=None))
    assert decision.changes and not decision.reset
    assert "account_password_secret removed (no reset)" in decision.reasons


def test_setting_a_secret_for_the_first_time_resets() -> None:
    state = ResetState("pc-abc123", "dbadmin", reset_nonce="1")
    decision = _diff.decide(state, inputs())
    assert decision.reset and "account_password_secret set or changed" in decision.reasons


def test_the_verdict_reports_a_rotation_as_drift() -> None:
    now = dt.datetime.now(dt.UTC)
    outputs = _convert.state_to_props(
        applied(latest="v2", check=replace(applied().check, privileges_ok=None))
    )
    verdict = _verdicts.classify(outputs, now=now)
    assert verdict.status == _verdicts.DRIFT and ROTATION_DRIFT in verdict.findings
    healthy = _convert.state_to_props(
        applied(check=replace(applied().check, privileges_ok=True, missing_privileges=()))
    )
    assert _verdicts.classify(healthy, now=now).status == _verdicts.OK


def test_outputs_hold_ids_never_a_value() -> None:
    outputs = _convert.state_to_props(applied(latest="v2"))
    assert outputs[p.ACCOUNT_PASSWORD_SECRET] == SECRET
    assert outputs[p.SECRET_VERSION] == "v1" and outputs[p.SECRET_LATEST_VERSION] == "v2"
    assert _convert.plain(outputs[p.SQL_CHECK_PASSWORD]) is None
