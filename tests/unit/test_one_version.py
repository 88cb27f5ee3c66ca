"""One version source: the package, the emulator and the plugin report pyproject's version."""

from __future__ import annotations

import tomllib
from pathlib import Path

import polardb_emulator
import pulumi_polardb_reset
from pulumi_polardb_reset.native._server import plugin_version

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_every_part_reports_the_distributions_version() -> None:
    version = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    assert pulumi_polardb_reset.__version__ == version
    assert polardb_emulator.__version__ == version  # it said 0.1.0 beside a 0.2.0 package
    assert plugin_version() == version
