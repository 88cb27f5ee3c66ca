"""A local emulator of the Alibaba Cloud PolarDB 2017-08-01 RPC API.

The real Alibaba Cloud SDK talks to it over HTTP(S) with real request
signatures. Start it with ``polardb-emulator serve --seed FILE``, or from
tests with :mod:`polardb_emulator.testing`; see docs/emulator.md.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str
    from ._emulator import Emulator
    from ._exceptions import ApiError
    from ._seed import Seed, SeedError, load_seed, parse_seed
    from ._server import build_app
    from .polardb.backend import AccountBackend
    from .polardb.models import Model

#: The emulator ships in the pulumi-polardb-reset distribution: its version is that one's.
DISTRIBUTION = "pulumi-polardb-reset"

# Loaded on first use, so that ``polardb_emulator.testing`` (standard library
# and PyYAML only) does not pull in aiohttp.
_LAZY = {
    "AccountBackend": ".polardb.backend",
    "ApiError": "._exceptions",
    "Emulator": "._emulator",
    "Model": ".polardb.models",
    "Seed": "._seed",
    "SeedError": "._seed",
    "build_app": "._server",
    "load_seed": "._seed",
    "parse_seed": "._seed",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":  # one version source: the installed distribution's metadata
        try:
            return importlib.metadata.version(DISTRIBUTION)
        except importlib.metadata.PackageNotFoundError:  # a source tree, not installed
            return "0+unknown"
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'polardb_emulator' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


__all__ = [
    "AccountBackend",
    "ApiError",
    "Emulator",
    "Model",
    "Seed",
    "SeedError",
    "__version__",
    "build_app",
    "load_seed",
    "parse_seed",
]
