"""Where a resource or a target goes among N shards: the one placement rule (pure).

The provider shards of a stack (``dynamic``), the drift-remediation pipeline's
``--shard I/N`` and any other engine or command share it, so a name lands on the same
shard everywhere, on every machine and in every version.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

_MASK64: Final = (1 << 64) - 1


class PlacementError(ValueError):
    """A shard specification that is not ``I/N``; the message names the key and says what to do."""


def stable_hash(name: str) -> int:
    """A 64-bit hash of ``name`` that never changes between runs, machines or versions.

    Python's ``hash()`` is salted per process, so it cannot place a resource the same way
    twice: the first 8 bytes of SHA-256 can.
    """
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")


def jump_hash(key: int, buckets: int) -> int:
    """Jump consistent hash (Lamping and Veach, 2014): ``key`` to a bucket in ``[0, buckets)``.

    Going from ``n`` to ``n + 1`` buckets moves only about ``1/(n + 1)`` of the keys (all to
    the new bucket), so changing K moves few resources and changing a pipeline's shard count
    moves few targets between stacks. Integer and IEEE-754 double arithmetic only:
    the same answer on every platform.
    """
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1 (got {buckets})")
    key &= _MASK64
    bucket, candidate = -1, 0
    while candidate < buckets:
        bucket = candidate
        key = (key * 2862933555777941757 + 1) & _MASK64
        candidate = int((bucket + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return bucket


def shard_of(name: str, count: int) -> int:
    """The shard (``0 <= shard < count``) of the resource or target named ``name``.

    The one placement rule of the package: the provider shards of a stack and the
    drift-remediation pipeline's ``--shard I/N`` both use it.
    """
    return jump_hash(stable_hash(name), count)


def placement_key(resource_name: str, db_cluster_id: object) -> str:
    """What places a resource on a shard: its cluster ID when it is a plain string, else its name.

    Resets of one cluster then share one provider process and its per-cluster queue. A
    cluster ID that is not known when the resource registers (an ``Output``, an awaitable)
    cannot place it, so the resource name does, as it did before cluster placement.
    """
    if isinstance(db_cluster_id, str) and db_cluster_id.strip():
        return db_cluster_id.strip()
    return resource_name


def parse_shard(raw: Any, key: str = "shard") -> tuple[int, int] | None:
    """``"I/N"`` (shard ``I`` of ``N``, counted from 0) as ``(I, N)``; None when unset.

    Raises :class:`PlacementError` naming ``key`` for anything else.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = str(raw).strip()
    index, _, count = text.partition("/")
    if index.isascii() and index.isdigit() and count.isascii() and count.isdigit():
        shard = int(index), int(count)
        if 0 <= shard[0] < shard[1]:
            return shard
    raise PlacementError(
        f"{key} must be I/N, shard I of N counted from 0 (0/4, 1/4, 2/4, 3/4; got {text!r})"
    )


def in_shard(name: str, shard: tuple[int, int] | None) -> bool:
    """Whether the target ``name`` belongs to ``shard`` (``(I, N)``; None: every target does)."""
    return shard is None or shard_of(name, shard[1]) == shard[0]


__all__ = [
    "PlacementError",
    "in_shard",
    "jump_hash",
    "parse_shard",
    "placement_key",
    "shard_of",
    "stable_hash",
]
