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

from collections.abc import Mapping
from functools import partial
from typing import Any, Literal

from . import _props as p
from . import _validation
from ._props import nonce_key
from ._quote import shorten
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
    """Validate every input of ``props`` by its row's validator; unknown values pass as they are.

    ``allow_insecure_endpoint`` is the user's opt-in to a plain-http ``endpoint`` on another
    machine (see :func:`~._validation.validate_endpoint`). A reason never shows the value of
    an input the engine marked secret.
    """
    return validate(decode_inputs(props), allow_insecure_endpoint=allow_insecure_endpoint)


def validate(raw: RawInputs, *, allow_insecure_endpoint: bool = False) -> list[Failure]:
    """Validate decoded inputs (see :func:`validate_inputs`)."""
    rules = {f.name: f.validate for f in p.INPUT_FIELDS if f.validate is not None}
    if allow_insecure_endpoint:  # the one rule the user's opt-in relaxes
        rules[p.ENDPOINT] = partial(_validation.validate_endpoint, allow_insecure=True)
    failures: list[Failure] = []
    for name, rule in rules.items():
        if name in raw.unknown:
            continue
        value = raw.values.get(name)
        reason = rule(value)
        if reason and name in raw.secret:
            reason = _validation.hide_secret(reason, value)
        if reason:
            failures.append(Failure(name, reason))
    failed = {f.property for f in failures}
    failures += [f for f in _together(raw) if f.property not in failed]
    for name in raw.unexpected:
        shown = shorten(name, 64)
        failures.append(
            Failure(shown, f"{shown} is not an input of PrivilegedAccountReset; remove it")
        )
    return failures


def _together(raw: RawInputs) -> list[Failure]:
    """The rules between inputs: one password source; a stage only with its secret (values
    unknown at preview are checked once known)."""
    given = {name for name, value in raw.values.items() if value is not None}
    failures: list[Failure] = []
    if p.ACCOUNT_PASSWORD in given and p.ACCOUNT_PASSWORD_SECRET in given:
        failures.append(
            Failure(
                p.ACCOUNT_PASSWORD_SECRET,
                "account_password and account_password_secret are mutually exclusive: set the "
                "password itself or the KMS secret that holds it, not both",
            )
        )
    if (
        p.ACCOUNT_PASSWORD_SECRET_STAGE in given
        and p.ACCOUNT_PASSWORD_SECRET not in given
        and p.ACCOUNT_PASSWORD_SECRET not in raw.unknown
    ):
        failures.append(
            Failure(
                p.ACCOUNT_PASSWORD_SECRET_STAGE,
                "account_password_secret_stage needs account_password_secret: set the secret's "
                "name too, or remove the stage",
            )
        )
    return failures


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

    Each input converts by its row's reader, so a new input needs no line here.
    """
    raw = decode_inputs(props)
    values = {f.attribute: f.read(raw.values.get(f.name)) for f in p.INPUT_FIELDS}
    return ResetInputs(**values, unknown=raw.unknown)


def inputs_to_props(inputs: ResetInputs) -> dict[str, Any]:
    """``inputs`` as a property map: secrets wrapped, unknown values as the placeholder."""
    out: dict[str, Any] = {}
    for f in p.INPUT_FIELDS:
        value = p.UNKNOWN if not inputs.known(f.name) else getattr(inputs, f.name)
        out[f.name] = secret(value) if f.secret else value
    return out


# -- state -------------------------------------------------------------------------------


def state_from_props(props: Mapping[str, Any]) -> ResetState:
    """The recorded state in ``props`` (outputs of any version; never raises).

    Each output converts by its row's reader into the attribute the row names (``check.x``:
    the SQL check's record), so a new output needs no line here.
    """
    values: dict[str, Any] = {}
    check: dict[str, Any] = {}
    for f in p.OUTPUT_FIELDS:
        value = f.read(plain(props.get(f.name)))
        record, _, attr = f.attribute.rpartition(".")
        (check if record else values)[attr] = value
    return ResetState(
        **values,
        check=CheckRecord(**check),
        written_before_check=p.CHECK_PRIVILEGES not in props,
    )


def state_to_props(state: ResetState) -> dict[str, Any]:
    """``state`` as the outputs a provider returns: every output, secrets wrapped.

    A state written before the check keeps that shape (no ``check_privileges``).
    """
    out: dict[str, Any] = {}
    for f in p.OUTPUT_FIELDS:
        if f.name == p.CHECK_PRIVILEGES and state.written_before_check:
            continue
        value: Any = state
        for part in f.attribute.split("."):
            value = getattr(value, part)
        if isinstance(value, tuple):  # a list in the engine's value model
            value = list(value)
        out[f.name] = secret(value) if f.secret else value
    return out


def check_record_props(record: CheckRecord) -> dict[str, Any]:
    """The check outputs of ``record`` (``privileges_ok``, ``missing_privileges``, ...)."""
    return {
        k: v
        for k, v in state_to_props(ResetState("", "", check=record)).items()
        if k in p.CHECK_RESULT_OUTPUTS
    }


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
    "validate",
    "validate_inputs",
]
