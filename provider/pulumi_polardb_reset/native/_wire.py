"""Property maps on the wire: protobuf ``Struct`` <-> plain dicts, camelCase <-> snake_case.

Once the provider accepts secrets (Handshake/Configure), the engine sends secrets as
``{SIG_KEY: SECRET_SIG, "value": ...}`` objects and preview-time unknowns as a sentinel
string; ``Struct`` carries both as plain JSON, which is exactly the wire form the lifecycle
layer reads and writes (:mod:`..core._convert`), so values need no conversion beyond JSON's
(numbers arrive as floats). Names convert through the field table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from google.protobuf import struct_pb2  # type: ignore[import-untyped]

from ..core import _convert
from ..core import _props as p
from ..core._errors import ErrorCode, ResetError
from ..core._quote import shorten

#: How deep a value may nest. Every property of the resource and the provider is a scalar
#: or a list of scalars (two levels with a secret wrapper); deeper is a bad input, and
#: converting it without a bound could exhaust Python's stack.
MAX_DEPTH: Final = 32


class WireValueError(ResetError):
    """A property value the plugin refuses to convert (nested deeper than :data:`MAX_DEPTH`)."""

    default_code = ErrorCode.INVALID_INPUT

    def __init__(self, name: str) -> None:
        self.name = shorten(name, 64)
        super().__init__(
            f"{self.name} is nested more than {MAX_DEPTH} levels deep; set it to a string, "
            "a number, a boolean or a list of them"
        )


def to_dict(message: struct_pb2.Struct | None) -> dict[str, Any]:
    """A ``Struct`` as a dict (an absent message is empty); numbers are floats (inf and NaN too).

    Raises :class:`WireValueError` (naming the property) for a value nested too deep.
    """
    values, refused = to_dict_lenient(message)
    if refused:
        raise WireValueError(refused[0])
    return values


def to_dict_lenient(message: struct_pb2.Struct | None) -> tuple[dict[str, Any], list[str]]:
    """A ``Struct`` as a dict without the properties nested too deep, and their names.

    ``json_format.MessageToDict`` is not used: it refuses ``inf`` and ``NaN`` (a program may
    send them, YAML's ``.inf``) and recurses without a bound.
    """
    if message is None:
        return {}, []
    values: dict[str, Any] = {}
    refused: list[str] = []
    for key, value in message.fields.items():
        try:
            values[key] = _value(value, MAX_DEPTH)
        except _TooDeepError:
            refused.append(key)
    return values, sorted(refused)


class _TooDeepError(Exception):
    pass


def _value(value: struct_pb2.Value, depth: int) -> Any:
    kind = value.WhichOneof("kind")
    if kind in ("struct_value", "list_value") and depth <= 0:
        raise _TooDeepError
    if kind == "struct_value":
        return {k: _value(v, depth - 1) for k, v in value.struct_value.fields.items()}
    if kind == "list_value":
        return [_value(v, depth - 1) for v in value.list_value.values]
    if kind == "number_value":
        return value.number_value
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    return None  # null_value, or no kind at all


def to_struct(values: Mapping[str, Any], *, nulls: bool = False) -> struct_pb2.Struct:
    """A dict as a ``Struct``; ``None`` values are dropped (absent: an input not set), or
    with ``nulls`` sent as ``null`` (an output known to have no value)."""
    struct = struct_pb2.Struct()
    struct.update({k: v for k, v in values.items() if nulls or v is not None})
    return struct


def camel(name: str) -> str:
    """The schema's name of a property (``db_cluster_id`` -> ``dbClusterId``)."""
    return p.CAMEL.get(name, name)


def from_wire(message: struct_pb2.Struct | None) -> dict[str, Any]:
    """A property map from the engine, with snake_case keys (others kept: check names them).

    Raises :class:`WireValueError` for a value nested too deep (see :func:`to_dict`).
    """
    return _convert.rename(to_dict(message), "snake")


def from_wire_lenient(message: struct_pb2.Struct | None) -> tuple[dict[str, Any], list[str]]:
    """:func:`from_wire` without the properties nested too deep, and their (wire) names."""
    values, refused = to_dict_lenient(message)
    return _convert.rename(values, "snake"), refused


def to_wire(values: Mapping[str, Any], *, outputs: bool = False) -> struct_pb2.Struct:
    """A snake_case property map as the engine's camelCase ``Struct``.

    Every secret property (:data:`~..core._props.SECRET_OUTPUTS`) goes out wrapped as a
    secret, also when the engine sent it in clear (a YAML program's plain string): what the
    plugin answers is stored in state, where a password is never plaintext.

    With ``outputs`` (the properties of Create, Update and Read), an output without a value
    goes out as ``null``, not left out: Pulumi's SDKs read a property left out as undefined
    (TypeScript warns "Undefined value (privilegesOk)" when it is exported) and, in a
    preview, as unknown (``+ missingPrivileges: [unknown]`` on an unchanged stack).
    """
    return to_struct(_convert.rename(_secrets_wrapped(values), "camel"), nulls=outputs)


def _secrets_wrapped(values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for name in p.SECRET_OUTPUTS:
        value = out.get(name)
        if value is not None and not _convert.is_secret(value) and not _convert.is_unknown(value):
            out[name] = _convert.secret(value)
    return out
