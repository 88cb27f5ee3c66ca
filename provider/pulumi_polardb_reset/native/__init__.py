"""The native Pulumi provider plugin ``pulumi-resource-polardb-account``.

Serves the resource ``polardb-account:index:PrivilegedAccountReset`` to programs in any
Pulumi language (YAML, TypeScript, Go, Python, ...) over Pulumi's provider protocol,
with the same rules as the dynamic resource. See docs/native-provider.md.
"""

from ._server import main

__all__ = ["main"]
