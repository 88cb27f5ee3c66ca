"""Reset the privileged accounts of several PolarDB for MySQL clusters.

Stack config (``Pulumi.<stack>.yaml``)::

    config:
      alicloud:region: cn-hangzhou                  # default region of every target
      polardb-multi:targets:
        - name: orders                               # resource name; letters, digits, - and _
          dbClusterId: pc-bp1orders
          accountName: dbadmin
          resetNonce: "1"                            # bump to reset this target again
        - name: billing-sg
          dbClusterId: pc-gs5billing
          accountName: polar_super
          region: ap-southeast-1                     # per-target region override
          endpoint: polardb.ap-southeast-1.aliyuncs.com   # per-target endpoint override
          timeoutSeconds: 1800
      polardb-multi:passwords:                       # optional, secret, keyed by target name
        orders: {secure: ...}                        # pulumi config set --secret --path passwords.orders ...

One :class:`PrivilegedAccountReset` per target; each target is reset on its own
(a change to one target's nonce or password resets only that target).
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
    target: dict[str, Any], passwords: pulumi.Output[Any] | None
) -> PrivilegedAccountResetArgs:
    """Map one config target to resource arguments; the password comes from the secret map."""
    values: dict[str, Any] = {
        arg: target[key] for key, arg in TARGET_KEYS.items() if target.get(key) is not None
    }
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
    for target in targets:
        reset = PrivilegedAccountReset(target["name"], target_args(target, passwords))
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
                "effective_region": reset.effective_region,
                "effective_endpoint": reset.effective_endpoint,
            },
        )


if __name__ == "__main__":
    main()
