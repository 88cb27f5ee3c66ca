"""Move a deployed stack's dynamic ``PrivilegedAccountReset`` resources to the native provider.

``python -m pulumi_polardb_reset.native.migrate [--stack STACK] [--dry-run]`` runs, in the
project directory: ``pulumi stack export``, rewrites every resource of the dynamic type
(``pulumi-python:dynamic/polardb:PrivilegedAccountReset``) as
``polardb-account:index:PrivilegedAccountReset`` with the same name, ID, inputs and outputs
(camelCase; secrets stay encrypted as they are), served by the native provider's default
provider, then ``pulumi stack import``. No API call: nothing is reset, and the password
fingerprint, nonce, reset count and last check are kept, so once the program declares the
same resources with the native SDK (or in YAML, TypeScript, ...), ``pulumi up`` has
nothing to do. Dynamic provider instances left without a resource are dropped.
Back up first: ``pulumi stack export --file backup.json`` (restore with ``stack import``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping
from typing import Any, Final

from ..core import _convert
from . import _config
from ._schema import TOKEN
from ._server import plugin_version
from ._wire import camel

#: The dynamic resource's type in every existing stack's state (a stored name).
DYNAMIC_TYPE: Final = "pulumi-python:dynamic/polardb:PrivilegedAccountReset"
_DYNAMIC_PROVIDER: Final = "pulumi:providers:pulumi-python"
_NATIVE_PROVIDER: Final = f"pulumi:providers:{_config.PACKAGE}"


def _rename(props: Mapping[str, Any] | None) -> dict[str, Any]:
    # The dynamic provider's own keys (``__provider``) have no place in a native resource.
    values = {k: v for k, v in (props or {}).items() if not k.startswith("__")}
    return _convert.rename(values, "camel")


def _retype(urn: str) -> str:
    head, name = urn.rsplit("::", 1)
    prefix, qualified = head.rsplit("::", 1)
    parents, _, _ = qualified.rpartition("$")
    return f"{prefix}::{parents + '$' if parents else ''}{TOKEN}::{name}"


def migrate(
    deployment: dict[str, Any], stack: str, project: str, version: str
) -> tuple[dict[str, Any], int]:
    """The deployment with its dynamic resets moved to the native provider, and how many moved."""
    resources: list[dict[str, Any]] = list(deployment.get("resources") or [])
    provider_urn = (
        f"urn:pulumi:{stack}::{project}::{_NATIVE_PROVIDER}::default_{version.replace('.', '_')}"
    )
    provider_id = str(uuid.uuid4())
    existing = next((r for r in resources if r.get("urn") == provider_urn), None)
    if existing is not None:
        provider_id = str(existing["id"])
    moved: list[dict[str, Any]] = []
    for resource in resources:
        if resource.get("type") != DYNAMIC_TYPE:
            continue
        resource["type"] = TOKEN
        resource["urn"] = _retype(str(resource["urn"]))
        resource["inputs"] = _rename(resource.get("inputs"))
        resource["outputs"] = _rename(resource.get("outputs"))
        resource["provider"] = f"{provider_urn}::{provider_id}"
        for key in ("additionalSecretOutputs",):
            if key in resource:
                resource[key] = [camel(k) for k in resource[key]]
        moved.append(resource)
    if moved and existing is None:
        provider = {
            "urn": provider_urn,
            "custom": True,
            "id": provider_id,
            "type": _NATIVE_PROVIDER,
            "inputs": {"version": version},
            "outputs": {"version": version},
        }
        first = resources.index(moved[0])
        resources.insert(first, provider)
    used = {str(r.get("provider", "")).rsplit("::", 1)[0] for r in resources}
    resources = [r for r in resources if r.get("type") != _DYNAMIC_PROVIDER or r["urn"] in used]
    return {**deployment, "resources": resources}, len(moved)


def _pulumi(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["pulumi", *args], input=stdin, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"pulumi {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    """Export, migrate and import the selected stack (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m pulumi_polardb_reset.native.migrate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--stack", help="the stack (default: the selected one)")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the migrated deployment, import nothing"
    )
    args = parser.parse_args(argv)
    stack_args = ["--stack", args.stack] if args.stack else []
    exported = json.loads(_pulumi("stack", "export", *stack_args))
    deployment = exported["deployment"]
    manifest_stack = next(
        (
            r["urn"].split("::")[0].split(":")[2]
            for r in deployment.get("resources") or []
            if r.get("type") == "pulumi:pulumi:Stack"
        ),
        None,
    )
    project = next(
        (
            r["urn"].split("::")[1]
            for r in deployment.get("resources") or []
            if r.get("type") == "pulumi:pulumi:Stack"
        ),
        None,
    )
    if manifest_stack is None or project is None:
        print("the stack has no resources: nothing to migrate", file=sys.stderr)
        return 0
    migrated, count = migrate(deployment, manifest_stack, project, plugin_version())
    if args.dry_run:
        print(json.dumps({**exported, "deployment": migrated}, indent=2))
        return 0
    if count == 0:
        print("no dynamic PrivilegedAccountReset in the stack: nothing to migrate", file=sys.stderr)
        return 0
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump({**exported, "deployment": migrated}, handle)
        handle.flush()
        _pulumi("stack", "import", "--file", handle.name, *stack_args)
    print(
        f"moved {count} PrivilegedAccountReset resource(s) to {TOKEN}; now declare them with the "
        "native provider under the same names and run `pulumi preview` (no change expected)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
