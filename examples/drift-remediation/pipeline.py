"""CI entry point: refresh, detect drift, reset all or only the drifted targets, report.

Run from a scheduled CI job (see README.md)::

    python pipeline.py --stack prod --only-drifted            # run ID from $GITHUB_RUN_ID / $CI_PIPELINE_ID
    python pipeline.py --stack dev --run-id manual-42 --json  # JSON report on stdout
    python pipeline.py --stack prod-1 --shard 1/4             # one CI job of four (README.md)

Steps:

1. ``pulumi refresh``: live status, type and lock state of every account, and its
   privileges and password checked over SQL; a target whose account or cluster is gone
   drops out of the state.
2. Drift per target: ``gone`` (dropped by the refresh), ``locked``
   (``account_lock_state == "Lock"``), ``not-super`` (``account_type != "Super"``),
   ``status:<X>`` (``account_status != "Available"``), ``privileges`` (``privileges_ok``
   false; ``missing_privileges`` names them), ``password`` (``password_ok`` false: the
   managed password no longer logs in); ``new`` for a target not deployed yet.
3. Sets ``<project>:nonces.<target>`` to the run ID for every target (or, with
   ``--only-drifted``, every drifted target) in ``Pulumi.<stack>.yaml``.
4. ``pulumi up --continue-on-error``: one ``ResetAccount`` per target whose nonce
   changed. A ``gone`` target is created again, which fails with a clear error
   ("account ... does not exist"): remove it from ``targets`` or restore it.
5. Reports per target: ``reset`` (with the request ID), ``unchanged``,
   ``failed`` (with the error) or ``removed`` (in the state, no longer in config), and the
   engine's warnings (a privilege check that could not tell, for example an unreachable
   SQL endpoint: not drift).

With ``--shard I/N`` the run covers only shard ``I`` of ``N`` (counted from 0) of the targets,
chosen by ``pulumi_polardb_reset.shard_of`` (the stable hash that also places resources on
provider processes): it sets ``<project>:shard`` in the stack's config, which makes the
program declare only those targets, so each CI job of a matrix runs its own stack (one stack
per shard, all in one shared backend). A target that belonged to this stack and now belongs
to another shard (``N`` changed) is ``removed`` here, naming its new shard, and created (so
reset once) by that shard's stack.

Exit status: 0 when every target succeeded, 1 when any failed (or the refresh
failed), 2 on usage or configuration errors. Re-running with the same run ID
retries only what failed: targets already reset keep that nonce and stay as they are.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml
from pulumi import automation as auto

from pulumi_polardb_reset import shard_of

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
RESOURCE_TYPE = "PrivilegedAccountReset"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
SHARD = re.compile(r"^(\d+)/(\d+)$")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class UsageError(Exception):
    """A problem with the command line or the project's configuration (exit status 2)."""


