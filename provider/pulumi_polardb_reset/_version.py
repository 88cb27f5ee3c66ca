"""The package version, read from the installed distribution's metadata."""

from __future__ import annotations

from importlib import metadata
from typing import Final

DISTRIBUTION: Final = "pulumi-polardb-reset"
#: Reported when the package runs from a source tree that is not installed.
UNKNOWN_VERSION: Final = "0+unknown"


def package_version(distribution: str = DISTRIBUTION) -> str:
    """The installed version of ``distribution``, or ``0+unknown`` when it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return UNKNOWN_VERSION


__version__: Final = package_version()
