"""Salted, slow password fingerprints (pure).

State never holds the password, yet the diff must notice when it changes. A
scrypt hash with a random salt lets the provider test "is the new password
the one last set?" without storing anything that can be reversed cheaply.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Final

_N: Final = 2**14
_R: Final = 8
_P: Final = 1
_PREFIX: Final = "scrypt"


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)


def fingerprint(password: str, *, salt: bytes | None = None) -> str:
    """Return ``scrypt$n$r$p$salt$hash`` for ``password`` with a fresh random salt."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = _derive(password, salt, _N, _R, _P)
    b64 = base64.urlsafe_b64encode
    return f"{_PREFIX}${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def matches(password: str, stored: str | None) -> bool:
    """Tell whether ``password`` is the one ``stored`` was computed from.

    A missing or unreadable fingerprint never matches, so the caller resets.
    """
    if not stored:
        return False
    try:
        prefix, n, r, p, salt, digest = stored.split("$")
        if prefix != _PREFIX:
            return False
        expected = base64.urlsafe_b64decode(digest)
        actual = _derive(password, base64.urlsafe_b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(expected, actual)
