"""The README's emulator snippet runs as written against an emulator started from demo/seed.yaml."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_harness import EmulatorProcess

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo_emulator() -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(REPO / "demo" / "seed.yaml")
    yield process
    process.stop()


def test_readme_emulator_snippet_resets_the_account(
    demo_emulator: EmulatorProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (REPO / "README.md").read_text()
    match = re.search(r"<!-- readme-snippet: emulator -->\s*```python\n(.*?)```", readme, re.S)
    assert match, "README lost its emulator snippet"
    code = match.group(1).replace("127.0.0.1:PORT", demo_emulator.endpoint)
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - our own README
    printed = capsys.readouterr().out
    assert "('dbadmin', " in printed and "('app_rw', 'Available')" in printed
    (call,) = demo_emulator.requests(action="ResetAccount")
    assert call["status"] == 200
    assert demo_emulator.verify_password("pc-demo0000000001", "dbadmin", "N3w!Passw0rd")
