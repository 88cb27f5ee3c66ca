"""The one conversion between engine property maps and the typed values (pure).

A property map is what an engine hands a provider and stores in state: a mapping of
property name to value in Pulumi's wire form, where a secret is wrapped as
``{SIG_KEY: SECRET_SIG, "value": ...}`` and a value not known yet (preview) is the string
:data:`~._props.UNKNOWN`. Both engines see this form: the dynamic provider host passes it
as is, and a native provider gets it from ``pulumi.runtime.rpc`` (keys in camelCase there:
:func:`rename`). This module is the only place that unwraps secrets or tests for unknown
values; everything else works on :class:`~._state.ResetInputs` and
:class:`~._state.ResetState`.

States of every version convert: 0.1.0's (no SQL check outputs at all), those written
before the check existed, and today's. A value of the wrong kind (a hand-edited state, an
input the check would refuse) converts leniently and never raises: the diff must answer
for any map, and validation (:func:`validate_inputs`) is where a bad input is reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from . import _props as p
from . import _validation
from ._state import CheckRecord, RawInputs, ResetInputs, ResetState
from ._validation import Failure

# -- the wire form -----------------------------------------------------------------------


def plain(value: Any) -> Any:
    """Return ``value`` with an engine secret wrapper removed, if it has one."""
    if is_secret(value):
        return value.get("value")
    return value


def secret(value: Any) -> Any:
    """Wrap ``value`` as an engine secret (None stays None).

    A provider's answer may carry secrets in this form even when it does not accept
    secrets, so an output wrapped here is encrypted in state whatever the resource's
    options say.
    """
    if value is None:
        return None
    return {p.SIG_KEY: p.SECRET_SIG, "value": value}


def is_secret(value: Any) -> bool:
    """Tell whether ``value`` is wrapped as an engine secret."""
    return isinstance(value, dict) and value.get(p.SIG_KEY) == p.SECRET_SIG


def is_unknown(value: Any) -> bool:
    """Tell whether ``value`` is the engine's placeholder for a preview-time unknown."""
    return bool(plain(value) == p.UNKNOWN)


def rename(props: Mapping[str, Any], to: Literal["camel", "snake"]) -> dict[str, Any]:
    """``props`` with the field table's names in camelCase (native schema) or snake_case.

    Keys that are not properties (``__provider``, a typo the check reports) stay as they are.
    """
    names = p.CAMEL if to == "camel" else p.SNAKE
    return {names.get(key, key): value for key, value in props.items()}


# -- inputs ------------------------------------------------------------------------------


def decode_inputs(props: Mapping[str, Any]) -> RawInputs:
    """The inputs of ``props`` as plain values, with what the engine marked secret or unknown."""
    values: dict[str, Any] = {}
    secrets: set[str] = set()
    unknown: set[str] = set()
    for name in p.INPUTS:
        raw = props.get(name)
        if is_secret(raw):
            secrets.add(name)
        value = plain(raw)
        if is_unknown(value):
            unknown.add(name)
        else:
            values[name] = value
    unexpected = tuple(sorted(k for k in props if k not in p.INPUTS and not k.startswith("__")))
    return RawInputs(values, frozenset(secrets), frozenset(unknown), unexpected)


def validate_inputs(
    props: Mapping[str, Any], *, allow_insecure_endpoint: bool = False
) -> list[Failure]:
    """Validate every input of ``props``; values unknown at preview are accepted as they are.

    ``allow_insecure_endpoint`` is the user's opt-in to a plain-http ``endpoint`` on another
    machine (see :func:`~._validation.validate_endpoint`).
    """
    return _validation.validate(
        decode_inputs(props), allow_insecure_endpoint=allow_insecure_endpoint
    )


