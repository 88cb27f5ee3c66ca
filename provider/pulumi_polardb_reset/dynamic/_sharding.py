"""Spread the resources of a stack over several provider processes (shards).

Why: Pulumi runs every Python dynamic resource that uses the default provider in one
provider process, whatever ``--parallel`` says. Each *explicit* provider instance,
``pulumi.ProviderResource("pulumi-python", name, props)`` passed as ``opts.provider``, is a
process of its own: shards spread the resets' Python work (which holds one core per
process) over several cores, and isolate them from other dynamic resources of the stack.
The 4 worker threads of a process are widened separately (see :mod:`._workers`).

How: :class:`~pulumi_polardb_reset.PrivilegedAccountReset` calls :func:`provider_for`,
which picks one of K shards by a stable hash (:func:`shard_of`) of the resource's
*placement key* (:func:`placement_key`), unless the user chose a ``pulumi-python`` provider
(``opts.provider``, ``opts.providers`` or a parent's). The key is the cluster ID when the
program gives it as a plain string, so the resets of one cluster share one process and its
per-cluster queue (which turns concurrent resets of a cluster into a queue instead of
busy answers and backoff); a cluster ID not known at registration (an ``Output``) leaves
the resource name as the key. The first shard the program uses runs in the default
provider process; each further shard is an explicit provider ``polardb-reset-shard-<i>``,
registered when the first resource lands on it. So a stack whose resets all land on one
shard (one target, or targets of one cluster) has no extra provider resources and no
credentials copied into provider inputs. K is stack config
``polardbReset:providerProcesses`` (default :data:`DEFAULT_PROVIDER_PROCESSES`; 1 keeps
every resource on the default provider, as before sharding existed).

Configuration: an explicit provider's ``configure`` receives that provider's own
properties, not the stack config (checked with the CLI, see tests/e2e/test_e2e_sharding.py), and
the provider process does not see the stack config in its environment either. So each
shard provider is given, as its properties, the stack config keys the provider reads
(:data:`~pulumi_polardb_reset.lifecycle.CONFIG_KEYS`, under their full names, so
``configure`` reads them exactly as it reads the stack config on the default provider).
Credentials and any value set with ``--secret`` are passed as secrets: encrypted in
state like the stack config itself, ``[secret]`` in previews. Environment variables and
Alibaba's default credential chain reach a shard process exactly as they reach the
default provider's (the engine starts both the same way).

Moving a resource between providers (the default one and a shard, or shards when K
changes) is no change for the resource: the engine asks the new provider for the diff,
which compares only the resource's own inputs and outputs, so nothing is replaced or
reset; unused shard providers are deleted (no API call).
"""

from __future__ import annotations

import threading
from typing import Any, Final

import pulumi
import pulumi.runtime
from pulumi.runtime.settings import get_monitor

from ..core import _placement
from ..core._placement import in_shard, jump_hash, placement_key, shard_of, stable_hash
from ..lifecycle import CONFIG_KEYS

#: Config namespace and key of K, the number of shard provider processes.
CONFIG_NAMESPACE: Final = "polardbReset"
PROCESSES_KEY: Final = "providerProcesses"
#: K when the stack config does not say. Each process runs up to 64 operations at once
#: (see _workers), so more processes buy CPU (the provider's Python code holds one core
#: per process) at a price paid by every ``pulumi up`` and preview, even one that changes
#: nothing: the engine starts provider processes one at a time, and each shard holds a copy
#: of the provider config in state. benchmarks/results/k_default.md has the figures this
#: default was chosen from (docs/fleet-scale.md says why).
DEFAULT_PROVIDER_PROCESSES: Final = 1
#: Upper bound of K: beyond this, process start-up costs more than it saves.
MAX_PROVIDER_PROCESSES: Final = 64
#: The package of Python dynamic providers (the ``pulumi-python`` plugin).
PACKAGE: Final = "pulumi-python"
#: Name prefix of the shard providers (``pulumi:providers:pulumi-python::polardb-reset-shard-<i>``).
SHARD_PREFIX: Final = "polardb-reset-shard-"

#: The keys of CONFIG_KEYS that hold credentials: passed to shard providers as secrets even
#: when the stack config has them in plain text.
SECRET_CONFIG_KEYS: Final = frozenset(
    {"alicloud:accessKey", "alicloud:secretKey", "alicloud:securityToken"}
)


class ShardingConfigError(pulumi.RunError):
    """``polardbReset:providerProcesses`` is not a whole number from 1 to the maximum.

    A :class:`pulumi.RunError`, so ``pulumi up`` shows the message alone.
    """


