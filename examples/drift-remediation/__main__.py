"""Reset the privileged accounts of PolarDB for MySQL clusters; CI picks which ones.

Stack config (``Pulumi.<stack>.yaml``)::

    config:
      alicloud:region: cn-hangzhou
      polardb-drift:targets:
        - name: orders                   # resource name; letters, digits, - and _
          dbClusterId: pc-bp1orders
          accountName: dbadmin
          # region, endpoint, timeoutSeconds, resetNonce: optional, as in multi-cluster
          # checkPrivileges (default true), sqlEndpoint (host:port): the privilege check
      polardb-drift:nonces:              # written by polardb-reset remediate --all
        orders: "9876543210"             # the CI run that last asked for a reset
      polardb-drift:passwords:           # optional, secret, keyed by target name: managed
        orders: {secure: ...}            # passwords (set by the reset, checked by refresh)
      polardb-drift:checkPasswords:      # optional, secret: the privilege check's login for
        billing: {secure: ...}           # targets whose password is not managed

A target's nonce is ``nonces[<name>]`` if set, else its own ``resetNonce``.
``polardb-reset remediate --all`` sets ``nonces.<name>`` to the CI run ID for every
target, so one ``pulumi up`` resets each once. Permission or password drift found by a
refresh is reset by the next ``pulumi up --refresh`` on its own; ``polardb-reset detect``
reports it (``missing: ...``, ``password refused``) without writing anything.
"""

from __future__ import annotations

import pulumi

from pulumi_polardb_reset import TargetConfigError, resets_from_config

config = pulumi.Config()
nonces = config.get_object("nonces") or {}
if not isinstance(nonces, dict):
    raise TargetConfigError(f"{config.name}:nonces must be a map of target name to nonce")
for name, reset in resets_from_config(config, nonce_overrides=nonces).items():
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
            "reset_nonce": reset.reset_nonce,
            "effective_region": reset.effective_region,
            "effective_endpoint": reset.effective_endpoint,
            "privileges_ok": reset.privileges_ok,
            "missing_privileges": reset.missing_privileges,
            "password_ok": reset.password_ok,
            "privileges_checked_at": reset.privileges_checked_at,
        },
    )
