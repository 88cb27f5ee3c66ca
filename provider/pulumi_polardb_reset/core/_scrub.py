"""Keep secrets out of the logs of every library the Alibaba Cloud SDK stack uses.

RPC-style PolarDB calls carry every parameter in the URL, ``AccountPassword`` included, and
the SDK stack logs requests in several places:

* ``darabonba-core`` and ``alibabacloud-tea`` (``DEBUG=sdk`` in the environment): the request
  line as ``> POST /AccountName=...&AccountPassword=... HTTP/1.1`` (path and query glued
  together, no ``?``) and every header, the STS token (``x-acs-security-token``) included.
  Both loggers carry their own stderr handler at level DEBUG, so the lines are printed
  whatever the application's logging configuration says.
* ``urllib3`` (root logging at DEBUG): ``"POST /?AccountName=...&AccountPassword=..." 200``.
* ``credentials`` (alibabacloud-credentials): refresh messages.

:func:`scrub_text` is the one scrubber of the package: log records, the client's error
messages (transport errors quote the request URL), and the SQL check's causes (server text
may echo statements) all go through it. It turns query strings and request targets into
``...``, the values of credential headers, quoted values after ``IDENTIFIED BY``/``PASSWORD``/
``USING``/``AS`` and MySQL native password hashes into ``***``/``*<hash>``, and every given
secret, raw or percent-encoded, into ``***``.

:class:`SecretScrubber` is a logging filter that rewrites those records before any handler
sees them, with every secret registered by a live client (:func:`register`).
:func:`install` attaches it to every logger of the stack. The provider's own transport
(``_transport``) never logs a request target in the first place; this filter is the second
line, for anything the libraries log by themselves.
"""

from __future__ import annotations

import collections
import logging
import re
import threading
import weakref
from collections.abc import Iterable
from typing import Final
from urllib.parse import quote, quote_plus

#: Loggers of the SDK stack (and their children, found when :func:`install` runs).
SDK_LOGGERS: Final = (
    "darabonba-core",
    "alibabacloud-tea",
    "credentials",
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.response",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "requests",
    "aiohttp",
    "aiohttp.client",
)

#: Headers whose values are credentials (names compared in lower case).
SECRET_HEADERS: Final = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-acs-security-token",
        "x-acs-bearer-token",
        "x-acs-accesskey-id",
        "cookie",
        "set-cookie",
    }
)

_QUERY: Final = re.compile(r"\?[^\s'\"]*")
# MySQL native password hashes, and quoted values where a statement carries a password.
_NATIVE_HASH: Final = re.compile(r"\*[0-9A-Fa-f]{40}")
_QUOTED_SECRET: Final = re.compile(
    r"(?i)\b(IDENTIFIED\s+(?:BY|VIA|WITH)|PASSWORD|USING|AS)\b(\s*(?:PASSWORD\s*)?)('(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\")"
)
# darabonba/Tea request line: "> POST /AccountName=x&AccountPassword=y HTTP/1.1".
_REQUEST_LINE: Final = re.compile(r"^(\s*>\s*[A-Z]+\s+)(\S+)(\s+HTTP/)", re.MULTILINE)
# darabonba/Tea header lines: "> x-acs-security-token : value" (also "<" for responses).
_HEADER_LINE: Final = re.compile(r"^(\s*[<>]\s*)([A-Za-z0-9_-]+)(\s*:\s*)(.*)$", re.MULTILINE)

_lock = threading.Lock()
_registered: dict[int, tuple[str, ...]] = {}
_installed: set[str] = set()
# Keys of owners that died. Their finalizers run wherever the garbage collector runs, which
# may be on a thread that holds _lock (any allocation under it can collect): so they take no
# lock, and the keys are dropped by the next holder of the lock.
_dead: collections.deque[int] = collections.deque()


def variants(secrets: Iterable[str | None]) -> list[str]:
    """Each secret as it may appear in text: raw, percent-encoded, form-encoded."""
    return [v for s in secrets if s for v in dict.fromkeys((s, quote(s, safe=""), quote_plus(s)))]


def register(owner: object, secrets: Iterable[str | None]) -> None:
    """Scrub ``secrets`` from SDK log records for as long as ``owner`` is alive."""
    values = tuple(s for s in secrets if s)
    if not values:
        return
    key = id(owner)
    with _lock:
        _drop_dead()
        _registered[key] = values
    weakref.finalize(owner, _forget, key)


def _forget(key: int) -> None:
    _dead.append(key)


def _drop_dead() -> None:
    # Caller holds _lock. A dead owner's id can be reused only after its finalizer ran, so
    # its key is always dropped before a new owner registers under the same id.
    while _dead:
        _registered.pop(_dead.popleft(), None)


def _live_secrets() -> list[str]:
    with _lock:
        _drop_dead()
        return [s for group in _registered.values() for s in group]


def redact(text: str, secrets: Iterable[str | None], *, min_length: int = 1) -> str:
    """Replace each secret of at least ``min_length`` characters, raw or percent-encoded, with ``***``."""
    found = variants(s for s in secrets if s and len(s) >= min_length)
    # Longest first, so that a secret containing another is replaced whole.
    for secret in sorted(set(found), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def scrub_text(text: str, secrets: Iterable[str | None] = (), *, min_length: int = 1) -> str:
    """``text`` without query strings, request targets, credential headers, quoted passwords,
    password hashes and ``secrets`` (see the module docstring).

    ``min_length``: shorter secrets are left alone, for text where a short one would match
    words of the sentence (a SQL server's message and a user's short ``check_password``).
    """
    text = _REQUEST_LINE.sub(r"\1/...\3", text)
    text = _QUERY.sub("?...", text)
    text = _HEADER_LINE.sub(_header, text)
    text = redact(text, secrets, min_length=min_length)
    text = _QUOTED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}'***'", text)
    return _NATIVE_HASH.sub("*<hash>", text)


def _header(match: re.Match[str]) -> str:
    if match.group(2).lower() in SECRET_HEADERS:
        return f"{match.group(1)}{match.group(2)}{match.group(3)}***"
    return match.group(0)


class SecretScrubber(logging.Filter):
    """Rewrites a log record's message without secrets (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record: let logging report it as it would
            return True
        clean = scrub_text(text, _live_secrets())
        if clean != text:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set: format the traceback here, scrubbed.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text, _live_secrets())
        return True


_SCRUBBER: Final = SecretScrubber()


def install() -> None:
    """Attach the scrubber to every logger of the SDK stack (idempotent, thread-safe).

    Run once the SDK is imported, so that the children its modules created are found too.
    A logger's own filters apply only to records logged on it, so each one gets the filter.
    """
    prefixes = tuple(SDK_LOGGERS)
    existing = [
        name
        for name in list(logging.root.manager.loggerDict)
        if name.startswith(prefixes) and isinstance(logging.getLogger(name), logging.Logger)
    ]
    with _lock:
        for name in (*SDK_LOGGERS, *existing):
            if name not in _installed:
                logging.getLogger(name).addFilter(_SCRUBBER)
                _installed.add(name)