def parse_processes(raw: Any, key: str = f"{CONFIG_NAMESPACE}:{PROCESSES_KEY}") -> int:
    """K from its config value (None: the default); raise :class:`ShardingConfigError`."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return DEFAULT_PROVIDER_PROCESSES
    text = str(raw).strip()
    value = int(text) if text.isascii() and text.isdigit() else 0
    if not 1 <= value <= MAX_PROVIDER_PROCESSES:
        raise ShardingConfigError(
            f"{key} must be a whole number from 1 to {MAX_PROVIDER_PROCESSES} (got {text!r}); "
            "1 runs every reset in the default provider process"
        )
    return value


def parse_shard(raw: Any, key: str = "shard") -> tuple[int, int] | None:
    """``"I/N"`` as ``(I, N)``, None when unset (:func:`core._placement.parse_shard`).

    Raises :class:`ShardingConfigError` naming ``key`` for anything else.
    """
    try:
        return _placement.parse_shard(raw, key)
    except _placement.PlacementError as exc:
        raise ShardingConfigError(str(exc)) from None


def user_chose_provider(opts: pulumi.ResourceOptions | None, type_token: str) -> bool:
    """Whether ``opts`` (or the parent) already decides the resource's provider."""
    if opts is None:
        return False
    if opts.provider is not None:
        return True
    providers = opts.providers
    if isinstance(providers, dict | list | tuple) and (
        PACKAGE in providers
        if isinstance(providers, dict)
        else any(getattr(p, "package", None) == PACKAGE for p in providers)
    ):
        return True
    parent = opts.parent
    return parent is not None and parent.get_provider(type_token) is not None


class _Shards:
    """The shard providers of the running program, registered the first time one is needed.

    The program's first shard (``home``) is the default provider process: a program whose
    resources all land on one shard registers no provider resource.
    """

    def __init__(self, monitor: object, count: int, props: dict[str, Any]) -> None:
        self.monitor = monitor
        self.count = count
        self.props = props
        self.home: int | None = None
        self.providers: dict[int, pulumi.ProviderResource] = {}

    def provider(self, index: int) -> pulumi.ProviderResource | None:
        if self.home is None:
            self.home = index
        if index == self.home:
            return None
        found = self.providers.get(index)
        if found is None:
            found = pulumi.ProviderResource(PACKAGE, f"{SHARD_PREFIX}{index}", dict(self.props))
            self.providers[index] = found
        return found


_lock = threading.Lock()
_current: _Shards | None = None


def shard_props() -> dict[str, Any]:
    """The stack config the provider reads, as shard provider properties (program side).

    Keys keep their full names (``alicloud:region``). Credentials, and any value the stack
    marks secret, are wrapped with :func:`pulumi.Output.secret`: encrypted in state.
    """
    props: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        value = pulumi.runtime.get_config(key)
        if value is None:
            continue
        secret = key in SECRET_CONFIG_KEYS or pulumi.runtime.is_config_secret(key)
        props[key] = pulumi.Output.secret(value) if secret else value
    return props


def _shards() -> _Shards:
    """The running program's shards (one set per program, even when tests run several)."""
    global _current
    monitor = get_monitor()
    with _lock:
        if _current is None or _current.monitor is not monitor:
            config = pulumi.Config(CONFIG_NAMESPACE)
            count = parse_processes(config.get(PROCESSES_KEY), config.full_key(PROCESSES_KEY))
            _current = _Shards(monitor, count, shard_props() if count > 1 else {})
        return _current


def provider_for(
    resource_name: str,
    opts: pulumi.ResourceOptions | None,
    type_token: str,
    db_cluster_id: object = None,
) -> pulumi.ProviderResource | None:
    """The shard provider of a resource, or None: the default provider or the user's.

    The shard is :func:`shard_of` the :func:`placement_key` (cluster ID or ``resource_name``).
    """
    if user_chose_provider(opts, type_token):
        return None
    shards = _shards()
    if shards.count == 1:
        return None
    index = shard_of(placement_key(resource_name, db_cluster_id), shards.count)
    with _lock:
        return shards.provider(index)


__all__ = [
    "DEFAULT_PROVIDER_PROCESSES",
    "MAX_PROVIDER_PROCESSES",
    "ShardingConfigError",
    "in_shard",
    "jump_hash",
    "parse_processes",
    "parse_shard",
    "placement_key",
    "provider_for",
    "shard_of",
    "stable_hash",
]
