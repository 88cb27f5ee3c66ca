"""Reset the privileged account of Alibaba Cloud PolarDB for MySQL clusters with Pulumi.

Public surface::

    from pulumi_polardb_reset import PrivilegedAccountReset, PrivilegedAccountResetArgs
    from pulumi_polardb_reset import resets_from_config  # targets from stack config
    from pulumi_polardb_reset import shard_of  # the stable placement of a name on N shards
"""

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
