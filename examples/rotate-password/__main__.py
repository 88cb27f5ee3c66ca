"""Rotate the privileged account password of one PolarDB for MySQL cluster.

The password comes from an encrypted stack config value::

    pulumi config set polardb-rotate:dbClusterId pc-bp1example
    pulumi config set polardb-rotate:accountName dbadmin
    pulumi config set --secret polardb-rotate:password 'N3w!Passw0rd'

Each ``pulumi up`` after the secret changed makes exactly one ``ResetAccount``
call with the new password. Removing the secret makes no call: the account
keeps the password set last (a reset cannot be undone).

Generating the password with ``pulumi_random`` would need the ``random``
provider plugin, which is not available offline; the password is therefore
taken from config (generate it with your password manager or ``openssl rand``).
"""

from __future__ import annotations

import pulumi

from pulumi_polardb_reset import PrivilegedAccountReset, PrivilegedAccountResetArgs


def main() -> None:
    """Declare the reset with the password from config and export what it did."""
    config = pulumi.Config()
    password = config.get_secret("password")
    if password is None:
        pulumi.log.warn(
            "polardb-rotate:password is not set: the account keeps its current password. "
            "Set one with `pulumi config set --secret polardb-rotate:password ...`."
        )
    reset = PrivilegedAccountReset(
        "privileged-account",
        PrivilegedAccountResetArgs(
            db_cluster_id=config.require("dbClusterId"),
            account_name=config.get("accountName") or "dbadmin",
            account_password=password,
            reset_nonce=config.get("resetNonce"),
        ),
    )
    pulumi.export("id", reset.id)
    pulumi.export("account_status", reset.account_status)
    pulumi.export("last_reset_at", reset.last_reset_at)
    pulumi.export("last_reset_request_id", reset.last_reset_request_id)
    pulumi.export("reset_count", reset.reset_count)


if __name__ == "__main__":
    main()
