"""polardb-reset reads the targets config with the program's own reader (issue 25 #6).

``resets_from_config`` (the program) and the command once read ``<project>:targets``
differently: the program strictly, the command leniently (skipping what it did not
understand), so a target the program refused could still be "planned" by the command.
Now one reader: what the program refuses is a usage error of the command (exit 2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from pulumi_polardb_reset.cli import _engine as e


@dataclass
class Value:
    value: str


class Stack:
    """What the command reads of a stack here: its config, as the Automation API gives it."""

    name = "dev"

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = {k: Value(json.dumps(v)) for k, v in config.items()}

    def get_all_config(self) -> dict[str, Value]:
        return self._config


GOOD = [{"name": "main", "dbClusterId": "pc-abc123", "accountName": "dbadmin", "resetNonce": 1}]


def test_targets_the_program_accepts_are_read() -> None:
    stack: Any = Stack({"proj:targets": GOOD})
    assert e.configured_targets(stack, "proj") == GOOD
    planned = e.planned_targets(stack, "proj", {})
    assert planned["main"].cluster == "pc-abc123" and not planned["main"].deployed
    assert e.configured_targets(Stack({}), "proj") == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("targets", "said"),
    [
        ([{"dbClusterId": "pc-a", "accountName": "x"}], "proj:targets[0].name"),
        ([*GOOD, {**GOOD[0]}], "is used by an earlier target"),
        ([{**GOOD[0], "dbClusterID": "pc-typo"}], "unknown key(s) dbClusterID"),
        ([{"name": "b", "accountName": "x"}], "dbClusterId"),
        ({"name": "main"}, "must be a non-empty list"),
    ],
)
def test_targets_the_program_refuses_are_a_usage_error(targets: Any, said: str) -> None:
    # The command used to skip or half-read these; the program fails on each.
    stack: Any = Stack({"proj:targets": targets})
    with pytest.raises(e.UsageError, match="config proj:targets") as caught:
        e.configured_targets(stack, "proj")
    assert said in str(caught.value)
