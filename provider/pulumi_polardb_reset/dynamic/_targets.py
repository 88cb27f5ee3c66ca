"""Targets declared in stack config: one parser for every program.

A *target* is one privileged account to keep reset, written in stack config
with camelCase keys like the rest of Pulumi config::

    config:
      polardb-reset:targets:
        - name: orders              # resource name: letters, digits, '-' and '_'
          dbClusterId: pc-bp1orders
          accountName: dbadmin
          resetNonce: 1             # string or whole number; bump to reset again
          # timeoutSeconds, region, endpoint, checkPrivileges, sqlEndpoint: optional
      polardb-reset:passwords:      # optional, secret, keyed by target name
        orders: {secure: ...}
      polardb-reset:checkPasswords: # optional, secret: the login of the privilege check
        billing: {secure: ...}      # for targets whose password is not in passwords
      polardb-reset:shard: 0/4      # optional: only the targets of shard 0 of 4 (shard_of)

:func:`parse_targets` is pure: it checks the list and reports the first mistake
naming the entry and the key. :func:`resets_from_config` declares one
:class:`PrivilegedAccountReset` per target, named after the target, so moving a
program to it keeps every resource's URN.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import pulumi

from ..core import _props as p
from ..core._props import Field
from ..core._validation import nonce_text
from ._args import TargetValues
from ._resource import PrivilegedAccountReset, PrivilegedAccountResetArgs
from ._sharding import in_shard, parse_shard

#: Target keys (camelCase) and the resource arguments they set: every input but the secrets.
TARGET_KEYS: Final = {f.camel: f.name for f in p.INPUT_FIELDS if f.target}
_TARGET_FIELDS: Final = tuple(f for f in p.INPUT_FIELDS if f.target)
_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


class TargetConfigError(pulumi.RunError):
    """A mistake in the ``targets`` (or ``passwords``/nonces) config.

    A :class:`pulumi.RunError`, so ``pulumi up`` shows the message alone, without a
    Python traceback.
    """


@dataclass(frozen=True)
class ResetTarget(TargetValues):
    """One checked entry of the ``targets`` config list (fields: the field table's target inputs)."""

    def args(
        self,
        account_password: pulumi.Input[str | None] | None = None,
        check_password: pulumi.Input[str | None] | None = None,
    ) -> PrivilegedAccountResetArgs:
        """The resource arguments of this target."""
        values = {f.name: getattr(self, f.name) for f in _TARGET_FIELDS}
        return PrivilegedAccountResetArgs(
            **values,
            account_password=account_password,  # type: ignore[arg-type]
            check_password=check_password,  # type: ignore[arg-type]
        )


def parse_targets(raw: Any, key: str = "polardb-reset:targets") -> list[ResetTarget]:
    """Check a ``targets`` config value and return its entries.

    ``key`` is the full config key, used in messages. Raises :class:`TargetConfigError`
    naming the entry and the key for: not a non-empty list, an entry that is not an
    object, a missing, malformed or repeated ``name``, an unknown key, a missing or
    non-string ``dbClusterId``/``accountName``, a nonce that is neither a string nor a
    whole number, a ``timeoutSeconds`` that is not a whole number, a non-string
    ``region``/``endpoint``. Values themselves (ID formats, ranges) are checked by the
    resource at preview, per property.
    """
    if not isinstance(raw, list) or not raw:
        raise TargetConfigError(
            f"{key} must be a non-empty list of targets, each an object with name, "
            "dbClusterId and accountName"
        )
    seen: set[str] = set()
    targets = []
    for index, entry in enumerate(raw):
        where = f"{key}[{index}]"
        if not isinstance(entry, dict):
            raise TargetConfigError(
                f"{where} must be an object with name, dbClusterId and accountName "
                f"(got {type(entry).__name__})"
            )
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise TargetConfigError(
                f"{where}.name must be 1-100 letters, digits, '-' or '_', starting with a "
                f"letter or digit (got {name!r})"
            )
        if name in seen:
            raise TargetConfigError(f"{where}.name {name!r} is used by an earlier target")
        seen.add(name)
        where = f"{where} ({name})"
        unknown = sorted(str(k) for k in entry if k != "name" and k not in TARGET_KEYS)
        if unknown:
            raise TargetConfigError(
                f"{where} has unknown key(s) {', '.join(unknown)}; "
                f"allowed: name, {', '.join(TARGET_KEYS)}"
            )
        targets.append(_target(entry, name, where))
    return targets


def _target(entry: Mapping[str, Any], name: str, where: str) -> ResetTarget:
    # The kinds in this order, so an entry with several mistakes reports the same one first
    # whatever the field table's order.
    for f in _TARGET_FIELDS:
        if not f.required:
            continue
        value = entry.get(f.camel)
        if value is None or value == "":
            raise TargetConfigError(f"{where} needs {f.camel}")
        if not isinstance(value, str):
            raise TargetConfigError(
                f"{where}.{f.camel} must be a string (got {type(value).__name__})"
            )
    for f in _TARGET_FIELDS:
        value = entry.get(f.camel)
        if f.required or f.python != "str" or value is None or isinstance(value, str):
            continue
        raise TargetConfigError(f"{where}.{f.camel} must be a string (got {type(value).__name__})")
    for f in _TARGET_FIELDS:
        value = entry.get(f.camel)
        if f.kind == "boolean" and value is not None and not isinstance(value, bool):
            raise TargetConfigError(f"{where}.{f.camel} must be true or false (got {value!r})")
    for f in _TARGET_FIELDS:
        value = entry.get(f.camel)
        if f.python == "str | int" and value is not None and nonce_text(value) is None:
            raise TargetConfigError(
                f"{where}.{f.camel} must be a string or a whole number (got {value!r})"
            )
    for f in _TARGET_FIELDS:
        value = entry.get(f.camel)
        if f.kind == "integer" and value is not None and not _whole(value):
            raise TargetConfigError(
                f"{where}.{f.camel} must be a whole number of seconds (got {value!r})"
            )
    return ResetTarget(name=name, **{f.name: _value(f, entry.get(f.camel)) for f in _TARGET_FIELDS})


def _whole(value: Any) -> bool:
    return not isinstance(value, bool) and (
        isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    )


def _value(f: Field, value: Any) -> Any:
    """A checked config value as the target holds it: a nonce as its string, whole numbers as int."""
    if value is None:
        return None
    if f.python == "str | int":
        return nonce_text(value)
    if f.kind == "integer":
        return int(value)
    return value


def resets_from_config(
    config: pulumi.Config | None = None,
    *,
    nonce_overrides: Mapping[str, Any] | None = None,
    opts: pulumi.ResourceOptions | None = None,
    shard: str | None = None,
) -> dict[str, PrivilegedAccountReset]:
    """Declare one :class:`PrivilegedAccountReset` per entry of ``<namespace>:targets``.

    ``config`` defaults to the project's config namespace. Passwords come from the secret
    map ``<namespace>:passwords`` (keyed by target name; optional); the privilege check's
    login for targets without one from the secret map ``<namespace>:checkPasswords``. ``nonce_overrides``
    maps target names to nonces that take precedence over the targets' own
    ``resetNonce`` (a pipeline sets them to its run ID). ``shard`` (default: config
    ``<namespace>:shard``), ``"I/N"``, declares only the targets of shard ``I`` of ``N``
    (:func:`~pulumi_polardb_reset.shard_of`): one stack per shard splits a fleet across CI
    jobs. Returns the resources by target name, in config order.
    """
    config = config or pulumi.Config()
    targets = parse_targets(config.require_object("targets"), f"{config.name}:targets")
    selected = parse_shard(
        shard if shard is not None else config.get("shard"), f"{config.name}:shard"
    )
    overrides = dict(nonce_overrides or {})
    names = {t.name for t in targets}
    for name, nonce in overrides.items():
        if name not in names:
            raise TargetConfigError(
                f"a nonce is set for {name!r}, which is not a target in {config.name}:targets"
            )
        if nonce_text(nonce) is None:
            raise TargetConfigError(
                f"the nonce of {name!r} must be a string or a whole number (got {nonce!r})"
            )
    passwords = config.get_secret_object("passwords")
    check_passwords = config.get_secret_object("checkPasswords")
    resets: dict[str, PrivilegedAccountReset] = {}
    for target in targets:
        if not in_shard(target.name, selected):
            continue
        if target.name in overrides:
            target = _with_nonce(target, nonce_text(overrides[target.name]))
        password: pulumi.Output[str | None] | None = None
        if passwords is not None:
            password = passwords.apply(_password_picker(target.name, config.name))
        login: pulumi.Output[str | None] | None = None
        if check_passwords is not None:
            login = check_passwords.apply(
                _password_picker(target.name, config.name, "checkPasswords")
            )
        resets[target.name] = PrivilegedAccountReset(
            target.name, target.args(password, login), opts
        )
    return resets


def _with_nonce(target: ResetTarget, nonce: str | None) -> ResetTarget:
    return ResetTarget(**{**vars(target), "reset_nonce": nonce})


def _password_picker(
    name: str, namespace: str, key: str = "passwords"
) -> Callable[[Any], str | None]:
    return lambda passwords: _password_of(passwords, name, namespace, key)


def _password_of(passwords: Any, name: str, namespace: str, key: str = "passwords") -> str | None:
    if passwords is None:
        return None
    if not isinstance(passwords, dict):
        raise TargetConfigError(f"{namespace}:{key} must be a map of target name to password")
    value = passwords.get(name)
    if value is not None and not isinstance(value, str):
        raise TargetConfigError(f"{namespace}:{key}.{name} must be a string")
    return value