@dataclass
class TargetReport:
    """What the pipeline found and did for one target."""

    name: str
    cluster: str = ""
    account: str = ""
    drift: list[str] = field(default_factory=list)
    missing_privileges: list[str] = field(default_factory=list)
    privileges_ok: bool | None = None
    password_ok: bool | None = None
    selected: bool = False
    result: str = "unchanged"
    request_id: str | None = None
    error: str | None = None
    moved_to: str | None = None  # removed because it belongs to this other shard now

    def detail(self) -> str:
        """One-line detail for the table."""
        if self.result == "reset":
            return f"request {self.request_id}"
        if self.result == "failed":
            return self.error or "failed"
        if self.result == "removed" and self.moved_to:
            return f"belongs to shard {self.moved_to} now; dropped from this stack (no API call)"
        if self.result == "removed":
            return "no longer in targets; dropped from the stack (no API call)"
        return ""

    def drift_cell(self) -> str:
        """The DRIFT column: the reasons, with the missing privileges named."""
        cells = [
            f"privileges({','.join(self.missing_privileges)})"
            if reason == "privileges" and self.missing_privileges
            else reason
            for reason in self.drift
        ]
        return ",".join(cells) or "-"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line (argparse exits with status 2 on bad usage)."""
    parser = argparse.ArgumentParser(
        prog="pipeline.py",
        description="Refresh, detect drift and reset PolarDB privileged accounts (for CI).",
    )
    parser.add_argument("--stack", required=True, help="stack name, e.g. prod")
    parser.add_argument(
        "--run-id",
        default=os.environ.get("GITHUB_RUN_ID") or os.environ.get("CI_PIPELINE_ID"),
        help="nonce for this run (default: $GITHUB_RUN_ID, else $CI_PIPELINE_ID)",
    )
    parser.add_argument(
        "--only-drifted", action="store_true", help="reset only targets with drift (default: all)"
    )
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help="only shard I of N of the targets (counted from 0), for one CI job of N",
    )
    parser.add_argument(
        "--work-dir",
        default=str(Path(__file__).resolve().parent),
        help="project directory holding Pulumi.yaml (default: this script's directory)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON report on stdout (the table on stderr)"
    )
    parser.add_argument(
        "--pulumi-bin",
        default=os.environ.get("PULUMI_BIN"),
        help="directory of the pulumi CLI (default: $PULUMI_BIN, else PATH)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="stream the Pulumi engine output to stderr"
    )
    return parser.parse_args(argv)


def project_name(work_dir: Path) -> str:
    """The project name from ``Pulumi.yaml``, also the config namespace."""
    for required in ("Pulumi.yaml", "__main__.py"):
        if not (work_dir / required).is_file():
            raise UsageError(f"{work_dir / required} does not exist; is --work-dir a project?")
    try:
        data = yaml.safe_load((work_dir / "Pulumi.yaml").read_text())
    except yaml.YAMLError as exc:
        raise UsageError(
            f"{work_dir / 'Pulumi.yaml'} is not valid YAML: {one_line(str(exc))}"
        ) from None
    if not isinstance(data, dict) or not data.get("name"):
        raise UsageError(f"{work_dir / 'Pulumi.yaml'} has no project name")
    return str(data["name"])


def select_stack(work_dir: Path, stack_name: str, pulumi_bin: str | None) -> auto.Stack:
    """Create or select the stack of the project in ``work_dir`` (a local program).

    The CLI runs the project's ``__main__.py`` with its own virtualenv, exactly as
    ``pulumi up`` in that directory does. ``pulumi_bin`` is the directory of the CLI
    (default: found on PATH).
    """
    try:
        if pulumi_bin:
            command = auto.PulumiCommand(root=str(Path(pulumi_bin).resolve().parent))
        else:
            command = auto.PulumiCommand()
    except Exception as exc:  # the Automation API raises bare Exceptions here
        raise UsageError(
            f"the pulumi CLI cannot be used ({one_line(str(exc))}); put it on PATH or pass "
            "--pulumi-bin DIR"
        ) from None
    options = auto.LocalWorkspaceOptions(work_dir=str(work_dir), pulumi_command=command)
    return auto.create_or_select_stack(stack_name, work_dir=str(work_dir), opts=options)


def configured_targets(stack: auto.Stack, namespace: str) -> list[dict[str, Any]]:
    """The ``<namespace>:targets`` list from stack config, checked."""
    key = f"{namespace}:targets"
    value = stack.get_all_config().get(key)
    if value is None:
        raise UsageError(f"stack config {key} is not set (see README.md)")
    try:
        targets = json.loads(value.value)
    except json.JSONDecodeError:
        raise UsageError(f"stack config {key} must be a list of objects") from None
    if not isinstance(targets, list) or not targets:
        raise UsageError(f"stack config {key} must be a non-empty list of objects")
    for index, target in enumerate(targets):
        name = target.get("name") if isinstance(target, dict) else None
        if not isinstance(name, str) or not NAME.match(name):
            raise UsageError(
                f"{key}[{index}].name must be letters, digits, '-' or '_' (got {name!r})"
            )
    return targets


def parse_shard(text: str) -> tuple[int, int]:
    """``I/N`` as ``(I, N)`` with ``0 <= I < N``; raise :class:`UsageError` otherwise."""
    match = SHARD.match(text.strip())
    if match is None or not int(match[1]) < int(match[2]):
        raise UsageError(
            f"--shard must be I/N, shard I of N counted from 0, e.g. 0/4 to 3/4 (got {text!r})"
        )
    return int(match[1]), int(match[2])


def select_shard(
    stack: auto.Stack, namespace: str, requested: tuple[int, int] | None
) -> tuple[int, int] | None:
    """The shard this run covers: ``--shard`` (written to ``<namespace>:shard`` for the
    program), else the one the stack's config already names, else None (every target)."""
    key = f"{namespace}:shard"
    if requested is not None:
        stack.set_config(key, auto.ConfigValue(f"{requested[0]}/{requested[1]}"))
        return requested
    value = stack.get_all_config().get(key)
    return parse_shard(value.value) if value is not None and value.value else None


def in_shard(name: str, shard: tuple[int, int] | None) -> bool:
    """Whether the target ``name`` belongs to ``shard`` (None: every target does)."""
    return shard is None or shard_of(name, shard[1]) == shard[0]


def state_by_name(stack: auto.Stack) -> dict[str, dict[str, Any]]:
    """Outputs of every PrivilegedAccountReset in the stack's state, by resource name."""
    deployment = stack.export_stack().deployment or {}
    found: dict[str, dict[str, Any]] = {}
    for resource in deployment.get("resources") or []:
        if not str(resource.get("type", "")).endswith(RESOURCE_TYPE) or resource.get("delete"):
            continue
        name = str(resource.get("urn", "")).rsplit("::", 1)[-1]
        found[name] = dict(resource.get("outputs") or {})
    return found


