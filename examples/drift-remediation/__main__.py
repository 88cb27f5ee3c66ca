"""Reset the privileged accounts of PolarDB for MySQL clusters; CI picks which ones.

Stack config (``Pulumi.<stack>.yaml``)::

    config:
      alicloud:region: cn-hangzhou
      polardb-drift:targets:
        - name: orders                   # resource name; letters, digits, - and _
          dbClusterId: pc-bp1orders
          accountName: dbadmin
          # region, endpoint, timeoutSeconds, resetNonce: optional, as in multi-cluster
      polardb-drift:nonces:              # written by pipeline.py, one entry per target
        orders: "9876543210"             # the CI run that last asked for a reset
      polardb-drift:passwords:           # optional, secret, keyed by target name
        orders: {secure: ...}

A target's nonce is ``nonces[<name>]`` if set, else its own ``resetNonce``.
``pipeline.py`` sets ``nonces.<name>`` to the CI run ID for the targets it wants
reset (all, or only the drifted ones), so one ``pulumi up`` resets exactly those.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi

from pulumi_polardb_reset import PrivilegedAccountReset, PrivilegedAccountResetArgs

#: Target keys (camelCase, like Pulumi config) and the resource arguments they set.
TARGET_KEYS = {
    "dbClusterId": "db_cluster_id",
    "accountName": "account_name",
    "resetNonce": "reset_nonce",
    "timeoutSeconds": "timeout_seconds",
    "region": "region",
    "endpoint": "endpoint",
}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def parse_targets(raw: Any, namespace: str) -> list[dict[str, Any]]:
    """Check the ``targets`` config list; raise ``pulumi.RunError`` naming the bad entry."""
    if not isinstance(raw, list) or not raw:
        raise pulumi.RunError(f"{namespace}:targets must be a non-empty list of objects")
    seen: set[str] = set()
    for index, target in enumerate(raw):
        where = f"{namespace}:targets[{index}]"
        if not isinstance(target, dict):
            raise pulumi.RunError(f"{where} must be an object")
        name = target.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise pulumi.RunError(
                f"{where}.name must be letters, digits, '-' or '_' (got {name!r})"
            )
        if name in seen:
            raise pulumi.RunError(f"{where}.name {name!r} is used twice")
        seen.add(name)
        unknown = sorted(set(target) - set(TARGET_KEYS) - {"name"})
        if unknown:
            raise pulumi.RunError(
                f"{where} ({name}) has unknown key(s) {', '.join(unknown)}; "
                f"allowed: name, {', '.join(TARGET_KEYS)}"
            )
        for key in ("dbClusterId", "accountName"):
            if not target.get(key):
                raise pulumi.RunError(f"{where} ({name}) needs {key}")
    return raw


def target_args(
    target: dict[str, Any], passwords: pulumi.Output[Any] | None, nonces: dict[str, Any]
) -> PrivilegedAccountResetArgs:
    """Map one config target to resource arguments (nonce from ``nonces``, password from the map)."""
    values: dict[str, Any] = {
        arg: target[key] for key, arg in TARGET_KEYS.items() if target.get(key) is not None
    }
    if nonces.get(target["name"]) is not None:
        values["reset_nonce"] = nonces[target["name"]]
    if values.get("reset_nonce") is not None:
        values["reset_nonce"] = str(values["reset_nonce"])
    name = target["name"]
    if passwords is not None:
        values["account_password"] = passwords.apply(lambda d: (d or {}).get(name))
    return PrivilegedAccountResetArgs(**values)


def main() -> None:
    """Declare one reset per target and export what each did."""
    config = pulumi.Config()
    targets = parse_targets(config.require_object("targets"), config.name)
    passwords = config.get_secret_object("passwords")
    nonces = config.get_object("nonces") or {}
    if not isinstance(nonces, dict):
        raise pulumi.RunError(f"{config.name}:nonces must be a map of target name to nonce")
    for target in targets:
        reset = PrivilegedAccountReset(target["name"], target_args(target, passwords, nonces))
        pulumi.export(
            target["name"],
            {
                "id": reset.id,
                "account_status": reset.account_status,
                "account_type": reset.account_type,
                "account_lock_state": reset.account_lock_state,
                "last_reset_at": reset.last_reset_at,
                "last_reset_request_id": reset.last_reset_request_id,
                "reset_count": reset.reset_count,
                "reset_nonce": reset.reset_nonce,
                "effective_region": reset.effective_region,
                "effective_endpoint": reset.effective_endpoint,
            },
        )


if __name__ == "__main__":
    main()
