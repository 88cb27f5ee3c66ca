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


#: The largest scrypt parameters a fingerprint may name: above what this provider writes,
#: and far below what would cost seconds or gigabytes (a stored fingerprint comes from
#: state, which may have been edited by hand).
_MAX_N: Final = 2**16
_MAX_R: Final = 16
_MAX_P: Final = 4


def matches(password: object, stored: object) -> bool:
    """Tell whether ``password`` is the one ``stored`` was computed from.

    A missing or unreadable fingerprint (not a string, not ``scrypt$n$r$p$salt$hash``,
    parameters out of bounds) never matches, so the caller resets; neither does a
    password that is not a string.
    """
    if not isinstance(password, str) or not isinstance(stored, str) or not stored:
        return False
    try:
        prefix, n_text, r_text, p_text, salt, digest = stored.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        if prefix != _PREFIX or not (0 < n <= _MAX_N and 0 < r <= _MAX_R and 0 < p <= _MAX_P):
            return False
        expected = base64.urlsafe_b64decode(digest)
        actual = _derive(password, base64.urlsafe_b64decode(salt), n, r, p)
    except (ValueError, OverflowError, UnicodeError):
        # Malformed text or parameters scrypt refuses (n not a power of two, ...).
        return False
    return hmac.compare_digest(expected, actual)
