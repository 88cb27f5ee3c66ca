"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from package_harness import build_distributions


@pytest.fixture(scope="session")
def package_distributions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The package's sdist and wheel (built from the sdist), once per session."""
    return build_distributions(tmp_path_factory.mktemp("package"))


@pytest.fixture(scope="session")
def package_wheel(package_distributions: tuple[Path, Path]) -> Path:
    """The package's wheel, as users and the examples' READMEs install it."""
    return package_distributions[1]
