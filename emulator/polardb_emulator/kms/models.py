"""Secrets, their versions and stages: the rules of KMS Secrets Manager's generic secrets.

A secret holds versions; each version has an ID unique within the secret, a value and a
set of stages. ``ACSCurrent`` and ``ACSPrevious`` are the system stages: storing a new
current version (``PutSecretValue`` without stages, or with ``ACSCurrent``) moves
``ACSCurrent`` to it and ``ACSPrevious`` to the version that was current. A stage is on at
most one version at a time. Custom stages are free text and may also be removed.

The store is synchronous and not thread-safe: the emulator calls it on the model's thread.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .._seed import SeedSecret
from .exceptions import api_error

CURRENT = "ACSCurrent"
PREVIOUS = "ACSPrevious"
SYSTEM_STAGES = (CURRENT, PREVIOUS)
DATA_TYPES = ("text", "binary")
#: KMS's limits: secret names and version IDs (characters), stages per request.
MAX_NAME = 192
MAX_VERSION_ID = 64
MAX_STAGE = 64
MAX_VALUE_BYTES = 30 * 1024
DEFAULT_RECOVERY_DAYS = 30
Clock = Callable[[], float]


def iso(seconds: float) -> str:
    """``2026-12-07T05:52:54Z``: how KMS writes times."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Version:
    """One version of a secret (``value`` never shown but by GetSecretValue)."""

    id: str
    value: str = field(repr=False)
    data_type: str
    created: str
    stages: set[str] = field(default_factory=set)


@dataclass
class Secret:
    """A secret and its versions, oldest first."""

    name: str
    region: str
    description: str
    created: str
    updated: str
    versions: dict[str, Version] = field(default_factory=dict)
    #: When a scheduled deletion takes effect (epoch seconds), or None.
    delete_at: float | None = None

    def holder(self, stage: str) -> Version | None:
        """The version carrying ``stage``, if any."""
        return next((v for v in self.versions.values() if stage in v.stages), None)


def check_name(name: str, what: str = "SecretName") -> None:
    """Refuse a name KMS would: 1 to 192 letters, digits and ``_/+=.@-``."""
    if not 1 <= len(name) <= MAX_NAME or not all(
        c.isascii() and (c.isalnum() or c in "_/+=.@-") for c in name
    ):
        raise api_error(
            "InvalidParameter",
            f"The specified parameter {what} is not valid: 1 to {MAX_NAME} letters, digits "
            "and _/+=.@- characters.",
        )


def check_version_id(version_id: str, what: str = "VersionId") -> None:
    """Refuse a version ID KMS would: 1 to 64 printable ASCII characters."""
    if not 1 <= len(version_id) <= MAX_VERSION_ID or not (
        version_id.isascii() and version_id.isprintable()
    ):
        raise api_error(
            "InvalidParameter",
            f"The specified parameter {what} is not valid: 1 to {MAX_VERSION_ID} printable "
            "ASCII characters.",
        )


def check_stage(stage: str, what: str = "VersionStage") -> None:
    """Refuse a stage KMS would: 1 to 64 printable ASCII characters."""
    if not 1 <= len(stage) <= MAX_STAGE or not (stage.isascii() and stage.isprintable()):
        raise api_error(
            "InvalidParameter",
            f"The specified parameter {what} is not valid: 1 to {MAX_STAGE} printable ASCII "
            "characters.",
        )


def _check_value(value: str, data_type: str) -> None:
    if data_type not in DATA_TYPES:
        raise api_error(
            "InvalidParameter",
            "The specified parameter SecretDataType is not valid: text or binary.",
        )
    if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        raise api_error(
            "InvalidParameter",
            f"The specified parameter SecretData is not valid: at most {MAX_VALUE_BYTES} bytes.",
        )


