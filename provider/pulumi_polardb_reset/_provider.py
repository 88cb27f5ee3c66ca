"""Alias of :mod:`pulumi_polardb_reset.provider`, kept for existing state.

Before commit 7a8fda6, version 0.1.0 pickled its provider as
``pulumi_polardb_reset._provider.PrivilegedAccountResetProvider`` into every
stack's state; this module keeps that path importable forever.
"""

from .provider import PrivilegedAccountResetProvider

__all__ = ["PrivilegedAccountResetProvider"]