def normalize_inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    """Return the inputs with defaults applied and a numeric nonce as its decimal string.

    Defaults: ``timeout_seconds`` 900, ``check_privileges`` true. Unknown values and secret
    wrappers are passed through untouched so the engine keeps their meaning.
    """
    out = dict(props)
    timeout = out.get(p.TIMEOUT_SECONDS)
    if timeout is None:
        out[p.TIMEOUT_SECONDS] = p.DEFAULT_TIMEOUT_SECONDS
    elif isinstance(timeout, float) and timeout.is_integer():
        # Only a whole number: inf, nan and 1.5 stay as they are (check reports them).
        out[p.TIMEOUT_SECONDS] = int(timeout)
    if out.get(p.CHECK_PRIVILEGES) is None:
        out[p.CHECK_PRIVILEGES] = p.DEFAULT_CHECK_PRIVILEGES
    nonce = out.get(p.RESET_NONCE)
    if not isinstance(nonce, str | dict) and _validation.nonce_text(nonce) is not None:
        out[p.RESET_NONCE] = _validation.nonce_text(nonce)
    return out


def inputs_from_props(props: Mapping[str, Any]) -> ResetInputs:
    """The typed inputs of ``props`` (lenient: validate first where a bad value matters).

    Each input converts by its kind in the field table, so a new input needs no line here.
    """
    raw = decode_inputs(props)
    values = {f.name: _input_value(f, raw.values.get(f.name)) for f in p.INPUT_FIELDS}
    return ResetInputs(**values, unknown=raw.unknown)


def _input_value(f: p.Field, value: Any) -> Any:
    if f.python == "str | int":  # the nonce: 7, 7.0 and "7" are one nonce
        return nonce_key(value)
    if f.kind == "integer":
        return _whole(value, int(f.default) if isinstance(f.default, int) else 0)
    if f.kind == "boolean":
        return bool(f.default) if value is None else bool(value)
    text = _text(value)
    return "" if text is None and f.required else text


def inputs_to_props(inputs: ResetInputs) -> dict[str, Any]:
    """``inputs`` as a property map: secrets wrapped, unknown values as the placeholder."""
    out: dict[str, Any] = {}
    for f in p.INPUT_FIELDS:
        value = p.UNKNOWN if not inputs.known(f.name) else getattr(inputs, f.name)
        out[f.name] = secret(value) if f.secret else value
    return out


def nonce_key(value: Any) -> str | None:
    """The nonce ``value`` stands for, for comparison: 7, 7.0 and "7" are one nonce."""
    if value is None:
        return None
    text = _validation.nonce_text(value)
    return text if text is not None else str(value)


# -- state -------------------------------------------------------------------------------


def state_from_props(props: Mapping[str, Any]) -> ResetState:
    """The recorded state in ``props`` (outputs of any version; never raises)."""
    v = {k: plain(props.get(k)) for k in p.OUTPUTS}
    missing = v[p.MISSING_PRIVILEGES]
    return ResetState(
        db_cluster_id=_text(v[p.DB_CLUSTER_ID]) or "",
        account_name=_text(v[p.ACCOUNT_NAME]) or "",
        reset_nonce=nonce_key(v[p.RESET_NONCE]),
        timeout_seconds=_whole(v[p.TIMEOUT_SECONDS], p.DEFAULT_TIMEOUT_SECONDS, minimum=1),
        region=_str(v[p.REGION]),
        endpoint=_str(v[p.ENDPOINT]),
        password_fingerprint=_str(v[p.PASSWORD_FINGERPRINT]),
        last_reset_at=_str(v[p.LAST_RESET_AT]),
        last_reset_request_id=_str(v[p.LAST_RESET_REQUEST_ID]),
        reset_count=_count(v[p.RESET_COUNT]),
        account_status=_str(v[p.ACCOUNT_STATUS]),
        account_type=_str(v[p.ACCOUNT_TYPE]),
        account_lock_state=_str(v[p.ACCOUNT_LOCK_STATE]),
        effective_region=_str(v[p.EFFECTIVE_REGION]),
        effective_endpoint=_str(v[p.EFFECTIVE_ENDPOINT]),
        check_privileges=_enabled(v[p.CHECK_PRIVILEGES]),
        sql_endpoint=_str(v[p.SQL_ENDPOINT]),
        check=CheckRecord(
            privileges_ok=_flag(v[p.PRIVILEGES_OK]),
            # A list of names as the check records it; anything else (a hand-edited state)
            # is no list of names.
            missing_privileges=(
                tuple(str(m) for m in missing) if isinstance(missing, list | tuple) else None
            ),
            privileges_checked_at=_str(v[p.PRIVILEGES_CHECKED_AT]),
            password_ok=_flag(v[p.PASSWORD_OK]),
        ),
        sql_check_password=_str(v[p.SQL_CHECK_PASSWORD]),
        unlock=_flag(v[p.UNLOCK]) is True,
        password_expiry_warning_days=_whole(
            v[p.PASSWORD_EXPIRY_WARNING_DAYS], p.DEFAULT_PASSWORD_EXPIRY_WARNING_DAYS, minimum=0
        ),
        account_locked=_flag(v[p.ACCOUNT_LOCKED]),
        password_expires_at=_str(v[p.PASSWORD_EXPIRES_AT]),
        written_before_check=p.CHECK_PRIVILEGES not in props,
    )