class SecretStore:
    """Every secret of the emulated KMS instance (one region)."""

    def __init__(
        self, seed: Iterable[SeedSecret], *, region: str, account_id: str, clock: Clock
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.clock = clock
        self._seed = tuple(seed)
        self.secrets: dict[str, Secret] = {}
        self._generated = itertools.count(1)
        self.reset()

    # --- lifecycle --------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the seed's secrets, each with its one version current."""
        self.secrets.clear()
        now = iso(self.clock())
        for seeded in self._seed:
            secret = Secret(seeded.name, self.region, seeded.description, now, now)
            secret.versions[seeded.version_id] = Version(
                seeded.version_id, seeded.value, "text", now, {CURRENT}
            )
            self.secrets[seeded.name] = secret

    def arn(self, name: str) -> str:
        """``acs:kms:<region>:<account>:secret/<name>``."""
        return f"acs:kms:{self.region}:{self.account_id}:secret/{name}"

    def name_of(self, name_or_arn: str) -> str:
        """The secret name a request means: its name, or the name at the end of its ARN."""
        prefix = f"acs:kms:{self.region}:{self.account_id}:secret/"
        return name_or_arn[len(prefix) :] if name_or_arn.startswith(prefix) else name_or_arn

    # --- reading ----------------------------------------------------------------------

    def _find(self, name_or_arn: str, *, pending_ok: bool = False) -> Secret:
        name = self.name_of(name_or_arn)
        secret = self.secrets.get(name)
        if secret is not None and secret.delete_at is not None and self.clock() >= secret.delete_at:
            del self.secrets[name]  # the recovery window is over: deleted for good
            secret = None
        if secret is None:
            raise api_error(
                "Forbidden.ResourceNotFound", f"Resource not found: secret {name[:MAX_NAME]}."
            )
        if secret.delete_at is not None and not pending_ok:
            raise api_error(
                "Rejected.SecretPendingDeletion",
                f"The secret {name} is scheduled for deletion and cannot be used.",
            )
        return secret

    def version(
        self, name_or_arn: str, version_id: str | None, stage: str | None
    ) -> tuple[Secret, Version]:
        """The version GetSecretValue returns: by ID, else by stage (default ACSCurrent)."""
        secret = self._find(name_or_arn)
        if version_id:
            found = secret.versions.get(version_id)
            if found is None or (stage and stage not in found.stages):
                raise api_error(
                    "Forbidden.ResourceNotFound",
                    f"Resource not found: secret {secret.name} has no version {version_id[:MAX_VERSION_ID]}"
                    + (f" with stage {stage[:MAX_STAGE]}." if stage else "."),
                )
            return secret, found
        wanted = stage or CURRENT
        holder = secret.holder(wanted)
        if holder is None:
            raise api_error(
                "Forbidden.ResourceNotFound",
                f"Resource not found: secret {secret.name} has no version with stage {wanted[:MAX_STAGE]}.",
            )
        return secret, holder

    def describe(self, name_or_arn: str) -> Secret:
        """The secret's metadata (also while scheduled for deletion)."""
        return self._find(name_or_arn, pending_ok=True)

    # --- writing ----------------------------------------------------------------------

    def create(
        self, name: str, version_id: str, value: str, data_type: str, description: str
    ) -> Secret:
        """A new secret whose one version is current."""
        check_name(name)
        check_version_id(version_id)
        _check_value(value, data_type)
        existing = self.secrets.get(name)
        if existing is not None and not (
            existing.delete_at is not None and self.clock() >= existing.delete_at
        ):
            raise api_error("Rejected.ResourceExist", f"The secret {name} already exists.")
        now = iso(self.clock())
        secret = Secret(name, self.region, description, now, now)
        secret.versions[version_id] = Version(version_id, value, data_type, now, {CURRENT})
        self.secrets[name] = secret
        return secret

    def put_value(
        self,
        name_or_arn: str,
        version_id: str,
        value: str,
        data_type: str,
        stages: list[str] | None,
    ) -> tuple[Secret, Version]:
        """Store a new version with ``stages`` (default: ACSCurrent)."""
        secret = self._find(name_or_arn)
        check_version_id(version_id)
        _check_value(value, data_type)
        wanted = stages if stages else [CURRENT]
        for stage in wanted:
            check_stage(stage, "VersionStages")
        existing = secret.versions.get(version_id)
        if existing is not None:
            # A retried request stores nothing twice; another value under the ID is refused.
            if existing.value == value and existing.data_type == data_type:
                return secret, existing
            raise api_error(
                "Rejected.ResourceExist",
                f"The version {version_id} of secret {secret.name} already exists.",
            )
        version = Version(version_id, value, data_type, iso(self.clock()))
        secret.versions[version_id] = version
        for stage in dict.fromkeys(wanted):
            self._attach(secret, stage, version)
        secret.updated = version.created
        return secret, version

    def _attach(self, secret: Secret, stage: str, version: Version) -> None:
        """Put ``stage`` on ``version`` only; moving ACSCurrent makes the old one previous."""
        holder = secret.holder(stage)
        if holder is version:
            return
        if holder is not None:
            holder.stages.discard(stage)
        version.stages.add(stage)
        if stage == CURRENT and holder is not None:
            self._attach(secret, PREVIOUS, holder)

    def update_stage(
        self, name_or_arn: str, stage: str, remove_from: str | None, move_to: str | None
    ) -> Secret:
        """UpdateSecretVersionStage's three scenarios (add, remove, move)."""
        secret = self._find(name_or_arn)
        check_stage(stage)
        if not remove_from and not move_to:
            raise api_error(
                "MissingParameter",
                "At least one of the parameters RemoveFromVersion and MoveToVersion must be "
                "supplied.",
            )
        if stage in SYSTEM_STAGES and not move_to:
            raise api_error(
                "InvalidParameter",
                f"The stage {stage} is reserved: it can only be moved to another version "
                "(give MoveToVersion).",
            )
        if remove_from:
            source = secret.versions.get(remove_from)
            if source is None or stage not in source.stages:
                raise api_error(
                    "InvalidParameter",
                    f"The specified parameter RemoveFromVersion is not valid: version "
                    f"{remove_from[:MAX_VERSION_ID]} does not carry the stage {stage}.",
                )
        target = None
        if move_to:
            target = secret.versions.get(move_to)
            if target is None:
                raise api_error(
                    "Forbidden.ResourceNotFound",
                    f"Resource not found: secret {secret.name} has no version "
                    f"{move_to[:MAX_VERSION_ID]}.",
                )
        if target is not None:
            self._attach(secret, stage, target)
        elif remove_from:
            secret.versions[remove_from].stages.discard(stage)
        secret.updated = iso(self.clock())
        return secret

    def delete(self, name_or_arn: str, force: bool, recovery_days: int) -> Secret:
        """Delete at once (``force``), else schedule the deletion ``recovery_days`` ahead."""
        secret = self._find(name_or_arn, pending_ok=True)
        if force:
            del self.secrets[secret.name]
            secret.delete_at = self.clock()
        elif secret.delete_at is None:
            secret.delete_at = self.clock() + recovery_days * 86400
        return secret

    # --- admin ------------------------------------------------------------------------

    def rotate(self, name: str, value: str, version_id: str | None) -> Version:
        """A new version made current (the old current becomes ACSPrevious), as a rotation
        does; the version ID defaults to ``emulator-rotation-<n>``."""
        secret = self._find(name)
        new_id = version_id or self._fresh_id(secret)
        return self.put_value(secret.name, new_id, value, "text", None)[1]

    def _fresh_id(self, secret: Secret) -> str:
        while True:
            candidate = f"emulator-rotation-{next(self._generated)}"
            if candidate not in secret.versions:
                return candidate

    def view(self) -> list[dict[str, Any]]:
        """Every secret with its versions' IDs and stages: never a value."""
        return [
            {
                "name": s.name,
                "arn": self.arn(s.name),
                "planned_delete_time": iso(s.delete_at) if s.delete_at is not None else None,
                "versions": [
                    {"version_id": v.id, "stages": sorted(v.stages), "created": v.created}
                    for v in s.versions.values()
                ],
            }
            for s in self.secrets.values()
        ]
