"""Password storage: salted PBKDF2-SHA256 hashes only, never plaintext."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

_SCHEME = "pbkdf2_sha256"
# A salted KDF, so that state files hold neither plaintext nor a fast hash,
# cheap per password: the emulator's passwords are test passwords, and a storm
# of password resets must not be bound by hashing (the rates with the old and
# new counts are in benchmarks/results/code_figures.md). Hashes made with
# another count (older state files: 60,000) still verify: the count is part of
# the hash.
_ITERATIONS = 3000
#: Most iterations a stored hash may ask for: a state file saying 10**12 would otherwise
#: hang every password check (a hash is only ever made with _ITERATIONS).
_MAX_ITERATIONS = 1_000_000


def hash_password(password: str) -> str:
    """Return ``pbkdf2_sha256$<iterations>$<salt>$<digest>`` for ``password``."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, _ITERATIONS)
    return "$".join(
        (_SCHEME, str(_ITERATIONS), _b64(salt), _b64(digest)),
    )


def verify_password(password: str, encoded: str) -> bool:
    """Check ``password`` against a hash made by :func:`hash_password` (constant time)."""
    try:
        scheme, iterations, salt, digest = encoded.split("$")
        if scheme != _SCHEME or not 1 <= int(iterations) <= _MAX_ITERATIONS:
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac(
            "sha256", password.encode("utf-8"), base64.b64decode(salt), int(iterations)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
