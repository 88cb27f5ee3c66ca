"""The diff decision table (pure).

The engine hands ``diff`` the *old outputs* and the *new inputs*. A reset is
an action, not a state, so only three things may trigger one: a new or changed
password, a changed reset nonce, and drift that the last check recorded
(``privileges_ok`` false, or ``password_ok`` false while the resource still sets a
password). Moving to another cluster or account is a replacement (a new reset of
that account). Anything else, notably a new ``__provider`` blob after a package
upgrade or a state written before the check existed, must never cause a reset.

A changed check setting (``check_privileges``, ``sql_endpoint``, ``check_password``)
is an update *without* a reset: refresh reads only the outputs, so the new
setting must be recorded there to take effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _fingerprint, _validation
from . import _props as p


@dataclass(frozen=True)
class DiffDecision:
    """What the engine should do: ``changes`` (update), ``replaces`` (properties forcing replacement).

    ``reset`` tells whether the update calls ResetAccount; an update without it only
    records new check settings. ``reasons`` say why, for the engine output.
    """

    changes: bool
    replaces: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    reset: bool = False


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

    reasons += drift_reasons(olds, news)
    settings = setting_reasons(olds, news)
    return DiffDecision(
        changes=bool(reasons or settings),
        replaces=replaces,
        reasons=reasons + settings,
        reset=bool(reasons),
    )


def _check_enabled(value: Any) -> bool:
    value = p.plain(value)
    if value is None:  # a state from before the check: the default applies
        return p.DEFAULT_CHECK_PRIVILEGES
    return p.is_unknown(value) or bool(value)


def drift_reasons(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Drift the last check recorded that a reset repairs (pure).

    Privilege drift counts while the check stays enabled. Password drift counts only
    while the resource still sets a password: a reset without one cannot restore it.
    An unknown result (null, or no such output in an old state) is never drift.
    """
    reasons: list[str] = []
    if _check_enabled(news.get(p.CHECK_PRIVILEGES)):
        if p.plain(olds.get(p.PRIVILEGES_OK)) is False:
            missing = p.plain(olds.get(p.MISSING_PRIVILEGES))
            # A list of names as the check records it; anything else (a hand-edited state)
            # still means drift, just without names.
            names = [str(m) for m in missing] if isinstance(missing, list | tuple) else []
            named = ", ".join(names) or "documented privileges"
            reasons.append(f"permission drift: missing {named}")
        password = p.plain(news.get(p.ACCOUNT_PASSWORD))
        if p.plain(olds.get(p.PASSWORD_OK)) is False and password is not None:
            reasons.append("password drift: the managed password no longer logs in")
    return reasons


def setting_reasons(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Changed check settings, recorded by an update without a reset (pure).

    Old states without these outputs compare as the defaults (check on, no endpoint
    override, no stored login), so they never differ from inputs that leave them unset.
    """
    reasons: list[str] = []
    new_check = p.plain(news.get(p.CHECK_PRIVILEGES))
    if p.is_unknown(new_check) or _check_enabled(new_check) != _check_enabled(
        olds.get(p.CHECK_PRIVILEGES)
    ):
        reasons.append("check_privileges changed (no reset)")
    new_endpoint = p.plain(news.get(p.SQL_ENDPOINT))
    if p.is_unknown(new_endpoint) or new_endpoint != p.plain(olds.get(p.SQL_ENDPOINT)):
        reasons.append("sql_endpoint changed (no reset)")
    if p.plain(news.get(p.ACCOUNT_PASSWORD)) is None:
        # Without account_password, check_password is the login: record a new one, and
        # forget a stored one that the user removed (one that this resource did not set).
        given = p.plain(news.get(p.CHECK_PASSWORD))
        stored = p.plain(olds.get(p.SQL_CHECK_PASSWORD))
        if p.is_unknown(given) or (given is not None and given != stored):
            reasons.append("check_password set or changed (no reset)")
        elif (
            given is None
            and stored
            and not _fingerprint.matches(stored, p.plain(olds.get(p.PASSWORD_FINGERPRINT)))
        ):
            reasons.append("check_password removed (no reset)")
    return reasons


def _nonce_text(value: Any) -> str | None:
    # A nonce given as 7 (or 7.0, as the engine carries numbers) and later as "7" is the
    # same nonce.
    if value is None:
        return None
    text = _validation.nonce_text(value)
    return text if text is not None else str(value)
