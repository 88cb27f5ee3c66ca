"""Reset the privileged account of Alibaba Cloud PolarDB for MySQL clusters with Pulumi.

Public surface::

    from pulumi_polardb_reset import PrivilegedAccountReset, PrivilegedAccountResetArgs
    from pulumi_polardb_reset import resets_from_config  # targets from stack config
    from pulumi_polardb_reset import shard_of  # the stable placement of a name on N shards

The names load on first use (PEP 562): importing one layer (the core, the native plugin,
the ``polardb-reset`` command) must not load the dynamic resource and ``pulumi.dynamic``
through this package's root. ``tests/unit/test_lazy_root.py`` holds that.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ._version import __version__
    from .core._errors import (
        ApiCallError,
        ConfigurationError,
        ErrorCode,
        OperationCancelledError,
        ResetError,
        ResetTimeoutError,
    )
    from .core._placement import shard_of
    from .dynamic._resource import PrivilegedAccountReset, PrivilegedAccountResetArgs
    from .dynamic._sharding import ShardingConfigError
    from .dynamic._targets import ResetTarget, TargetConfigError, parse_targets, resets_from_config
    from .provider import PrivilegedAccountResetProvider

#: Each public name and the module that defines it.
_LAZY: Final = {
    "__version__": "._version",
    "ApiCallError": ".core._errors",
    "ConfigurationError": ".core._errors",
    "ErrorCode": ".core._errors",
    "OperationCancelledError": ".core._errors",
    "ResetError": ".core._errors",
    "ResetTimeoutError": ".core._errors",
    "shard_of": ".core._placement",
    "PrivilegedAccountReset": ".dynamic._resource",
    "PrivilegedAccountResetArgs": ".dynamic._resource",
    "ShardingConfigError": ".dynamic._sharding",
    "ResetTarget": ".dynamic._targets",
    "TargetConfigError": ".dynamic._targets",
    "parse_targets": ".dynamic._targets",
    "resets_from_config": ".dynamic._targets",
    "PrivilegedAccountResetProvider": ".provider",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ApiCallError",
    "ConfigurationError",
    "ErrorCode",
    "OperationCancelledError",
    "PrivilegedAccountReset",
    "PrivilegedAccountResetArgs",
    "PrivilegedAccountResetProvider",
    "ResetError",
    "ResetTarget",
    "ResetTimeoutError",
    "ShardingConfigError",
    "TargetConfigError",
    "__version__",
    "parse_targets",
    "resets_from_config",
    "shard_of",
]
