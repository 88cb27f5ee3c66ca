"""Inputs as the engine delivers them (numbers are floats) and the targets parser (pure)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_polardb_reset import ResetTarget, TargetConfigError, parse_targets
from pulumi_polardb_reset.core import _convert as c
from pulumi_polardb_reset.core import _diff
from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.core._convert import normalize_inputs, validate_inputs
from pulumi_polardb_reset.core._validation import nonce_text


def decide_props(olds: Mapping[str, Any], news: Mapping[str, Any]) -> _diff.DiffDecision:
    """The diff decision for property maps, through the one conversion."""
    return _diff.decide(c.state_from_props(olds), c.inputs_from_props(news))


VALID: dict[str, Any] = {"db_cluster_id": "pc-abc123", "account_name": "dbadmin"}
OLD: dict[str, Any] = {**VALID, "reset_nonce": "1", "timeout_seconds": 900}


@pytest.mark.parametrize(("value", "text"), [(1, "1"), (1.0, "1"), ("1", "1"), (-3.0, "-3")])
def test_whole_numbers_are_their_decimal_string(value: Any, text: str) -> None:
    assert nonce_text(value) == text
    assert validate_inputs({**VALID, "reset_nonce": value}) == []
    assert normalize_inputs({**VALID, "reset_nonce": value})["reset_nonce"] == text


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_an_integer_and_its_float_are_one_nonce(n: int) -> None:
    old = {**OLD, "reset_nonce": str(n)}
    for new in (n, float(n), str(n)):
        assert not decide_props(old, {**VALID, "reset_nonce": new}).changes


def test_another_number_is_another_nonce() -> None:
    decision = decide_props(OLD, {**VALID, "reset_nonce": 2.0})
    assert decision.changes and decision.reasons == ["reset_nonce changed"]


@pytest.mark.parametrize("value", [1.5, True, False, math.inf, math.nan, [1], {"a": 1}])
def test_other_nonce_types_fail_naming_the_property(value: Any) -> None:
    (failure,) = validate_inputs({**VALID, "reset_nonce": value})
    assert failure.property == "reset_nonce"
    assert "a string or a whole number" in failure.reason


@pytest.mark.parametrize(("value", "ok"), [(60.0, True), (60, True), (2.5, False), (math.inf, False), (math.nan, False), (True, False)])  # fmt: skip
def test_timeout_seconds_accepts_integral_floats_only(value: Any, ok: bool) -> None:
    failures = validate_inputs({**VALID, "timeout_seconds": value})
    assert [f.property for f in failures] == ([] if ok else ["timeout_seconds"])
    if ok:
        assert normalize_inputs({**VALID, "timeout_seconds": value})["timeout_seconds"] == 60


def test_unknown_nonce_at_preview_passes() -> None:
    assert validate_inputs({**VALID, "reset_nonce": p.UNKNOWN}) == []


# -- targets ---------------------------------------------------------------------------


def test_parse_targets_maps_keys_and_numbers() -> None:
    (target,) = parse_targets(
        [
            {
                "name": "orders",
                "dbClusterId": "pc-a1",
                "accountName": "dbadmin",
                "resetNonce": 3.0,
                "timeoutSeconds": 60.0,
                "region": "cn-shanghai",
            }
        ]
    )
    assert target == ResetTarget(
        name="orders",
        db_cluster_id="pc-a1",
        account_name="dbadmin",
        reset_nonce="3",
        timeout_seconds=60,
        region="cn-shanghai",
    )
    args = target.args()
    assert (args.db_cluster_id, args.reset_nonce, args.timeout_seconds) == ("pc-a1", "3", 60)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "k must be a non-empty list"),
        ([], "k must be a non-empty list"),
        ({"name": "a"}, "k must be a non-empty list"),
        (["a"], "k[0] must be an object"),
        ([{"dbClusterId": "pc-a"}], "k[0].name must be"),
        ([{"name": "bad name"}], "k[0].name must be"),
        ([{"name": "a", "accountName": "x"}], "k[0] (a) needs dbClusterId"),
        ([{"name": "a", "dbClusterId": "pc-a"}], "k[0] (a) needs accountName"),
        ([{"name": "a", "dbClusterId": 7, "accountName": "x"}], "k[0] (a).dbClusterId must be a string (got int)"),
        ([{"name": "a", "dbClusterId": "pc-a", "accountName": "x", "dbClusterID": "y"}], "k[0] (a) has unknown key(s) dbClusterID"),
        ([{"name": "a", "dbClusterId": "pc-a", "accountName": "x", "resetNonce": 1.5}], "k[0] (a).resetNonce must be a string or a whole number (got 1.5)"),
        ([{"name": "a", "dbClusterId": "pc-a", "accountName": "x", "timeoutSeconds": "9"}], "k[0] (a).timeoutSeconds must be a whole number"),
        ([{"name": "a", "dbClusterId": "pc-a", "accountName": "x", "region": 1}], "k[0] (a).region must be a string"),
        (
            [
                {"name": "a", "dbClusterId": "pc-a", "accountName": "x"},
                {"name": "a", "dbClusterId": "pc-b", "accountName": "x"},
            ],
            "k[1].name 'a' is used by an earlier target",
        ),
    ],
)  # fmt: skip
def test_parse_targets_names_entry_and_key(raw: Any, message: str) -> None:
    with pytest.raises(TargetConfigError) as info:
        parse_targets(raw, "k")
    assert message in str(info.value)


@given(st.recursive(st.none() | st.booleans() | st.floats() | st.text(max_size=5), lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=12), c, max_size=4), max_leaves=12))  # fmt: skip
def test_parse_targets_never_fails_other_than_with_its_error(raw: Any) -> None:
    with contextlib.suppress(TargetConfigError):
        parse_targets(raw, "k")
