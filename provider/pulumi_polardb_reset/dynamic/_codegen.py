"""Render :mod:`._args` (the resource class's argument and output listings) from the field table.

The Python listings must be written out for type checkers and IDEs, so they are
generated from :data:`~..core._props.INPUT_FIELDS` and :data:`~..core._props.OUTPUT_FIELDS`
rather than kept by hand: run ``python -m pulumi_polardb_reset.dynamic._codegen`` after
changing the table; ``tests/unit/test_field_table.py`` fails while ``_args.py`` is stale.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from ..core import _props as p

TARGET: Path = Path(__file__).with_name("_args.py")

_HEADER = '''"""Argument and output listings of :class:`PrivilegedAccountReset` (generated: do not edit).

Rendered by ``python -m pulumi_polardb_reset.dynamic._codegen`` from the field table in
:mod:`pulumi_polardb_reset.core._props`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic
'''


def _doc(text: str, indent: str, first: str = "") -> list[str]:
    return textwrap.wrap(
        first + text,
        width=100,
        initial_indent=indent,
        subsequent_indent=indent + ("    " if first else ""),
    )


def _args_class() -> list[str]:
    lines = [
        "",
        "",
        "@dataclass",
        "class PrivilegedAccountResetArgs:",
        '    """Arguments of :class:`PrivilegedAccountReset`.',
        "",
    ]
    for f in p.INPUT_FIELDS:
        lines += _doc(f.description, "    ", f":param {f.name}: ")
    lines += ['    """', ""]
    for f in p.INPUT_FIELDS:
        if f.required:
            lines.append(f"    {f.name}: pulumi.Input[{f.python}]")
        else:
            lines.append(f"    {f.name}: pulumi.Input[{f.python}] | None = None")
    return lines


def _resource_base() -> list[str]:
    lines = [
        "",
        "",
        "class PrivilegedAccountResetBase(pulumi.dynamic.Resource):",
        '    """The outputs and arguments of :class:`PrivilegedAccountReset`."""',
        "",
    ]
    for f in p.OUTPUT_FIELDS:
        if f.internal:
            continue
        lines.append(f"    {f.name}: pulumi.Output[{f.python}]")
        lines += _doc(f.description, "    ", '"""')
        lines[-1] += '"""'
    lines += [
        "",
        "    def __init__(",
        "        self,",
        "        resource_name: str,",
        "        args: PrivilegedAccountResetArgs | None = None,",
        "        opts: pulumi.ResourceOptions | None = None,",
        "        *,",
    ]
    lines += [f"        {f.name}: pulumi.Input[{f.python}] | None = None," for f in p.INPUT_FIELDS]
    lines += [
        "    ) -> None:",
        '        """Declare a reset of ``account_name`` on ``db_cluster_id``.',
        "",
        "        Arguments may be given as :class:`PrivilegedAccountResetArgs`, as keyword arguments",
        "        (the same names and meanings), or both: a keyword argument that is not None wins.",
        '        """',
        "        keywords = {",
    ]
    lines += [f'            "{f.name}": {f.name},' for f in p.INPUT_FIELDS]
    lines += [
        "        }",
        "        self._register(resource_name, args, opts, keywords)",
        "",
        "    def _register(",
        "        self,",
        "        resource_name: str,",
        "        args: PrivilegedAccountResetArgs | None,",
        "        opts: pulumi.ResourceOptions | None,",
        "        keywords: Mapping[str, Any],",
        "    ) -> None:",
        "        raise NotImplementedError",
    ]
    return lines


def _target_values() -> list[str]:
    lines = [
        "",
        "",
        "@dataclass(frozen=True)",
        "class TargetValues:",
        '    """The values of one entry of the ``targets`` config list (its resource arguments)."""',
        "",
        "    name: str",
    ]
    for f in p.INPUT_FIELDS:
        if not f.target:
            continue
        # A target holds the value as the resource records it: a nonce as its string.
        kind = f.python.split(" | ")[0]
        lines.append(
            f"    {f.name}: {kind}" if f.required else f"    {f.name}: {kind} | None = None"
        )
    return lines


def render() -> str:
    """The text of ``_args.py`` for the current field table."""
    lines = [*_args_class(), *_resource_base(), *_target_values()]
    return _HEADER + "\n".join(lines) + "\n"


def main() -> int:
    """Write ``_args.py``; print whether it changed."""
    text = render()
    changed = not TARGET.exists() or TARGET.read_text() != text
    if changed:
        TARGET.write_text(text)
    print(f"{TARGET}: {'written' if changed else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
