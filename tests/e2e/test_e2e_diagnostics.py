"""End to end: each warning and diff line said once per resource and operation (issue 24, item 12).

``pulumi preview --refresh`` and ``pulumi up --refresh`` of the dynamic resource (the
examples/drift-remediation project, real MariaDB behind the emulator), one target whose
SQL endpoint refuses connections (a "not checked" warning on every refresh) and one whose
nonce changes (a diff line and a reset). Each thing is said once per resource in each
phase's Diagnostics, under that resource and never on the stack; the engine's event
stream (``--json``) witnesses one diagnostic event per operation, carrying the resource's
URN.
Before the fix the warning and the messages went to the engine without a URN (and the
messages to the host's stderr): the CLI showed them on the stack, and repeated them with
every status line of the stack.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulator_harness import EmulatorProcess, refusing_port
from pulumi_harness import REPO, PulumiProject, emulator_config, pulumi_bin, set_secret_key
from test_e2e_drift import MANAGED, NAMESPACE, SEED, TARGETS

pytestmark = pytest.mark.e2e
MARIADB_SEED = SEED  # the maria fixtures' (tests/conftest.py)
RESOURCE = "pulumi-python:dynamic/polardb:PrivilegedAccountReset"
STACK_HEADING = re.compile(r"^  pulumi:pulumi:Stack \(")


@pytest.fixture(scope="session")
def bin_dir() -> str:
    return pulumi_bin()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port refusing connections for the whole test (held, so nobody else's meanwhile)."""
    with refusing_port() as port:
        yield port


def diagnostics(output: str) -> list[dict[str, list[str]]]:
    """Each ``Diagnostics:`` section of ``output``: heading (``TYPE (name)``) -> its lines."""
    sections: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] | None = None
    heading = ""
    for line in output.splitlines():
        if line == "Diagnostics:":
            current = {}
            sections.append(current)
        elif current is not None and line.startswith("  ") and not line.startswith("    "):
            heading = line.strip().rstrip(":")
            current[heading] = []
        elif current is not None and line.startswith("    ") and heading:
            current[heading].append(line.strip())
        elif current is not None and line and not line.startswith(" "):
            current, heading = None, ""
    return sections


def events(output: str) -> Counter[tuple[str, str]]:
    """(URN, message) of each warning or info diagnostic in a ``--json`` event stream."""
    found: Counter[tuple[str, str]] = Counter()
    for line in output.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        diag = event.get("diagnosticEvent") if isinstance(event, dict) else None
        if diag and diag.get("severity") in ("warning", "info"):
            found[(diag.get("urn", ""), diag["message"].strip())] += 1
    return found


def once_each(said: Counter[tuple[str, str]], needle: str, name: str, times: int) -> None:
    """``needle`` said ``times`` times in all, every time with resource ``name``'s URN."""
    found = {(urn, n) for (urn, m), n in said.items() if needle in m}
    assert len(found) == 1, said
    ((urn, count),) = found
    assert urn.endswith(f"::{name}") and count == times, said


def test_each_warning_and_diff_line_once_per_resource_and_phase(
    maria: EmulatorProcess, tmp_path: Path, bin_dir: str, closed_port: int
) -> None:
    endpoint = f"127.0.0.1:{closed_port}"
    targets: list[dict[str, Any]] = [TARGETS[0], {**TARGETS[1], "sqlEndpoint": endpoint}]
    proj = PulumiProject(REPO / "examples" / "drift-remediation", tmp_path, bin_dir=bin_dir)
    proj.write_config(emulator_config(maria, targets, namespace=NAMESPACE))
    set_secret_key(proj)
    for t in targets:
        proj.set_secret(f"{NAMESPACE}:passwords.{t['name']}", MANAGED[t["name"]], path=True)
    proj.run("up", "--yes", "--skip-preview")
    warning = f"the SQL endpoint {endpoint} refused the connection"
    billing = f"{RESOURCE} (billing)"
    orders = f"{RESOURCE} (orders)"

    preview = proj.run("preview", "--refresh").stdout
    (section,) = diagnostics(preview)
    assert list(section) == [billing], preview
    assert sum(warning in line for line in section[billing]) == 1, preview
    proj.env["PULUMI_ENABLE_STREAMING_JSON_PREVIEW"] = "true"
    once_each(events(proj.run("preview", "--refresh", "--json").stdout), warning, "billing", 1)
    del proj.env["PULUMI_ENABLE_STREAMING_JSON_PREVIEW"]

    proj.set_config(f"{NAMESPACE}:nonces.orders", "7", path=True)
    up = proj.run("up", "--yes", "--refresh").stdout
    sections = diagnostics(up)
    assert len(sections) == 2, up  # the preview's and the update's
    for section in sections:
        assert not any(STACK_HEADING.match(f"  {h}") for h in section), up
        assert sum(warning in line for line in section[billing]) == 1, up
        assert sum("reset_nonce changed" in line for line in section[orders]) == 1, up
    assert sum("ResetAccount accepted" in line for line in sections[1][orders]) == 1, up

    proj.set_config(f"{NAMESPACE}:nonces.orders", "8", path=True)
    said = events(proj.run("up", "--yes", "--refresh", "--json").stdout)
    # (``up --json`` streams the update's events only.)
    once_each(said, warning, "billing", 1)
    once_each(said, "reset_nonce changed", "orders", 1)
    once_each(said, "ResetAccount accepted", "orders", 1)
