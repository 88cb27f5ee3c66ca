"""A local emulator of the Alibaba Cloud PolarDB 2017-08-01 RPC API.

The real Alibaba Cloud SDK talks to it over HTTP(S) with real request
signatures. Start it with ``polardb-emulator serve --seed FILE``; see
docs/emulator.md.
"""

from ._exceptions import ApiError
from ._models import AccountBackend, Model
from ._seed import Seed, SeedError, load_seed, parse_seed
from ._server import Emulator, build_app

__version__ = "0.1.0"

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
