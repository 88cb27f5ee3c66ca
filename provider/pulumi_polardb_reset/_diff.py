"""The diff decision table (pure).

The engine hands ``diff`` the *old outputs* and the *new inputs*. A reset is
an action, not a state, so only two things may trigger one: a new or changed
password and a changed reset nonce. Moving to another cluster or account is a
replacement (a new reset of that account). Anything else, notably a new
``__provider`` blob after a package upgrade, must never cause a reset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _fingerprint, _validation
from . import _props as p


@dataclass(frozen=True)
class DiffDecision:
    """What the engine should do: ``changes`` (update), ``replaces`` (properties forcing replacement)."""

    changes: bool
    replaces: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def decide(olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffDecision:
    """Compare old outputs with new inputs and decide update, replace or nothing."""
    replaces: list[str] = []
    reasons: list[str] = []
    for key in (p.DB_CLUSTER_ID, p.ACCOUNT_NAME):
        new = p.plain(news.get(key))
        if p.is_unknown(new) or new != p.plain(olds.get(key)):
            replaces.append(key)
            reasons.append(f"{key} changed: the reset targets another account")

    new_nonce = p.plain(news.get(p.RESET_NONCE))
    old_nonce = p.plain(olds.get(p.RESET_NONCE))
    if p.is_unknown(new_nonce):
        reasons.append("reset_nonce is not known yet")
    elif _nonce_text(new_nonce) != _nonce_text(old_nonce):
        reasons.append("reset_nonce changed")

    password = p.plain(news.get(p.ACCOUNT_PASSWORD))
    if p.is_unknown(password):
        reasons.append("account_password is not known yet")
    elif password is not None and not _fingerprint.matches(
        password, p.plain(olds.get(p.PASSWORD_FINGERPRINT))
    ):
        reasons.append("account_password set or changed")

    return DiffDecision(changes=bool(reasons), replaces=replaces, reasons=reasons)


def _nonce_text(value: Any) -> str | None:
    # A nonce given as 7 (or 7.0, as the engine carries numbers) and later as "7" is the
    # same nonce.
    if value is None:
        return None
    text = _validation.nonce_text(value)
    return text if text is not None else str(value)
