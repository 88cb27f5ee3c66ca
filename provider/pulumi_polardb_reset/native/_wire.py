"""Property maps on the wire: protobuf ``Struct`` <-> plain dicts, camelCase <-> snake_case.

Once the provider accepts secrets (Handshake/Configure), the engine sends secrets as
``{SIG_KEY: SECRET_SIG, "value": ...}`` objects and preview-time unknowns as a sentinel
string; ``Struct`` carries both as plain JSON, which is exactly the wire form the lifecycle
layer reads and writes (:mod:`..core._convert`), so values need no conversion beyond JSON's
(numbers arrive as floats). Names convert through the field table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2  # type: ignore[import-untyped]

from ..core import _convert
from ..core import _props as p


def to_dict(message: struct_pb2.Struct | None) -> dict[str, Any]:
    """A ``Struct`` as a dict (an absent message is empty)."""
    if message is None:
        return {}
    result: dict[str, Any] = json_format.MessageToDict(message)
    return result


def to_struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    """A dict as a ``Struct``; ``None`` values are dropped (absent, as the engine expects)."""
    struct = struct_pb2.Struct()
    struct.update({k: v for k, v in values.items() if v is not None})
    return struct


def camel(name: str) -> str:
    """The schema's name of a property (``db_cluster_id`` -> ``dbClusterId``)."""
    return p.CAMEL.get(name, name)


def from_wire(message: struct_pb2.Struct | None) -> dict[str, Any]:
    """A property map from the engine, with snake_case keys (others kept: check names them)."""
    return _convert.rename(to_dict(message), "snake")


def to_wire(values: Mapping[str, Any]) -> struct_pb2.Struct:
    """A snake_case property map as the engine's camelCase ``Struct``."""
    return to_struct(_convert.rename(values, "camel"))
