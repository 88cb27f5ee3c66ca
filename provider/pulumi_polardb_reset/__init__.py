"""Reset the privileged account of Alibaba Cloud PolarDB for MySQL clusters with Pulumi.

Public surface::

    from pulumi_polardb_reset import PrivilegedAccountReset, PrivilegedAccountResetArgs
"""

from ._errors import ConfigurationError, ResetError
from ._provider import PrivilegedAccountResetProvider
from ._resource import PrivilegedAccountReset, PrivilegedAccountResetArgs

__all__ = [
    "ConfigurationError",
    "PrivilegedAccountReset",
    "PrivilegedAccountResetArgs",
    "PrivilegedAccountResetProvider",
    "ResetError",
    "__version__",
]

__version__ = "0.1.0"
