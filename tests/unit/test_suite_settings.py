"""The suite's own settings (tests/conftest.py): hypothesis's profile, the fake clock."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from conftest import HYPOTHESIS_EXAMPLES, FakeClock
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.skipif(
    os.environ.get("HYPOTHESIS_PROFILE", "ci") != "ci", reason="another profile asked for"
)

_RUNS: list[int] = []


def test_the_ci_profile_is_loaded_by_default() -> None:
    profile = settings()  # what a test without its own settings gets
    assert profile.deadline is None  # load, never correctness, decides an example's time
    assert profile.max_examples == HYPOTHESIS_EXAMPLES
    assert profile.database is None


@given(st.integers())
def _count(value: int) -> None:
    _RUNS.append(value)


def test_a_property_without_settings_runs_the_fixed_budget() -> None:
    _RUNS.clear()
    _count()
    # Hypothesis stops early only when it has exhausted a strategy; integers() never is.
    assert len(_RUNS) == HYPOTHESIS_EXAMPLES


def test_the_fake_clock_moves_only_when_told() -> None:
    start = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    clock = FakeClock(100.0, start=start)
    assert clock() == 100.0 and clock.utc() == start
    clock.sleep(1.5)
    clock.advance(86400)
    assert clock() == 86501.5 and clock.sleeps == [1.5, 86400]
    assert clock.utc_in(days=2) == "2026-01-05T03:04:06Z"
    with pytest.raises(AssertionError, match="negative"):
        clock.sleep(-1)
