"""Run a Pulumi project with the real Pulumi CLI through the Automation API.

The project's ``__main__.py`` runs as an *inline program*: the Python SDK
serves the language runtime itself, so only the ``pulumi`` CLI (and the
``pulumi-resource-pulumi-python`` shim beside it) must be installed, not the
``pulumi-language-python`` host. The project's ``Pulumi.yaml`` and
``Pulumi.<stack>.yaml`` are used as they are, so the same directory also works
with a plain ``pulumi up``.

Command line::

    python -m pulumi_polardb_reset.automation --cwd DIR --stack dev up
    python -m pulumi_polardb_reset.automation --cwd DIR --stack dev preview|refresh|destroy|outputs
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pulumi import automation as auto


def _program(work_dir: Path) -> Callable[[], None]:
    main = work_dir / "__main__.py"
    if not main.is_file():
        raise SystemExit(f"error: {main} does not exist; the project needs a __main__.py program")

    def run() -> None:
        runpy.run_path(str(main), run_name="__main__")

    return run


def project_stack(
    work_dir: str | os.PathLike[str],
    stack: str,
    *,
    env: Mapping[str, str] | None = None,
    pulumi_bin: str | None = None,
) -> auto.Stack:
    """Create or select ``stack`` of the project in ``work_dir``, with its ``__main__.py`` inline.

    ``pulumi_bin`` is the directory holding the ``pulumi`` CLI (default: found on PATH).
    Backend and passphrase come from the usual ``PULUMI_*`` variables in ``env`` or the
    process environment.
    """
    path = Path(work_dir).resolve()
    bin_dir = Path(pulumi_bin) if pulumi_bin else _find_cli()
    given = dict(env or {})
    base = {**os.environ, **given}
    # The CLI starts the dynamic provider through the pulumi-resource-pulumi-python
    # shim beside it; that process must run this interpreter, where this package
    # is installed (the shim uses PULUMI_RUNTIME_VIRTUALENV, else PULUMI_PYTHON_CMD).
    runtime: dict[str, str] = {"PULUMI_PYTHON_CMD": sys.executable}
    if sys.prefix != sys.base_prefix:
        runtime["PULUMI_RUNTIME_VIRTUALENV"] = sys.prefix
    defaults = {
        **runtime,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }
    env_vars = {k: base.get(k, v) for k, v in defaults.items()}
    env_vars.update(given)
    env_vars["PATH"] = os.pathsep.join([str(bin_dir), base.get("PATH", "")])
    opts = auto.LocalWorkspaceOptions(
        work_dir=str(path),
        env_vars=env_vars,
        pulumi_command=auto.PulumiCommand(root=str(bin_dir.parent)),
    )
    name = _project_name(path)
    return auto.create_or_select_stack(
        stack_name=stack, project_name=name, program=_program(path), opts=opts
    )


def _project_name(path: Path) -> str:
    import yaml

    data = yaml.safe_load((path / "Pulumi.yaml").read_text())
    return str(data["name"])


def _find_cli() -> Path:
    found = shutil.which("pulumi")
    if not found:
        raise SystemExit(
            "error: the pulumi CLI is not on PATH; run scripts/install-pulumi and put the "
            "directory it prints on PATH, or pass --pulumi-bin"
        )
    return Path(found).parent


def _print(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m pulumi_polardb_reset.automation")
    parser.add_argument("command", choices=["preview", "up", "refresh", "destroy", "outputs"])
    parser.add_argument("--cwd", default=".", help="project directory (holds Pulumi.yaml)")
    parser.add_argument("--stack", required=True, help="stack name, e.g. dev")
    parser.add_argument("--pulumi-bin", help="directory of the pulumi CLI (default: PATH)")
    args = parser.parse_args(argv)
    stack = project_stack(args.cwd, args.stack, pulumi_bin=args.pulumi_bin)
    try:
        result: Any
        if args.command == "preview":
            result = stack.preview(on_output=_print)
            _print(json.dumps({"change_summary": result.change_summary}))
        elif args.command == "up":
            result = stack.up(on_output=_print)
            _print(json.dumps({"resource_changes": result.summary.resource_changes}))
        elif args.command == "refresh":
            result = stack.refresh(on_output=_print)
            _print(json.dumps({"resource_changes": result.summary.resource_changes}))
        elif args.command == "destroy":
            result = stack.destroy(on_output=_print)
            _print(json.dumps({"resource_changes": result.summary.resource_changes}))
        outputs = {k: ("[secret]" if v.secret else v.value) for k, v in stack.outputs().items()}
        _print(json.dumps({"outputs": outputs}, indent=2, sort_keys=True))
    except auto.CommandError as exc:
        sys.stderr.write(f"pulumi {args.command} failed:\n{exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
