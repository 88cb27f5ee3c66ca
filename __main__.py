"""Root stack: one PrivilegedAccountReset per target listed in stack config.

Stack config (``Pulumi.<stack>.yaml``)::

    config:
      alicloud:region: cn-hangzhou
      alicloud:accessKey: LTAI...                # or ALIBABA_CLOUD_ACCESS_KEY_ID, a profile, ...
      alicloud:secretKey: {secure: ...}          # pulumi config set --secret alicloud:secretKey
      polardb-reset:targets:
        - name: main
          dbClusterId: pc-bp1example
          accountName: dbadmin
          resetNonce: 1                          # string or whole number; bump to reset again
      polardb-reset:passwords:                   # optional, secret, per target name
        main: {secure: ...}                      # pulumi config set --secret --path passwords.main

Target keys: name, dbClusterId, accountName, resetNonce, timeoutSeconds, region, endpoint,
checkPrivileges, sqlEndpoint, unlock, passwordExpiryWarningDays, accountPasswordSecret,
accountPasswordSecretStage.
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
            "account_locked": reset.account_locked,
            "password_expires_at": reset.password_expires_at,
            "last_reset_at": reset.last_reset_at,
            "last_reset_request_id": reset.last_reset_request_id,
            "reset_count": reset.reset_count,
            "reset_nonce": reset.reset_nonce,
            "privileges_ok": reset.privileges_ok,
            "missing_privileges": reset.missing_privileges,
        },
    )
