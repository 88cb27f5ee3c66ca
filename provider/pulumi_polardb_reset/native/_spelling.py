"""The names a native user reads: messages spelled for the plugin, once, at its edge.

The layers below word their messages for the dynamic resource, the package's first engine:
snake_case properties (``check_password``) and the stack config keys it reads
(``alicloud:region``, ``polardbReset:allowInsecureEndpoint``). A user of the plugin sets
camelCase properties (``checkPassword``) and ``polardb-account:<key>`` config, as Pulumi's
conventions want for every non-Python surface. Every message the plugin hands the engine
(warnings, check failures, errors, diff reasons) and the recorded cause of a check that could
not tell pass through :func:`render`, which maps exactly the names of the field table and
of the configuration keys, as whole words, and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from ..core import _convert
from ..core import _props as p
from ._config import KEYS, PACKAGE

#: Each name as the layers below write it, and as a native user sets it.
NATIVE_NAMES: Final = {
    **{name: camel for name, camel in p.CAMEL.items() if name != camel},
    **{key.settings_key: f"{PACKAGE}:{key.name}" for key in KEYS},
}
# Longest first, so that ``account_password_fingerprint`` is never read as
# ``account_password``; a name inside a longer identifier or key is not a name.
_NAME: Final = re.compile(
    r"(?<![\w:-])(?:"
    + "|".join(re.escape(n) for n in sorted(NATIVE_NAMES, key=len, reverse=True))
    + r")(?![\w-])"
)


def render(message: str) -> str:
    """``message`` with the names a native user sets."""
    return _NAME.sub(lambda found: NATIVE_NAMES[found.group(0)], message)


def render_outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """``outputs`` (snake_case keys) with the recorded cause of the check spelled natively."""
    out = dict(outputs)
    cause = _convert.plain(out.get(p.PRIVILEGES_CHECK_CAUSE))
    if isinstance(cause, str):
        out[p.PRIVILEGES_CHECK_CAUSE] = render(cause)
    return out
