"""``polardb-reset``: detect and remediate privileged-account drift of a Pulumi stack.

Exit status, like ``terraform plan -detailed-exitcode``:

* ``detect``: 0 no drift, 3 drift found, 1 the check itself failed (a target the check
  could not tell about, the API or SQL unreachable, a Pulumi error), 2 usage or
  configuration error;
* ``remediate``: 0 every target healthy afterwards, 1 otherwise, 2 usage or
  configuration error.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import click
from pulumi import automation as auto
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from .._version import __version__
from ..core import _verdicts as v
from ..core._placement import PlacementError, in_shard, parse_shard
from . import _engine as e
from . import _notify as n
from . import _report as r


@dataclass
class Options:
    """What every subcommand takes: the stack, the shard and where reports go."""

    stack: str
    cwd: str
    shard: str | None
    json: bool
    junit_xml: str | None
    markdown: str | None
    notify: tuple[str, ...]
    notify_format: n.Kind
    dingtalk_secret_env: str
    pulumi_bin: str | None


def _shard(value: str | None) -> tuple[int, int] | None:
    try:
        return parse_shard(value, "--shard")
    except PlacementError as exc:
        raise click.BadParameter(str(exc).removeprefix("--shard "), param_hint="--shard") from None


def common(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options every subcommand shares."""
    decorators = [
        click.option("--stack", "-s", required=True, help="Stack name, e.g. prod."),
        click.option(
            "--cwd",
            default=".",
            show_default=True,
            type=click.Path(file_okay=False),
            help="The Pulumi project directory (holds Pulumi.yaml).",
        ),
        click.option(
            "--shard",
            metavar="I/N",
            help="Only the targets of shard I of N (counted from 0), by shard_of(name, N).",
        ),
        click.option("--json", "json_", is_flag=True, help="Print the report as JSON on stdout."),
        click.option(
            "--junit-xml", type=click.Path(dir_okay=False), help="Write a JUnit XML report."
        ),
        click.option(
            "--markdown", type=click.Path(dir_okay=False), help="Write a Markdown report."
        ),
        click.option(
            "--notify",
            multiple=True,
            metavar="URL",
            help="Post to this webhook when drift is found or remediation fails (repeatable).",
        ),
        click.option(
            "--notify-format",
            type=click.Choice(n.KINDS),
            default="auto",
            show_default=True,
            help="Message format: auto picks slack for hooks.slack.com, dingtalk for "
            "oapi.dingtalk.com, else generic JSON.",
        ),
        click.option(
            "--dingtalk-secret-env",
            default=n.DINGTALK_SECRET_ENV,
            show_default=True,
            metavar="VAR",
            help="Environment variable holding the DingTalk robot's signing secret (if any).",
        ),
        click.option(
            "--pulumi-bin",
            type=click.Path(file_okay=False, exists=True),
            help="Directory of the pulumi CLI (default: found on PATH).",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _options(**kwargs: Any) -> Options:
    return Options(
        stack=kwargs["stack"],
        cwd=kwargs["cwd"],
        shard=kwargs["shard"],
        json=kwargs["json_"],
        junit_xml=kwargs["junit_xml"],
        markdown=kwargs["markdown"],
        notify=tuple(kwargs["notify"]),
        notify_format=kwargs["notify_format"],
        dingtalk_secret_env=kwargs["dingtalk_secret_env"],
        pulumi_bin=kwargs["pulumi_bin"],
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="polardb-reset")
def cli() -> None:
    """Detect and remediate drift of PolarDB privileged accounts managed by a Pulumi stack.

    Works on the stack's PrivilegedAccountReset resources through the Pulumi Automation
    API, in the project directory (--cwd).
    """


@cli.command()
@common
def detect(**kwargs: Any) -> None:
    """Check every target without writing anything (a refresh preview).

    Exit 0 no drift, 3 drift found, 1 the check failed, 2 usage or configuration error.
    """
    options = _options(**kwargs)
    shard = _shard(options.shard)
    started = time.monotonic()
    with _failures(options, "detect") as out:
        stack = _open(options)
        targets = _select(e.targets_in_state(stack), shard, options.stack)
        with _progress(out, len(targets), "checking") as advance:
            result = e.check(stack, targets, on_resource=advance)
        reports = [
            r.TargetReport.of(t.name, t.account, t.cluster, result.verdicts[t.name])
            for t in targets.values()
        ]
        status = v.worst([result.verdicts[name].status for name in targets])
        if status == v.UNKNOWN or result.errors:
            code = r.EXIT_FAILED
        else:
            code = r.EXIT_DRIFT if status == v.DRIFT else r.EXIT_OK
        report = r.RunReport(
            command="detect",
            stack=options.stack,
            shard=options.shard and _shard_text(shard),
            exit_code=code,
            targets=reports,
            errors=result.errors,
            warnings=_other_warnings(result.warnings, reports),
            duration_seconds=time.monotonic() - started,
        )
        _emit(report, options, out)
    sys.exit(report.exit_code)


@cli.command()
@common
@click.option(
    "--only-drifted/--all",
    default=True,
    show_default=True,
    help="Reset only the targets the check finds drifted, or every target (by setting "
    "<project>:nonces.<target> to the run ID; the program must pass them to "
    "resets_from_config(nonce_overrides=...), as examples/drift-remediation does).",
)
@click.option(
    "--run-id",
    help="The nonce of --all (default: $GITHUB_RUN_ID, else $CI_PIPELINE_ID, else the time).",
)
def remediate(only_drifted: bool, run_id: str | None, **kwargs: Any) -> None:
    """Reset drifted targets with `pulumi up --refresh`, then check again.

    Exit 0 when every target is healthy afterwards, 1 otherwise, 2 usage or configuration
    error.
    """
    options = _options(**kwargs)
    shard = _shard(options.shard)
    started = time.monotonic()
    with _failures(options, "remediate") as out:
        work_dir = Path(options.cwd).resolve()
        namespace = e.project_name(work_dir)
        stack = _open(options)
        targets = _select(e.targets_in_state(stack), shard, options.stack)
        with _progress(out, len(targets), "checking") as advance:
            first = e.check(stack, targets, on_resource=advance)
        chosen = {
            name: t
            for name, t in targets.items()
            if not only_drifted or first.verdicts[name].status == v.DRIFT
        }
        if shard is not None:
            # The program then declares only this shard's targets (resets_from_config).
            stack.set_config(f"{namespace}:shard", auto.ConfigValue(f"{shard[0]}/{shard[1]}"))
        if not only_drifted:
            nonce = run_id or _default_run_id()
            for name in chosen:
                stack.set_config(f"{namespace}:nonces.{name}", auto.ConfigValue(nonce), path=True)
        done = e.UpResult({}, {}, [], [])
        if chosen:
            with _progress(out, len(chosen), "resetting") as advance:
                done = e.up(stack, chosen, on_resource=advance)
        after_state = e.targets_in_state(stack)
        again = {name: after_state[name] for name in targets if name in after_state}
        with _progress(out, len(again), "checking again") as advance:
            second = e.check(stack, again, on_resource=advance)
        reports = []
        for name, target in targets.items():
            verdict = second.verdicts.get(name, v.gone())
            report_of = r.TargetReport.of(name, target.account, target.cluster, verdict)
            report_of.before = first.verdicts[name].text
            if name in done.errors_by_name:
                report_of.action, report_of.error = "failed", done.errors_by_name[name]
            elif name in done.reset_request_ids:
                report_of.action = "reset"
                report_of.request_id = done.reset_request_ids[name]
            elif name in chosen:
                report_of.action, report_of.error = "failed", "not reset"
            else:
                report_of.action = "unchanged"
            reports.append(report_of)
        errors = [*first.errors, *done.errors, *second.errors]
        healthy = all(t.status == v.OK for t in reports) and not errors
        healthy = healthy and not any(t.action == "failed" for t in reports)
        warnings = list(dict.fromkeys([*first.warnings, *done.warnings, *second.warnings]))
        report = r.RunReport(
            command="remediate",
            stack=options.stack,
            shard=options.shard and _shard_text(shard),
            exit_code=r.EXIT_OK if healthy else r.EXIT_FAILED,
            targets=reports,
            errors=errors,
            warnings=_other_warnings(second.warnings if healthy else warnings, reports),
            duration_seconds=time.monotonic() - started,
        )
        _emit(report, options, out)
    sys.exit(report.exit_code)


def _default_run_id() -> str:
    for variable in ("GITHUB_RUN_ID", "CI_PIPELINE_ID"):
        if os.environ.get(variable):
            return os.environ[variable]
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _shard_text(shard: tuple[int, int] | None) -> str | None:
    return None if shard is None else f"{shard[0]}/{shard[1]}"


def _open(options: Options) -> auto.Stack:
    root = str(Path(options.pulumi_bin).resolve().parent) if options.pulumi_bin else None
    return e.open_stack(Path(options.cwd).resolve(), options.stack, root)


def _select(
    found: dict[str, e.Target], shard: tuple[int, int] | None, stack: str
) -> dict[str, e.Target]:
    if not found:
        raise e.UsageError(
            f"stack {stack!r} has no PrivilegedAccountReset in its state: run `pulumi up` "
            "first, or check --stack and --cwd"
        )
    return {name: t for name, t in found.items() if in_shard(name, shard)}


def _other_warnings(warnings: list[str], reports: list[r.TargetReport]) -> list[str]:
    """Warnings not already said by a target's verdict (drift and not-checked causes)."""
    said = [t for t in reports if t.status != v.OK]
    return [
        w
        for w in warnings
        if not any(f"account '{t.account}' on PolarDB cluster '{t.cluster}'" in w for t in said)
    ]


@contextmanager
def _failures(options: Options, command: str) -> Iterator[TextIO]:
    """Yield the stream for report lines; turn expected failures into one line and a status."""
    out = sys.stderr if options.json else sys.stdout
    try:
        yield out
    except e.UsageError as exc:
        _fail(options, command, r.EXIT_USAGE, str(exc))
    except e.PulumiError as exc:
        _fail(options, command, r.EXIT_FAILED, f"the pulumi CLI failed: {exc}")
    except auto.CommandError as exc:  # backend unreachable, wrong passphrase, ...
        _fail(options, command, r.EXIT_FAILED, "; ".join(e.command_errors(exc)))


def _fail(options: Options, command: str, code: int, message: str) -> None:
    click.echo(f"error: {message}", err=True)
    report = r.RunReport(command, options.stack, options.shard, code, [], errors=[message])
    if options.json:
        click.echo(r.to_json(report))
    _write_files(report, options)
    _notify(report, options)
    sys.exit(code)


@contextmanager
def _progress(out: TextIO, total: int, what: str) -> Iterator[Callable[[str], None]]:
    """Progress on a terminal (stderr), nothing when it is not one (CI logs)."""
    if not sys.stderr.isatty() or total == 0:
        yield lambda _urn: None
        return
    console = Console(file=sys.stderr)
    columns = (TextColumn(f"{what}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(what, total=total)
        seen: set[str] = set()

        def advance(urn: str) -> None:
            if urn not in seen:
                seen.add(urn)
                progress.update(task, completed=len(seen))

        yield advance


def _emit(report: r.RunReport, options: Options, out: TextIO) -> None:
    """Print the report lines (a table on a terminal), then JSON, files and notifications."""
    if out.isatty():
        console = Console(file=out)
        table = Table(*(["Target", "Account", "Cluster", "Verdict"]), title=None)
        if report.command == "remediate":
            table.add_column("Action")
        style = {v.OK: "green", v.DRIFT: "red", v.UNKNOWN: "yellow"}
        for t in report.targets:
            row = [t.name, t.account, t.cluster, f"[{style[t.status]}]{t.verdict}[/]"]
            if report.command == "remediate":
                row.append(r.lines(_only(report, t))[1].rsplit("  ", 1)[-1])
            table.add_row(*row)
        console.print(table)
        for line in r.lines(report)[len(report.targets) + 1 :]:
            console.print(line, highlight=False, markup=False)
    else:
        for line in r.lines(report):
            out.write(line + "\n")
        out.flush()
    if options.json:
        click.echo(r.to_json(report))
    _write_files(report, options)
    _notify(report, options)


def _only(report: r.RunReport, target: r.TargetReport) -> r.RunReport:
    return r.RunReport(report.command, report.stack, report.shard, report.exit_code, [target])


def _write_files(report: r.RunReport, options: Options) -> None:
    if options.junit_xml:
        Path(options.junit_xml).write_text(r.junit_xml(report), encoding="utf-8")
    if options.markdown:
        Path(options.markdown).write_text(r.markdown(report), encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(r.markdown(report) + "\n")


def _notify(report: r.RunReport, options: Options) -> None:
    if not options.notify or report.exit_code == r.EXIT_OK:
        return
    secret = os.environ.get(options.dingtalk_secret_env) or None
    for url in options.notify:
        warning = n.send(url, report, kind=options.notify_format, dingtalk_secret=secret)
        if warning:
            click.echo(f"warning: {warning}", err=True)


def main() -> None:
    """The console script's entry point."""
    cli(prog_name="polardb-reset")
