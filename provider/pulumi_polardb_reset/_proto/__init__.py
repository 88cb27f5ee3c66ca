"""Pulumi's generated provider-protocol stubs, loaded without the ``pulumi`` package's root.

``pulumi/__init__.py`` imports the whole SDK (``pulumi.dynamic``, ``pulumi.automation``,
``pulumi.policy``: about 240 modules) before any of its submodules, while the plugin needs
only the protocol's protobuf and gRPC stubs in ``pulumi/runtime/proto``. Those are
generated modules whose imports of each other are relative, so this package takes that
directory as its own (``__path__``): ``from ._proto import provider_pb2`` loads the SDK's
file itself, the installed and pinned one, never a copy. Both names register the same
serialized descriptors, so a process that also imports ``pulumi.runtime.proto`` gets the
same message classes (``tests/unit/test_lazy_root.py``). The release binary
(scripts/build_plugin.py: PyInstaller, modules as ``.pyc`` files, no archive) has only the
compiled files there, which Python imports as well; a bundle that keeps modules in an archive
falls back to the SDK's own import path.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from types import ModuleType


def _stubs_directory() -> str | None:
    spec = importlib.util.find_spec("pulumi")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the pulumi package is not installed (pip install pulumi)")
    directory = os.path.join(next(iter(spec.submodule_search_locations)), "runtime", "proto")
    stubs = (os.path.join(directory, "provider_pb2" + suffix) for suffix in (".py", ".pyc"))
    return directory if any(os.path.isfile(stub) for stub in stubs) else None


_directory = _stubs_directory()
if _directory is not None:
    __path__ = [_directory]
else:

    def __getattr__(name: str) -> ModuleType:
        return importlib.import_module(f"pulumi.runtime.proto.{name}")
