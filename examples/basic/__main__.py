"""Reset the privileged account of one PolarDB for MySQL cluster, once.

Stack config (``Pulumi.<stack>.yaml``)::

    polardb-basic:dbClusterId: pc-bp1example     # required
    polardb-basic:accountName: dbadmin           # default: dbadmin
    polardb-basic:resetNonce: 1                  # a counter: bump it to reset again

The first ``pulumi up`` resets the account; later runs change nothing until
``resetNonce`` changes.
"""

from __future__ import annotations

import pulumi

from pulumi_polardb_reset import PrivilegedAccountReset, PrivilegedAccountResetArgs


def main() -> None:
    """Declare the reset and export what it did."""
    config = pulumi.Config()
    reset = PrivilegedAccountReset(
        "privileged-account",
        PrivilegedAccountResetArgs(
            db_cluster_id=config.require("dbClusterId"),
            account_name=config.get("accountName") or "dbadmin",
            # A whole number (pulumi config set --type int ...); bump it to reset again.
            reset_nonce=config.get_int("resetNonce") or 1,
        ),
    )
    pulumi.export("id", reset.id)
    pulumi.export("account_status", reset.account_status)
    pulumi.export("account_type", reset.account_type)
    pulumi.export("account_lock_state", reset.account_lock_state)
    pulumi.export("last_reset_at", reset.last_reset_at)
    pulumi.export("last_reset_request_id", reset.last_reset_request_id)
    pulumi.export("reset_count", reset.reset_count)
    pulumi.export("effective_region", reset.effective_region)
    pulumi.export("effective_endpoint", reset.effective_endpoint)


if __name__ == "__main__":
    main()
