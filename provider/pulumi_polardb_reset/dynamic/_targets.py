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

from ..core._validation import nonce_text
from ._resource import PrivilegedAccountReset, PrivilegedAccountResetArgs
from ._sharding import in_shard, parse_shard

#: Target keys and the resource arguments they set.
TARGET_KEYS: Final = {
    "dbClusterId": "db_cluster_id",
    "accountName": "account_name",
    "resetNonce": "reset_nonce",
    "timeoutSeconds": "timeout_seconds",
    "region": "region",
    "endpoint": "endpoint",
    "checkPrivileges": "check_privileges",
    "sqlEndpoint": "sql_endpoint",
}
_REQUIRED: Final = ("dbClusterId", "accountName")
_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


class TargetConfigError(pulumi.RunError):
    """A mistake in the ``targets`` (or ``passwords``/nonces) config.

    A :class:`pulumi.RunError`, so ``pulumi up`` shows the message alone, without a
    Python traceback.
    """


@dataclass(frozen=True)
class ResetTarget:
    """One checked entry of the ``targets`` config list."""

    name: str
    db_cluster_id: str
    account_name: str
    reset_nonce: str | None = None
    timeout_seconds: int | None = None
    region: str | None = None
    endpoint: str | None = None
    check_privileges: bool | None = None
    sql_endpoint: str | None = None

    def args(
        self,
        account_password: pulumi.Input[str | None] | None = None,
        check_password: pulumi.Input[str | None] | None = None,
    ) -> PrivilegedAccountResetArgs:
        """The resource arguments of this target."""
        return PrivilegedAccountResetArgs(
            db_cluster_id=self.db_cluster_id,
            account_name=self.account_name,
            account_password=account_password,  # type: ignore[arg-type]
            reset_nonce=self.reset_nonce,
            timeout_seconds=self.timeout_seconds,
            region=self.region,
            endpoint=self.endpoint,
            check_privileges=self.check_privileges,
            sql_endpoint=self.sql_endpoint,
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
    for required in _REQUIRED:
        value = entry.get(required)
        if value is None or value == "":
            raise TargetConfigError(f"{where} needs {required}")
        if not isinstance(value, str):
            raise TargetConfigError(
                f"{where}.{required} must be a string (got {type(value).__name__})"
            )
    for optional in ("region", "endpoint", "sqlEndpoint"):
        if entry.get(optional) is not None and not isinstance(entry[optional], str):
            raise TargetConfigError(
                f"{where}.{optional} must be a string (got {type(entry[optional]).__name__})"
            )
    check = entry.get("checkPrivileges")
    if check is not None and not isinstance(check, bool):
        raise TargetConfigError(f"{where}.checkPrivileges must be true or false (got {check!r})")
    nonce = entry.get("resetNonce")
    if nonce is not None and nonce_text(nonce) is None:
        raise TargetConfigError(
            f"{where}.resetNonce must be a string or a whole number (got {nonce!r})"
        )
    timeout = entry.get("timeoutSeconds")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or (isinstance(timeout, float) and not timeout.is_integer())
    ):
        raise TargetConfigError(
            f"{where}.timeoutSeconds must be a whole number of seconds (got {timeout!r})"
        )
    return ResetTarget(
        name=name,
        db_cluster_id=entry["dbClusterId"],
        account_name=entry["accountName"],
        reset_nonce=None if nonce is None else nonce_text(nonce),
        timeout_seconds=None if timeout is None else int(timeout),
        region=entry.get("region"),
        endpoint=entry.get("endpoint"),
        check_privileges=check,
        sql_endpoint=entry.get("sqlEndpoint"),
    )


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
