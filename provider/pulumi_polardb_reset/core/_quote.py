"""How a message shows a value it refuses: a short, bounded prefix (pure).

A bad value comes from whoever writes the program or the state, so a message must stay
readable and small whatever it is: a 10 MB account name, a struct nested 500 levels deep,
``inf``. :func:`quote` is the one way every message of the package shows a value; it is
built on :class:`reprlib.Repr`, which bounds strings, containers and nesting without
recursing through the value. :func:`shorten` bounds a whole message (and a name taken from
the input, such as an unexpected property key).
"""

from __future__ import annotations

import reprlib
from typing import Any, Final

#: Characters of a string value shown before ``...``.
MAX_QUOTED: Final = 40
#: Characters of a whole message (a reason, an error) before ``...``.
MAX_MESSAGE: Final = 2000


class _Prefix(reprlib.Repr):
    """``reprlib.Repr`` that keeps the start of a long string (reprlib keeps both ends)."""

    def repr_str(self, x: str, level: int) -> str:
        if len(x) <= self.maxstring:
            return repr(x)
        return repr(x[: self.maxstring]) + "..."


_REPR: Final = _Prefix()
_REPR.maxstring = MAX_QUOTED
_REPR.maxother = MAX_QUOTED
_REPR.maxlevel = 2
_REPR.maxdict = 3
_REPR.maxlist = 3
_REPR.maxtuple = 3


def quote(value: Any) -> str:
    """``repr(value)`` bounded: strings cut to their first characters, containers shallow."""
    try:
        return _REPR.repr(value)
    except Exception:  # a value whose own __repr__ fails (never from the wire, but cheap)
        return f"<{type(value).__name__}>"


def shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` cut to ``limit`` characters, ending in ``...`` when cut."""
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


__all__ = ["MAX_MESSAGE", "MAX_QUOTED", "quote", "shorten"]
