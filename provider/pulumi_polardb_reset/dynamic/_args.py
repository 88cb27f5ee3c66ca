"""Argument and output listings of :class:`PrivilegedAccountReset` (generated: do not edit).

Rendered by ``python -m pulumi_polardb_reset.dynamic._codegen`` from the field table in
:mod:`pulumi_polardb_reset.core._props`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic


@dataclass
class PrivilegedAccountResetArgs:
    """Arguments of :class:`PrivilegedAccountReset`.

    :param db_cluster_id: ID of the PolarDB for MySQL cluster, e.g. ``pc-bp1...``.
    :param account_name: Name of the cluster's privileged (Super) account.
    :param account_password: New password to set with the reset (optional; always stored as a
        secret). Setting or changing it triggers a reset; removing it does not.
    :param reset_nonce: A string or a whole number (stored as its decimal string, so ``1`` and
        ``"1"`` are the same nonce); each change triggers one reset (like ``triggers``).
    :param timeout_seconds: Deadline of one operation, retries and waits included (default 900).
    :param region: Region override (else ``alicloud:region``, ``ALIBABA_CLOUD_REGION``).
    :param endpoint: Endpoint override, ``[http(s)://]host[:port]`` (else
        ``ALIBABA_CLOUD_ENDPOINT_POLARDB``, ``alicloud:endpoints``, the SDK's mapping).
    :param check_privileges: Check the account's privileges (and the managed password) over SQL
        after every reset and on refresh (default true); drift found by refresh makes the next
        ``pulumi up`` reset the account.
    :param sql_endpoint: The SQL address to check, ``host:port`` (default: the cluster endpoint from
        DescribeDBClusterEndpoints).
    :param check_password: The account's current password, for the check to log in with when
        ``account_password`` is not set (always stored as a secret; never set by a reset, so
        changing it triggers none).
    :param unlock: Unlock the account when it is locked (default false): a locked account is then
        drift, and ``pulumi up`` calls ModifyAccountLockState to unlock it (keeping its password's
        validity time; needs ``polardb:ModifyAccountLockState``) before the privilege check. Without
        it a locked account is reported, never changed.
    :param password_expiry_warning_days: Warn when the account's password expires within this many
        days (default 14; 0: only once it has expired).
    :param account_password_secret: Name of the KMS Secrets Manager secret holding the password to
        set (instead of ``account_password``: set one of them). The value is read with
        GetSecretValue at each reset and refresh and never stored; a new version at the stage (a
        rotation) is drift, applied by the next ``pulumi up --refresh``. Needs
        ``kms:GetSecretValue`` on the secret.
    :param account_password_secret_stage: The version stage of ``account_password_secret`` to use
        (default ``ACSCurrent``).
    """

    db_cluster_id: pulumi.Input[str]
    account_name: pulumi.Input[str]
    account_password: pulumi.Input[str] | None = None
    reset_nonce: pulumi.Input[str | int] | None = None
    timeout_seconds: pulumi.Input[int] | None = None
    region: pulumi.Input[str] | None = None
    endpoint: pulumi.Input[str] | None = None
    check_privileges: pulumi.Input[bool] | None = None
    sql_endpoint: pulumi.Input[str] | None = None
    check_password: pulumi.Input[str] | None = None
    unlock: pulumi.Input[bool] | None = None
    password_expiry_warning_days: pulumi.Input[int] | None = None
    account_password_secret: pulumi.Input[str] | None = None
    account_password_secret_stage: pulumi.Input[str] | None = None


class PrivilegedAccountResetBase(pulumi.dynamic.Resource):
    """The outputs and arguments of :class:`PrivilegedAccountReset`."""

    db_cluster_id: pulumi.Output[str]
    """ID of the PolarDB cluster."""
    account_name: pulumi.Output[str]
    """Name of the privileged account."""
    reset_nonce: pulumi.Output[str | None]
    """The nonce of the last reset."""
    timeout_seconds: pulumi.Output[int]
    """Deadline of one operation in seconds."""
    region: pulumi.Output[str | None]
    """The region override, as given."""
    endpoint: pulumi.Output[str | None]
    """The endpoint override, as given."""
    account_password_fingerprint: pulumi.Output[str | None]
    """Salted scrypt fingerprint of the last password set (secret); never the password."""
    last_reset_at: pulumi.Output[str]
    """UTC time (ISO-8601) of the last reset."""
    last_reset_request_id: pulumi.Output[str]
    """Request ID of the last ResetAccount call, for Alibaba Cloud support."""
    reset_count: pulumi.Output[int]
    """How many resets this resource has made."""
    account_status: pulumi.Output[str]
    """AccountStatus as last seen (Available once a reset completed)."""
    account_type: pulumi.Output[str]
    """AccountType as last seen (Super)."""
    account_lock_state: pulumi.Output[str | None]
    """AccountLockState as last seen (UnLock or Lock)."""
    effective_region: pulumi.Output[str]
    """The region the provider used."""
    effective_endpoint: pulumi.Output[str]
    """The endpoint the provider used."""
    check_privileges: pulumi.Output[bool]
    """Whether the SQL check runs."""
    sql_endpoint: pulumi.Output[str | None]
    """The SQL endpoint override, as given."""
    privileges_ok: pulumi.Output[bool | None]
    """Last check: every documented privilege and GRANT OPTION held (None: not checked)."""
    missing_privileges: pulumi.Output[list[str] | None]
    """Last check: the documented privileges missing, sorted (None: not checked)."""
    privileges_checked_at: pulumi.Output[str | None]
    """UTC time (ISO-8601) of the last check attempt."""
    password_ok: pulumi.Output[bool | None]
    """Last check: whether the managed password still logs in (None: not checked or not managed)."""
    privileges_check_cause: pulumi.Output[str | None]
    """Last check: why it could not tell (not drift), e.g. the SQL endpoint did not answer (None: it
        told, or it is disabled)."""
    unlock: pulumi.Output[bool]
    """Whether a locked account is unlocked."""
    password_expiry_warning_days: pulumi.Output[int]
    """Days before the password's expiry from which a warning is given."""
    account_locked: pulumi.Output[bool | None]
    """Whether the account was locked when last seen (AccountLockState Lock; None: not known yet)."""
    password_expires_at: pulumi.Output[str | None]
    """When the account's password expires, UTC ISO-8601 (AccountPasswordValidTime; None: it does
        not expire)."""
    account_password_secret: pulumi.Output[str | None]
    """The KMS secret the password comes from, as given."""
    account_password_secret_stage: pulumi.Output[str | None]
    """The secret's version stage, as given (None: ACSCurrent)."""
    account_password_secret_version: pulumi.Output[str | None]
    """The secret's version ID the last reset set (never its value)."""
    account_password_secret_latest_version: pulumi.Output[str | None]
    """The version ID the secret's stage pointed to at the last refresh; differing from
        ``account_password_secret_version``: rotated in KMS, not yet applied."""

    def __init__(
        self,
        resource_name: str,
        args: PrivilegedAccountResetArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        *,
        db_cluster_id: pulumi.Input[str] | None = None,
        account_name: pulumi.Input[str] | None = None,
        account_password: pulumi.Input[str] | None = None,
        reset_nonce: pulumi.Input[str | int] | None = None,
        timeout_seconds: pulumi.Input[int] | None = None,
        region: pulumi.Input[str] | None = None,
        endpoint: pulumi.Input[str] | None = None,
        check_privileges: pulumi.Input[bool] | None = None,
        sql_endpoint: pulumi.Input[str] | None = None,
        check_password: pulumi.Input[str] | None = None,
        unlock: pulumi.Input[bool] | None = None,
        password_expiry_warning_days: pulumi.Input[int] | None = None,
        account_password_secret: pulumi.Input[str] | None = None,
        account_password_secret_stage: pulumi.Input[str] | None = None,
    ) -> None:
        """Declare a reset of ``account_name`` on ``db_cluster_id``.

        Arguments may be given as :class:`PrivilegedAccountResetArgs`, as keyword arguments
        (the same names and meanings), or both: a keyword argument that is not None wins.
        """
        keywords = {
            "db_cluster_id": db_cluster_id,
            "account_name": account_name,
            "account_password": account_password,
            "reset_nonce": reset_nonce,
            "timeout_seconds": timeout_seconds,
            "region": region,
            "endpoint": endpoint,
            "check_privileges": check_privileges,
            "sql_endpoint": sql_endpoint,
            "check_password": check_password,
            "unlock": unlock,
            "password_expiry_warning_days": password_expiry_warning_days,
            "account_password_secret": account_password_secret,
            "account_password_secret_stage": account_password_secret_stage,
        }
        self._register(resource_name, args, opts, keywords)

    def _register(
        self,
        resource_name: str,
        args: PrivilegedAccountResetArgs | None,
        opts: pulumi.ResourceOptions | None,
        keywords: Mapping[str, Any],
    ) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class TargetValues:
    """The values of one entry of the ``targets`` config list (its resource arguments)."""

    name: str
    db_cluster_id: str
    account_name: str
    reset_nonce: str | None = None
    timeout_seconds: int | None = None
    region: str | None = None
    endpoint: str | None = None
    check_privileges: bool | None = None
    sql_endpoint: str | None = None
    unlock: bool | None = None
    password_expiry_warning_days: int | None = None
    account_password_secret: str | None = None
    account_password_secret_stage: str | None = None
