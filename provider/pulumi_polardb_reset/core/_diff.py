"""The diff decision table (pure, on typed values).

The engine hands ``diff`` the *old outputs* (a :class:`~._state.ResetState`) and the *new
inputs* (:class:`~._state.ResetInputs`). A reset is an action, not a state, so only three
things may trigger one: a new or changed password (or KMS secret, or its stage), a changed
reset nonce, and drift that the last refresh recorded (``privileges_ok`` false,
``password_ok`` false while the resource still sets a password, or the secret's stage on
another version than the one applied: rotated in KMS). Moving to another cluster or account is a replacement (a
new reset of that account). Anything else, notably a new ``__provider`` blob after a package
upgrade or a state written before the check existed, must never cause a reset.

A changed check setting (``check_privileges``, ``sql_endpoint``, ``check_password``,
``unlock``, ``password_expiry_warning_days``) is an update *without* a reset: refresh
reads only the outputs, so the new setting must be recorded there to take effect.

A locked account is drift only with ``unlock``: the update unlocks it
(ModifyAccountLockState), which is not a reset; without ``unlock`` it is reported, never
changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import _fingerprint
from . import _props as p
from ._state import ROTATION_DRIFT, ResetInputs, ResetState


@dataclass(frozen=True)
class DiffDecision:
    """What the engine should do: ``changes`` (update), ``replaces`` (properties forcing replacement).

    ``reset`` tells whether the update calls ResetAccount, ``unlock`` whether it unlocks
    the account (ModifyAccountLockState) first; an update with neither only records new
    settings. ``reasons`` say why, for the engine output.
    """

    changes: bool
    replaces: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    reset: bool = False
    unlock: bool = False


def decide(state: ResetState, inputs: ResetInputs) -> DiffDecision:
    """Compare the recorded state with new inputs and decide update, replace or nothing."""
    replaces: list[str] = []
    reasons: list[str] = []
    for key, new, old in (
        (p.DB_CLUSTER_ID, inputs.db_cluster_id, state.db_cluster_id),
        (p.ACCOUNT_NAME, inputs.account_name, state.account_name),
    ):
        if not inputs.known(key) or new != old:
            replaces.append(key)
            reasons.append(f"{key} changed: the reset targets another account")

    if not inputs.known(p.RESET_NONCE):
        reasons.append("reset_nonce is not known yet")
    elif inputs.reset_nonce != state.reset_nonce:
        reasons.append("reset_nonce changed")

    password = inputs.account_password
    if not inputs.known(p.ACCOUNT_PASSWORD):
        reasons.append("account_password is not known yet")
    elif password is not None and not _fingerprint.matches(password, state.password_fingerprint):
        reasons.append("account_password set or changed")

    reasons += secret_reasons(state, inputs)
    reasons += drift_reasons(state, inputs)
    locked = lock_reasons(state, inputs)
    settings = setting_reasons(state, inputs)
    return DiffDecision(
        changes=bool(reasons or locked or settings),
        replaces=replaces,
        reasons=reasons + locked + settings,
        reset=bool(reasons),
        unlock=bool(locked),
    )


def _stage(stage: str | None) -> str:
    return stage or p.DEFAULT_SECRET_STAGE


def secret_reasons(state: ResetState, inputs: ResetInputs) -> list[str]:
    """A reset for a KMS secret newly named, renamed or read at another stage (pure);
    rotation in KMS is drift (:func:`drift_reasons`)."""
    if not inputs.known(p.ACCOUNT_PASSWORD_SECRET):
        return ["account_password_secret is not known yet"]
    secret = inputs.account_password_secret
    if secret is None:
        return []  # removing it keeps the account's password, like removing account_password
    if secret != state.account_password_secret:
        return ["account_password_secret set or changed"]
    if not inputs.known(p.ACCOUNT_PASSWORD_SECRET_STAGE) or _stage(
        inputs.account_password_secret_stage
    ) != _stage(state.account_password_secret_stage):
        return ["account_password_secret_stage changed"]
    return []


def lock_reasons(state: ResetState, inputs: ResetInputs) -> list[str]:
    """A locked account, when the inputs ask to unlock it (pure)."""
    if state.locked and (inputs.unlock or not inputs.known(p.UNLOCK)):
        return ["account locked (unlock: ModifyAccountLockState, no reset)"]
    return []


def _sets_password(inputs: ResetInputs) -> bool:
    # An unknown password (or secret) is one the update will set.
    return (
        inputs.account_password is not None
        or not inputs.known(p.ACCOUNT_PASSWORD)
        or inputs.account_password_secret is not None
        or not inputs.known(p.ACCOUNT_PASSWORD_SECRET)
    )


def drift_reasons(state: ResetState, inputs: ResetInputs) -> list[str]:
    """Drift the last check recorded that a reset repairs (pure).

    Privilege drift counts while the check stays enabled (or is not known yet). Password
    drift counts only while the resource still sets a password: a reset without one cannot
    restore it. An unknown result (null, or no such output in an old state) is never drift.
    """
    reasons: list[str] = []
    if state.rotated and inputs.account_password_secret == state.account_password_secret:
        reasons.append(ROTATION_DRIFT)
    if inputs.check_privileges or not inputs.known(p.CHECK_PRIVILEGES):
        if state.check.privileges_ok is False:
            named = ", ".join(state.check.missing_privileges or ()) or "documented privileges"
            reasons.append(f"permission drift: missing {named}")
        if state.check.password_ok is False and _sets_password(inputs):
            reasons.append("password drift: the managed password no longer logs in")
    return reasons


def setting_reasons(state: ResetState, inputs: ResetInputs) -> list[str]:
    """Changed check settings, recorded by an update without a reset (pure).

    Old states without these outputs compare as the defaults (check on, no endpoint
    override, no stored login), so they never differ from inputs that leave them unset.
    """
    reasons: list[str] = []
    if not inputs.known(p.CHECK_PRIVILEGES) or inputs.check_privileges != state.check_privileges:
        reasons.append("check_privileges changed (no reset)")
    if not inputs.known(p.UNLOCK) or inputs.unlock != state.unlock:
        reasons.append("unlock changed (no reset)")
    if (
        not inputs.known(p.PASSWORD_EXPIRY_WARNING_DAYS)
        or inputs.password_expiry_warning_days != state.password_expiry_warning_days
    ):
        reasons.append("password_expiry_warning_days changed (no reset)")
    if not inputs.known(p.SQL_ENDPOINT) or inputs.sql_endpoint != state.sql_endpoint:
        reasons.append("sql_endpoint changed (no reset)")
    if (
        inputs.known(p.ACCOUNT_PASSWORD_SECRET)
        and inputs.account_password_secret is None
        and state.account_password_secret
    ):
        reasons.append("account_password_secret removed (no reset)")
    if not _sets_password(inputs):
        # Without account_password, check_password is the login: record a new one, and
        # forget a stored one that the user removed (one that this resource did not set).
        given = inputs.check_password
        stored = state.sql_check_password
        if not inputs.known(p.CHECK_PASSWORD) or (given is not None and given != stored):
            reasons.append("check_password set or changed (no reset)")
        elif (
            given is None
            and stored
            and not _fingerprint.matches(stored, state.password_fingerprint)
        ):
            reasons.append("check_password removed (no reset)")
    return reasons
