"""Root stack: one PrivilegedAccountReset per target listed in stack config.

Stack config (``Pulumi.<stack>.yaml``)::

    config:
      alicloud:region: cn-hangzhou
      alicloud:accessKey: LTAI...                # or ALIBABA_CLOUD_ACCESS_KEY_ID, a profile, ...
      alicloud:secretKey: {secure: ...}          # pulumi config set --secret alicloud:secretKey ...
      polardb-reset:targets:
        - name: main
          dbClusterId: pc-bp1example
          accountName: dbadmin
          resetNonce: "1"                        # bump to reset again
      polardb-reset:passwords:                   # optional, secret, per target name
        main: {secure: ...}                      # pulumi config set --secret --path passwords.main ...
"""

from __future__ import annotations

from typing import Any

import pulumi

from pulumi_polardb_reset import PrivilegedAccountReset, PrivilegedAccountResetArgs

_KEYS = {
    "dbClusterId": "db_cluster_id",
    "accountName": "account_name",
    "resetNonce": "reset_nonce",
    "timeoutSeconds": "timeout_seconds",
    "region": "region",
    "endpoint": "endpoint",
}


def target_args(
    target: dict[str, Any], passwords: pulumi.Output[Any] | None
) -> PrivilegedAccountResetArgs:
    """Map one config target (camelCase keys, like Pulumi config) to resource arguments."""
    unknown = sorted(set(target) - set(_KEYS) - {"name"})
    if unknown:
        raise pulumi.RunError(
            f"polardb-reset:targets entry {target.get('name')!r} has unknown key(s) "
            f"{', '.join(unknown)}; allowed: name, {', '.join(_KEYS)}"
        )
    values = {arg: target[key] for key, arg in _KEYS.items() if target.get(key) is not None}
    name = target["name"]
    if passwords is not None:
        values["account_password"] = passwords.apply(lambda d: (d or {}).get(name))
    return PrivilegedAccountResetArgs(**values)


def main() -> None:
    """Declare the resets and export what each did."""
    config = pulumi.Config()
    targets = config.require_object("targets")
    if not isinstance(targets, list) or not all(
        isinstance(t, dict) and t.get("name") for t in targets
    ):
        raise pulumi.RunError("polardb-reset:targets must be a list of objects, each with a 'name'")
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
            },
        )


if __name__ == "__main__":
    main()
