"""The :class:`PrivilegedAccountReset` resource (its listings are generated: ``_args``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic

from ..core import _props as p
from . import _sharding
from ._args import PrivilegedAccountResetArgs, PrivilegedAccountResetBase
from ._provider import PrivilegedAccountResetProvider


class PrivilegedAccountReset(
    PrivilegedAccountResetBase, module="polardb", name="PrivilegedAccountReset"
):
    """Restores the permissions of a PolarDB for MySQL cluster's privileged account.

    Create and update call PolarDB ``ResetAccount`` (with ``account_password`` when set), then
    wait until the account is ``Available``. A reset happens when the password is set or
    changed, when ``reset_nonce`` changes, or when the last check (refresh) found permission
    or password drift; nothing else causes one. Deleting the resource makes no API call: a
    reset cannot be undone.

    The resource runs in one of ``polardbReset:providerProcesses`` provider processes, picked
    by a stable hash of its cluster ID (of its name when the cluster ID is not a plain
    string); pass ``opts.provider`` to choose the provider yourself. Its arguments and
    outputs are listed in the field table (:mod:`pulumi_polardb_reset.core._props`).
    """

    def _register(
        self,
        resource_name: str,
        args: PrivilegedAccountResetArgs | None,
        opts: pulumi.ResourceOptions | None,
        keywords: Mapping[str, Any],
    ) -> None:
        props = resource_props(args, keywords)
        extra = pulumi.ResourceOptions(additional_secret_outputs=list(p.SECRET_OUTPUTS))
        # One of K provider processes, by a stable hash of the cluster ID or the name (see
        # _sharding), unless the user chose the provider.
        extra.provider = _sharding.provider_for(
            resource_name, opts, self.type_token(), props[p.DB_CLUSTER_ID]
        )
        opts = pulumi.ResourceOptions.merge(opts, extra)
        pulumi.dynamic.Resource.__init__(
            self, PrivilegedAccountResetProvider(), resource_name, props, opts
        )

    @classmethod
    def type_token(cls) -> str:
        """The resource type, ``pulumi-python:dynamic/polardb:PrivilegedAccountReset``."""
        return f"pulumi-python:{cls._resource_type_name}"


def resource_props(
    args: PrivilegedAccountResetArgs | None, keywords: Mapping[str, Any]
) -> dict[str, Any]:
    """The properties to register: every output name, the inputs set, the passwords as secrets."""
    values = dict(vars(args)) if args is not None else {}
    values.update({k: v for k, v in keywords.items() if v is not None})
    props: dict[str, Any] = {name: None for name in p.OUTPUTS}
    for f in p.INPUT_FIELDS:
        value = values.get(f.name)
        props[f.name] = pulumi.Output.secret(value) if f.secret and value is not None else value
    return props


__all__ = ["PrivilegedAccountReset", "PrivilegedAccountResetArgs", "resource_props"]
