"""Move a deployed stack's dynamic ``PrivilegedAccountReset`` resources to the native provider.

``polardb-reset migrate [--stack STACK] [--dry-run]``, in the project directory (the older
spelling ``python -m pulumi_polardb_reset.native.migrate`` runs the same code):

1. ``pulumi stack export``; every resource of the dynamic type
   (``pulumi-python:dynamic/polardb:PrivilegedAccountReset``) becomes
   ``polardb-account:index:PrivilegedAccountReset`` with the same name, ID, inputs and
   outputs (camelCase; secrets stay encrypted as they are), served by the native provider's
   default provider. ``dependencies``, ``propertyDependencies`` and parents that name a moved
   resource follow its new URN. Dynamic provider instances left without a resource are
   dropped.
2. The stack's configuration: the native provider only receives its own namespace, so each
   key the dynamic resource read (``alicloud:region``, ``alicloud:accessKey``,
   ``alicloud:secretKey``, ``alicloud:securityToken``, ``alicloud:profile``,
   ``alicloud:endpoints``, and each ``polardbReset:<key>`` of :data:`._config.KEYS`) is
   written as its ``polardb-account:<key>``
   (secrets as secrets). A ``polardb-account:<key>`` the stack already has takes precedence
   and is kept. The ``alicloud:*`` keys stay (pulumi-alicloud reads them).
3. ``pulumi stack import`` of the rewritten state.

No API call: nothing is reset, and the password fingerprint, nonce, reset count and last
check are kept, so once the program declares the same resources with the native SDK (or in
YAML, TypeScript, ...), ``pulumi up`` has nothing to do. Anything that stops the migration
(``pulumi`` not found, a checkpoint it cannot read) is reported in one line before the
state is written.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

from ..core import _convert
from ..core._errors import ConfigurationError
from . import _config
from ._schema import TOKEN
from ._server import plugin_version
from ._wire import camel

#: The dynamic resource's type in every existing stack's state (a stored name).
DYNAMIC_TYPE: Final = "pulumi-python:dynamic/polardb:PrivilegedAccountReset"
_DYNAMIC_PROVIDER: Final = "pulumi:providers:pulumi-python"
_NATIVE_PROVIDER: Final = f"pulumi:providers:{_config.PACKAGE}"
#: ``pulumi stack export``'s format (apitype.DeploymentV3).
_DEPLOYMENT_VERSION: Final = 3
_DONE: Final = "the stack's state was not changed"


class MigrationError(Exception):
    """The migration stopped before writing the state; the message is one line.

    ``usage``: the command cannot run as invoked (no ``pulumi``, a bad option), as opposed
    to a failure of the stack or the CLI. ``exit_code``: a failed ``pulumi`` command's own
    status (Pulumi's exit codes: 6 no such stack, 8 cancelled, ...), else None.
    """

    def __init__(self, message: str, *, usage: bool = False, exit_code: int | None = None):
        super().__init__(message)
        self.usage = usage
        self.exit_code = exit_code


@dataclass(frozen=True)
class ConfigWrite:
    """One ``polardb-account:<key>`` the migration sets, and the dynamic key it comes from."""

    key: str
    source: str
    value: str = field(repr=False)
    secret: bool


# -- the state ---------------------------------------------------------------------------


def _malformed(reason: str) -> MigrationError:
    return MigrationError(f"the stack's checkpoint is malformed ({reason}); {_DONE}")


def _split(urn: Any) -> list[str]:
    """A URN's four parts: ``urn:pulumi:<stack>``, project, qualified type, name."""
    parts = urn.split("::", 3) if isinstance(urn, str) else []
    if len(parts) != 4 or not parts[0].startswith("urn:pulumi:") or not all(parts[1:3]):
        raise _malformed(f"{str(urn)[:120]!r} is not a resource URN")
    return parts


def _retype(urn: str) -> str:
    """``urn`` with the dynamic type replaced by the native one (its own, or a parent's)."""
    head, project, qualified, name = _split(urn)
    types = [TOKEN if t == DYNAMIC_TYPE else t for t in qualified.split("$")]
    return "::".join((head, project, "$".join(types), name))


def _rename(props: Mapping[str, Any]) -> dict[str, Any]:
    # The dynamic provider's own keys (``__provider``) have no place in a native resource.
    values = {k: v for k, v in props.items() if not k.startswith("__")}
    return _convert.rename(values, "camel")


def _mapping(resource: Mapping[str, Any], key: str, urn: str) -> dict[str, Any]:
    value = resource.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _malformed(f"{key} of {urn} is not an object")
    return value


def _urns(value: Any, what: str, urn: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
        raise _malformed(f"{what} of {urn} is not a list of URNs")
    return list(value)


def _resources(deployment: Mapping[str, Any]) -> list[dict[str, Any]]:
    resources = deployment.get("resources") or []
    if not isinstance(resources, list):
        raise _malformed("resources is not a list")
    for resource in resources:
        if not isinstance(resource, dict) or not isinstance(resource.get("type"), str):
            raise _malformed("a resource without a type")
        _split(resource.get("urn"))
    return resources


def migrate(
    deployment: Mapping[str, Any], version: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The deployment with its dynamic resets moved to the native provider, and those moved.

    Pure: raises :class:`MigrationError` for a deployment it cannot read, naming what.
    """
    resources = [dict(r) for r in _resources(deployment)]
    for operation in deployment.get("pendingOperations") or []:
        pending = operation.get("resource") if isinstance(operation, dict) else None
        if isinstance(pending, dict) and DYNAMIC_TYPE in str(pending.get("urn", "")):
            raise MigrationError(
                f"the stack has a pending {operation.get('type', 'operation')} of "
                f"{pending.get('urn')} (an update was interrupted): run `pulumi refresh` "
                f"first; {_DONE}"
            )
    moved_urns = {
        str(r["urn"]): _retype(str(r["urn"]))
        for r in resources
        if DYNAMIC_TYPE in _split(r["urn"])[2].split("$")
    }
    resets = [r for r in resources if r["type"] == DYNAMIC_TYPE]
    if not resets:
        return {**deployment, "resources": resources}, []
    head, project, _, _ = _split(resets[0]["urn"])
    provider_urn = f"{head}::{project}::{_NATIVE_PROVIDER}::default_{version.replace('.', '_')}"
    existing = next((r for r in resources if r["urn"] == provider_urn), None)
    provider_id = str(existing["id"]) if existing is not None else str(uuid.uuid4())

    def follow(urns: list[str]) -> list[str]:
        return [moved_urns.get(u, u) for u in urns]

    for resource in resources:
        urn = str(resource["urn"])
        resource["urn"] = moved_urns.get(urn, urn)
        for key in ("parent", "deletedWith"):
            if isinstance(resource.get(key), str):
                resource[key] = moved_urns.get(resource[key], resource[key])
        for key in ("dependencies", "aliases"):
            if key in resource:
                resource[key] = follow(_urns(resource[key], key, urn))
        if "propertyDependencies" in resource:
            deps = _mapping(resource, "propertyDependencies", urn)
            resource["propertyDependencies"] = {
                name: follow(_urns(urns, f"propertyDependencies.{name}", urn))
                for name, urns in deps.items()
            }
        if resource["type"] != DYNAMIC_TYPE:
            continue
        resource["type"] = TOKEN
        resource["inputs"] = _rename(_mapping(resource, "inputs", urn))
        resource["outputs"] = _rename(_mapping(resource, "outputs", urn))
        if "propertyDependencies" in resource:
            resource["propertyDependencies"] = _rename(resource["propertyDependencies"])
        resource["provider"] = f"{provider_urn}::{provider_id}"
        if "additionalSecretOutputs" in resource:
            outputs = _urns(resource["additionalSecretOutputs"], "additionalSecretOutputs", urn)
            resource["additionalSecretOutputs"] = [camel(k) for k in outputs]
    moved = [r for r in resources if r["type"] == TOKEN and r["urn"] in moved_urns.values()]
    if existing is None:
        provider = {
            "urn": provider_urn,
            "custom": True,
            "id": provider_id,
            "type": _NATIVE_PROVIDER,
            "inputs": {"version": version},
            "outputs": {"version": version},
        }
        resources.insert(resources.index(moved[0]), provider)
    used = {str(r.get("provider", "")).rsplit("::", 1)[0] for r in resources}
    resources = [r for r in resources if r["type"] != _DYNAMIC_PROVIDER or r["urn"] in used]
    return {**deployment, "resources": resources}, moved


# -- the configuration -------------------------------------------------------------------


def config_writes(config: Mapping[str, Any]) -> tuple[list[ConfigWrite], list[str]]:
    """The ``polardb-account:*`` keys to set from ``pulumi config --json --show-secrets``.

    Returns the writes and notes for the user (a native key already set with another value
    than the dynamic key's: it is kept, and takes precedence).
    """

    def entry(key: str) -> Mapping[str, Any]:
        found = config.get(key)
        return found if isinstance(found, Mapping) else {}

    values = {
        key: e.get("objectValue", e.get("value"))
        for key in config
        if (e := entry(key)) and e.get("value") is not None
    }
    try:
        wanted = _config.from_dynamic_config(values)
    except ConfigurationError as exc:
        raise MigrationError(f"{exc.message}; {_DONE}") from None
    secret_keys = {f"{_config.PACKAGE}:{k.name}" for k in _config.KEYS if k.secret}
    writes: list[ConfigWrite] = []
    notes: list[str] = []
    for key, (source, value) in wanted.items():
        text = value if source == "alicloud:endpoints" else entry(source).get("value")
        secret = bool(entry(source).get("secret")) or key in secret_keys
        if key in config:
            if entry(key).get("value") != text:
                shown = "" if secret else f" ({text})"
                notes.append(f"{key} is already set and is kept; {source}{shown} is not used")
            continue
        writes.append(ConfigWrite(key, source, str(text), secret))
    return writes, notes


# -- running pulumi ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Pulumi:
    """The ``pulumi`` CLI run in the project directory on one stack."""

    executable: str
    cwd: Path
    stack: str | None

    @classmethod
    def find(cls, pulumi_bin: str | None, cwd: Path, stack: str | None) -> _Pulumi:
        found = shutil.which("pulumi", path=pulumi_bin) if pulumi_bin else shutil.which("pulumi")
        if found is None:
            where = f"in {pulumi_bin}" if pulumi_bin else "on PATH"
            raise MigrationError(
                f"the pulumi CLI is not {where}: install it (https://www.pulumi.com/docs/"
                f"install/) or pass --pulumi-bin DIR; {_DONE}",
                usage=True,
            )
        if not (cwd / "Pulumi.yaml").is_file() and not (cwd / "Pulumi.yml").is_file():
            raise MigrationError(
                f"{cwd} holds no Pulumi.yaml: run this in the project directory (or pass "
                f"--cwd DIR); {_DONE}",
                usage=True,
            )
        return cls(found, cwd, stack)

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        command = [*args, *(["--stack", self.stack] if self.stack else [])]
        try:
            done = subprocess.run(
                [self.executable, *command],
                cwd=self.cwd,
                input=stdin,
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as exc:
            raise MigrationError(f"cannot run {self.executable}: {exc}; {_DONE}") from None
        if done.returncode != 0:
            lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
            errors = [line.removeprefix("error:").strip() for line in lines if "error:" in line]
            reason = (errors or lines or [f"exit status {done.returncode}"])[0]
            raise MigrationError(
                f"`pulumi {' '.join(args[:2])}` failed: {reason}; {_DONE}",
                exit_code=done.returncode if done.returncode > 0 else None,
            )
        return done.stdout


def run(
    *,
    stack: str | None = None,
    cwd: Path | str = ".",
    dry_run: bool = False,
    pulumi_bin: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Migrate the stack (see the module docstring); returns how many resets moved.

    Raises :class:`MigrationError` (one line) when it cannot; the state is then unchanged.
    """
    out, err = out or sys.stdout, err or sys.stderr
    pulumi = _Pulumi.find(pulumi_bin, Path(cwd), stack)
    text = pulumi("stack", "export")
    try:
        exported = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _malformed(f"`pulumi stack export` printed no JSON: {exc}") from None
    if not isinstance(exported, dict) or exported.get("version") != _DEPLOYMENT_VERSION:
        raise _malformed(f"not a version {_DEPLOYMENT_VERSION} deployment")
    if not isinstance(exported.get("deployment"), dict):
        raise _malformed("no deployment object")
    migrated, moved = migrate(exported["deployment"], plugin_version())
    native = any(r.get("type") == TOKEN for r in migrated.get("resources") or [])
    if not native:
        err.write(f"no {DYNAMIC_TYPE} in the stack: nothing to migrate\n")
        return 0
    config = json.loads(pulumi("config", "--json", "--show-secrets") or "{}")
    writes, notes = config_writes(config if isinstance(config, dict) else {})
    document = {**exported, "deployment": migrated}
    if dry_run:
        out.write(json.dumps(document, indent=2) + "\n")
        for write in writes:
            err.write(f"would set {_describe(write)}\n")
        for note in notes:
            err.write(f"note: {note}\n")
        return len(moved)
    for write in writes:
        flags = ["--secret"] if write.secret else []
        # The value on stdin: never on a command line another user can read.
        pulumi("config", "set", *flags, write.key, "--non-interactive", stdin=write.value)
        err.write(f"set {_describe(write)}\n")
    for note in notes:
        err.write(f"note: {note}\n")
    if not moved:
        # Already on the native provider (moved earlier, by hand or by 0.2.0): config only.
        err.write(f"no {DYNAMIC_TYPE} left in the stack: the state stays as it is\n")
        return 0
    fd, name = tempfile.mkstemp(prefix="polardb-reset-migrate-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle)
        pulumi("stack", "import", "--file", name)
    finally:
        os.unlink(name)
    err.write(
        f"moved {len(moved)} PrivilegedAccountReset resource(s) to {TOKEN}; now declare them "
        "with the native provider under the same names and run `pulumi preview` (no change "
        "expected)\n"
    )
    return len(moved)


def _describe(write: ConfigWrite) -> str:
    return f"{write.key}{' (secret)' if write.secret else ''} from {write.source}"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pulumi_polardb_reset.native.migrate``: the 0.2.0 spelling of the command."""
    parser = argparse.ArgumentParser(
        prog="python -m pulumi_polardb_reset.native.migrate",
        description="Same as `polardb-reset migrate`: move the stack's dynamic resets to the "
        "native provider.",
    )
    parser.add_argument("--stack", help="the stack (default: the selected one)")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the migrated deployment, change nothing"
    )
    parser.add_argument("--pulumi-bin", help="directory of the pulumi CLI (default: PATH)")
    args = parser.parse_args(argv)
    try:
        run(stack=args.stack, dry_run=args.dry_run, pulumi_bin=args.pulumi_bin)
    except MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if exc.usage else exc.exit_code or 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
