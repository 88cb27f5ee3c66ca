"""The ``polardb-reset`` command: drift detection and remediation for CI (see ``_app``)."""

from ._app import cli, main

__all__ = ["cli", "main"]