def drift_of(outputs: dict[str, Any] | None, deployed_before: bool) -> list[str]:
    """Drift reasons of one target from its refreshed outputs (None: not in the state).

    ``privileges_ok``/``password_ok`` null (not checked, or the check could not tell) is
    not drift.
    """
    if outputs is None:
        return ["gone"] if deployed_before else ["new"]
    reasons = []
    if outputs.get("account_lock_state") == "Lock":
        reasons.append("locked")
    if outputs.get("account_type") != "Super":
        reasons.append("not-super")
    if outputs.get("account_status") != "Available":
        reasons.append(f"status:{outputs.get('account_status')}")
    if outputs.get("privileges_ok") is False:
        reasons.append("privileges")
    if outputs.get("password_ok") is False:
        reasons.append("password")
    return reasons


class ErrorCollector:
    """Collects the engine's error diagnostics per resource name, and its warnings.

    An ``on_event`` callback; ``warnings`` keeps each distinct warning once, in order.
    """

    def __init__(self) -> None:
        """Start with no errors."""
        self.by_name: dict[str, list[str]] = {}
        self.general: list[str] = []
        self.warnings: list[str] = []

    def __call__(self, event: auto.EngineEvent) -> None:
        """Record one engine event when it is an error or warning diagnostic."""
        diag = event.diagnostic_event
        if diag is None or diag.severity not in ("error", "warning"):
            return
        text = ANSI.sub("", diag.message).strip()
        if not text:
            return
        if diag.severity == "warning":
            if one_line(text) not in self.warnings:
                self.warnings.append(one_line(text))
            return
        if diag.urn:
            self.by_name.setdefault(diag.urn.rsplit("::", 1)[-1], []).append(text)
        else:
            self.general.append(text)


def one_line(text: str, limit: int = 400) -> str:
    """Collapse whitespace; keep the message short enough for a table cell."""
    flat = " ".join(ANSI.sub("", text).split())
    flat = flat.removeprefix("error: ")
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def first_line(text: str) -> str:
    """The first non-empty line of a message (drops any traceback that follows it)."""
    lines = [line for line in ANSI.sub("", text).strip().splitlines() if line.strip()]
    return one_line(lines[0]) if lines else ""


def is_consequence(message: str) -> bool:
    """Whether an untargeted error only echoes a resource failure reported on its own."""
    return "failed to register" in message or message.startswith(
        ("update failed", "refresh failed", "preview failed")
    )


def command_error_lines(exc: auto.CommandError) -> list[str]:
    """The ``error:`` lines of a failed CLI command's stderr, without tracebacks."""
    text = ANSI.sub("", str(exc))
    stderr = text.rsplit("\n stderr: ", 1)[-1]
    found = [one_line(line) for line in stderr.splitlines() if line.strip().startswith("error:")]
    return found or [first_line(stderr) or "the pulumi CLI failed"]