def state_to_props(state: ResetState) -> dict[str, Any]:
    """``state`` as the outputs a provider returns: every output, secrets wrapped.

    A state written before the check keeps that shape (no ``check_privileges``).
    """
    check = state.check
    values: dict[str, Any] = {
        p.DB_CLUSTER_ID: state.db_cluster_id,
        p.ACCOUNT_NAME: state.account_name,
        p.RESET_NONCE: state.reset_nonce,
        p.TIMEOUT_SECONDS: state.timeout_seconds,
        p.REGION: state.region,
        p.ENDPOINT: state.endpoint,
        p.PASSWORD_FINGERPRINT: state.password_fingerprint,
        p.LAST_RESET_AT: state.last_reset_at,
        p.LAST_RESET_REQUEST_ID: state.last_reset_request_id,
        p.RESET_COUNT: state.reset_count,
        p.ACCOUNT_STATUS: state.account_status,
        p.ACCOUNT_TYPE: state.account_type,
        p.ACCOUNT_LOCK_STATE: state.account_lock_state,
        p.EFFECTIVE_REGION: state.effective_region,
        p.EFFECTIVE_ENDPOINT: state.effective_endpoint,
        p.CHECK_PRIVILEGES: state.check_privileges,
        p.SQL_ENDPOINT: state.sql_endpoint,
        p.PRIVILEGES_OK: check.privileges_ok,
        p.MISSING_PRIVILEGES: (
            None if check.missing_privileges is None else list(check.missing_privileges)
        ),
        p.PRIVILEGES_CHECKED_AT: check.privileges_checked_at,
        p.PASSWORD_OK: check.password_ok,
        p.SQL_CHECK_PASSWORD: state.sql_check_password,
        p.UNLOCK: state.unlock,
        p.PASSWORD_EXPIRY_WARNING_DAYS: state.password_expiry_warning_days,
        p.ACCOUNT_LOCKED: state.account_locked,
        p.PASSWORD_EXPIRES_AT: state.password_expires_at,
    }
    if state.written_before_check:
        del values[p.CHECK_PRIVILEGES]
    secrets = {f.name for f in p.OUTPUT_FIELDS if f.secret}
    return {k: secret(v) if k in secrets else v for k, v in values.items()}


def check_record_props(record: CheckRecord) -> dict[str, Any]:
    """The check outputs of ``record`` (``privileges_ok``, ``missing_privileges``, ...)."""
    return {
        k: v
        for k, v in state_to_props(ResetState("", "", check=record)).items()
        if k in p.CHECK_RESULT_OUTPUTS
    }


# -- lenient scalars ---------------------------------------------------------------------


def _text(value: Any) -> str | None:
    # Inputs: a value of the wrong kind still compares unequal to a different one.
    return None if value is None else value if isinstance(value, str) else str(value)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _enabled(value: Any) -> bool:
    # A state from before the check has no check_privileges: the default (true) applies.
    return p.DEFAULT_CHECK_PRIVILEGES if value is None else bool(value)


def _whole(value: Any, default: int, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return default
    number = int(value)
    return default if minimum is not None and number < minimum else number


def _count(value: Any) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return _whole(value, 0)


__all__ = [
    "check_record_props",
    "decode_inputs",
    "inputs_from_props",
    "inputs_to_props",
    "is_secret",
    "is_unknown",
    "nonce_key",
    "normalize_inputs",
    "plain",
    "rename",
    "secret",
    "state_from_props",
    "state_to_props",
    "validate_inputs",
]
