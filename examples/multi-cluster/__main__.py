"""Reset the privileged accounts of several PolarDB for MySQL clusters.

Stack config (``Pulumi.<stack>.yaml``)::

    config:
      alicloud:region: cn-hangzhou                  # default region of every target
      polardb-multi:targets:
        - name: orders                               # resource name; letters, digits, - and _
          dbClusterId: pc-bp1orders
          accountName: dbadmin
          resetNonce: 1                              # bump to reset this target again
        - name: billing-sg
          dbClusterId: pc-gs5billing
          accountName: polar_super
          region: ap-southeast-1                     # per-target region override
          endpoint: polardb.ap-southeast-1.aliyuncs.com   # per-target endpoint override
          timeoutSeconds: 1800
      polardb-multi:passwords:                       # optional, secret, keyed by target name
        orders: {secure: ...}                        # pulumi config set --secret --path passwords.orders

One :class:`PrivilegedAccountReset` per target (``resets_from_config`` checks the list
and names the entry and key of any mistake); a change to one target's nonce or
password resets only that target.
"""

from __future__ import annotations

import pulumi

from pulumi_polardb_reset import resets_from_config

for name, reset in resets_from_config(pulumi.Config()).items():
    pulumi.export(
        name,
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