def run(
    args: argparse.Namespace, log: TextIO, events: ErrorCollector | None = None
) -> tuple[int, list[TargetReport], list[str]]:
    """Do the whole pipeline; return the exit status, per-target reports and general errors.

    ``events`` collects the engine's errors and warnings of the refresh and the update.
    """
    if not args.run_id:
        raise UsageError(
            "no run ID: pass --run-id, or run in GitHub Actions ($GITHUB_RUN_ID) "
            "or GitLab CI ($CI_PIPELINE_ID)"
        )
    requested = parse_shard(args.shard) if args.shard is not None else None
    work_dir = Path(args.work_dir).resolve()
    namespace = project_name(work_dir)

    def out(line: str) -> None:
        if args.verbose:
            log.write(line if line.endswith("\n") else line + "\n")

    try:
        stack = select_stack(work_dir, args.stack, args.pulumi_bin)
    except auto.CommandError as exc:
        reason = "; ".join(command_error_lines(exc))
        raise UsageError(f"cannot select stack {args.stack!r}: {reason}") from None
    fleet = configured_targets(stack, namespace)
    shard = select_shard(stack, namespace, requested)
    # The report names the shard the run covered, also when the stack's config chose it.
    args.shard = f"{shard[0]}/{shard[1]}" if shard is not None else None
    targets = [t for t in fleet if in_shard(t["name"], shard)]
    reports = {
        t["name"]: TargetReport(
            name=t["name"],
            cluster=str(t.get("dbClusterId", "")),
            account=str(t.get("accountName", "")),
        )
        for t in targets
    }

    errors = events if events is not None else ErrorCollector()
    before = state_by_name(stack)
    log.write(f"refreshing stack {args.stack} ({len(before)} resource(s) in state)...\n")
    try:
        stack.refresh(on_output=out, on_event=errors, color="never")
    except auto.CommandError as exc:
        for report in reports.values():
            report.result, report.error = "failed", "refresh failed; nothing was reset"
        return (
            EXIT_FAILED,
            list(reports.values()),
            [f"pulumi refresh failed: {line}" for line in command_error_lines(exc)],
        )
    refreshed = state_by_name(stack)

    for name, report in reports.items():
        outputs = refreshed.get(name) or {}
        report.drift = drift_of(refreshed.get(name), name in before)
        report.missing_privileges = list(outputs.get("missing_privileges") or [])
        report.privileges_ok = outputs.get("privileges_ok")
        report.password_ok = outputs.get("password_ok")
        report.selected = bool(report.drift) or not args.only_drifted
        if report.selected:
            stack.set_config(f"{namespace}:nonces.{name}", auto.ConfigValue(args.run_id), path=True)
    selected = [r.name for r in reports.values() if r.selected]
    log.write(f"resetting {', '.join(selected) or 'nothing'} (nonce {args.run_id})...\n")

    up_failure: auto.CommandError | None = None
    try:
        stack.up(on_output=out, on_event=errors, color="never", continue_on_error=True)
    except auto.CommandError as exc:
        up_failure = exc
    after = state_by_name(stack)

    for name, report in reports.items():
        previous = (refreshed.get(name) or {}).get("last_reset_request_id")
        now = (after.get(name) or {}).get("last_reset_request_id")
        if name in errors.by_name:
            report.result, report.error = "failed", one_line(" ".join(errors.by_name[name]))
            if "gone" in report.drift:
                report.error = (
                    "gone: the refresh dropped it (account or cluster deleted); restore it or "
                    f"remove it from targets. Re-creating it failed: {report.error}"
                )
        elif now and now != previous:
            report.result, report.request_id = "reset", str(now)
        elif report.selected and (after.get(name) or {}).get("reset_nonce") != args.run_id:
            report.result = "failed"
            report.error = "not reset; see the errors below" if up_failure else "not reset"
    elsewhere = {t["name"] for t in fleet} - set(reports)
    extra = [
        TargetReport(
            name=name,
            cluster=str(o.get("db_cluster_id")),
            result="removed",
            moved_to=f"{shard_of(name, shard[1])}/{shard[1]}"
            if shard is not None and name in elsewhere
            else None,
        )
        for name, o in refreshed.items()
        if name not in reports and name not in after
    ]
    all_reports = list(reports.values()) + extra
    # Untargeted errors, minus those that only echo a target's failure reported above.
    general = [m for m in map(first_line, errors.general) if m and not is_consequence(m)]
    if up_failure is not None and not general and not errors.by_name:
        general = [f"pulumi up failed: {line}" for line in command_error_lines(up_failure)]
    failed = any(r.result == "failed" for r in all_reports) or bool(general)
    return (EXIT_FAILED if failed else EXIT_OK), all_reports, general


def table(reports: list[TargetReport]) -> str:
    """The per-target report as an aligned text table."""
    rows = [("TARGET", "CLUSTER", "ACCOUNT", "DRIFT", "RESULT", "DETAIL")]
    rows += [(r.name, r.cluster, r.account, r.drift_cell(), r.result, r.detail()) for r in reports]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5]
        for row in rows
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 ok, 1 a target failed, 2 usage)."""
    args = parse_args(argv)
    report_stream = sys.stderr if args.json else sys.stdout
    events = ErrorCollector()
    try:
        code, reports, general = run(args, sys.stderr, events)
    except auto.CommandError as exc:  # backend unreachable, wrong passphrase, ...
        message = "the pulumi CLI failed: " + "; ".join(command_error_lines(exc))
        sys.stderr.write(f"error: {message}\n")
        if args.json:
            sys.stdout.write(json.dumps({"exit_code": EXIT_USAGE, "error": message}) + "\n")
        return EXIT_USAGE
    except UsageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        if args.json:
            sys.stdout.write(json.dumps({"exit_code": EXIT_USAGE, "error": str(exc)}) + "\n")
        return EXIT_USAGE
    report_stream.write(table(reports) + "\n")
    for message in events.warnings:
        report_stream.write(f"warning: {message}\n")
    for message in general:
        report_stream.write(f"error: {message}\n")
    if args.json:
        document = {
            "stack": args.stack,
            "run_id": args.run_id,
            "only_drifted": args.only_drifted,
            "shard": args.shard,
            "exit_code": code,
            "targets": [asdict(r) for r in reports],
            "errors": general,
            "warnings": events.warnings,
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
