"""Attacks on the emulator (issue 13, findings 1-9), each reproduced over real HTTP.

Every test here failed against the emulator before its hardening; the
finding it covers is in its name and docstring.
"""

from __future__ import annotations

from emulator_harness import (
    ACCESS_KEY_SECRET,
    EmulatorProcess,
    form,
    raw_post,
    sign_v1,
    v1_params,
)

MYSQL = "pc-mysql00000001"
MYSQL2 = "pc-mysql00000002"
FORM = {"content-type": "application/x-www-form-urlencoded"}


# --- finding 1: V1 signatures cover every parameter, query and form body ---------------


def test_f1_unsigned_form_body_cannot_redirect_a_signed_v1_reset(emu: EmulatorProcess) -> None:
    """A query signed as ResetAccount on cluster A with password X, plus an unsigned body
    naming cluster B and password Y, must not touch B (it used to set Y on B)."""
    query = v1_params(
        "ResetAccount", DBClusterId=MYSQL, AccountName="dbadmin", AccountPassword="Xx1!signed"
    )
    query["Signature"] = sign_v1(ACCESS_KEY_SECRET, query)
    body = form(
        {"DBClusterId": MYSQL2, "AccountName": "polar_super", "AccountPassword": "Yy2!forged"}
    )
    status, answer, _ = raw_post(emu.base_url, query, FORM, body)
    assert (status, answer["Code"]) == (400, "SignatureDoesNotMatch")
    assert emu.verify_password(MYSQL2, "polar_super", "Sup3r!pass")
    assert emu.verify_password(MYSQL, "dbadmin", "Adm1n!pass")
    assert emu.state()["tasks"] == []


def test_f1_unsigned_form_body_cannot_change_the_v1_action(emu: EmulatorProcess) -> None:
    """A query signed as DescribeAccounts plus a body Action=DeleteAccount&AccountName=app_rw
    must not delete the account (it used to)."""
    query = v1_params("DescribeAccounts", DBClusterId=MYSQL)
    query["Signature"] = sign_v1(ACCESS_KEY_SECRET, query)
    body = form({"Action": "DeleteAccount", "AccountName": "app_rw"})
    status, answer, _ = raw_post(emu.base_url, query, FORM, body)
    assert (status, answer["Code"]) == (400, "SignatureDoesNotMatch")
    assert emu.account(MYSQL, "app_rw") is not None
    assert emu.state()["tasks"] == []


def test_f1_v1_parameters_signed_in_the_form_body_are_accepted(emu: EmulatorProcess) -> None:
    """Alibaba's V1 signs query and form parameters alike: a body that was signed counts."""
    query = v1_params("ResetAccount")
    in_body = {"DBClusterId": MYSQL2, "AccountName": "polar_super", "AccountPassword": "B0dy!sig1"}
    query["Signature"] = sign_v1(ACCESS_KEY_SECRET, query | in_body)
    status, answer, _ = raw_post(emu.base_url, query, FORM, form(in_body))
    assert status == 200, answer
    assert emu.verify_password(MYSQL2, "polar_super", "B0dy!sig1")
    [entry] = emu.requests("ResetAccount")
    assert entry["params"]["DBClusterId"] == MYSQL2
    assert entry["params"]["AccountPassword"] == "***REDACTED***"
