"""The stable import path of the dynamic provider that stacks' state pickles.

Every stack's state names ``pulumi_polardb_reset.provider.PrivilegedAccountResetProvider``
by import path (``pulumi_polardb_reset._provider`` in 0.1.0), so this path stays importable
in every future version. The implementation lives in :mod:`pulumi_polardb_reset.dynamic`.
"""

from .dynamic._provider import PrivilegedAccountResetProvider

__all__ = ["PrivilegedAccountResetProvider"]
