"""What the emulator writes to stderr: one line per record, control characters escaped.

Requests carry passwords (``AccountPassword`` travels in the query string) and
anything a client sends may hold a newline that would forge a log line. So:

* values that come from a request are passed through :func:`escape` where they
  are logged (the emulator logs action names and codes, never parameters);
* the CLI's handler formats every record with :class:`OneLineFormatter`, which
  escapes control characters in the whole message and prints tracebacks only
  for the emulator's own loggers: a library's exception (aiohttp's parser
  errors quote the request line) shows only its class name.
"""

from __future__ import annotations

import logging
import re
import sys

PREFIX = "polardb-emulator: "
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_OWN_LOGGERS = "polardb_emulator"


def escape(value: object, limit: int = 120) -> str:
    """``value`` as one printable line: control characters as ``\\xNN``, at most ``limit`` chars."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class OneLineFormatter(logging.Formatter):
    """``polardb-emulator: <message>`` with control characters escaped (see the module doc)."""

    def format(self, record: logging.LogRecord) -> str:
        """One escaped line (plus the traceback of the emulator's own exceptions)."""
        message = escape(record.getMessage(), limit=2000)
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            if record.name.startswith(_OWN_LOGGERS):
                assert record.exc_info is not None
                message += "\n" + self.formatException(record.exc_info)
            else:
                message += f" ({type(exc).__name__})"
        return PREFIX + message


def configure(*, quiet: bool) -> None:
    """Send every log record to stderr through :class:`OneLineFormatter`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    # aiohttp's access log prints the request line (with the query string and
    # its passwords); the emulator never enables it, and silences it here too.
    logging.getLogger("aiohttp.access").disabled = True
