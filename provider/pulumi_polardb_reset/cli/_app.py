"""``polardb-reset``: detect and remediate privileged-account drift of a Pulumi stack.

Exit status: Pulumi's codes (``pkg/cmd/pulumi/cmd/exit_codes.go``), decided in
:mod:`._decide`:

* ``detect``: 0 no drift, 7 drift found, 1 the check itself failed (a target the check
  could not tell about, the SQL endpoint unreachable, a Pulumi error), 9 ``--timeout``
  passed;
* ``remediate``: 0 every target healthy afterwards, 4 a reset failed or left drift, 1 a
  target the check could not tell about or a Pulumi error;
* both: 2 usage or configuration error, 3 the API refused the command's own cloud
  credentials, 6 the stack does not exist, 8 cancelled (Ctrl-C, SIGTERM), 255 a bug;
* ``migrate`` (a stack from the dynamic resource to the native provider): 0 done, 2 usage,
  else the failed ``pulumi`` command's own code (6 no such stack, ...) or 1.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from .._version import __version__
from ..core import _time
from ..core import _verdicts as v
from ..core._placement import PlacementError, in_shard, parse_shard, shard_of
from . import _decide as d
from . import _engine as e
from . import _notify as n
from . import _report as r
from ._pulumi import Deadline, DeadlineExceeded, PulumiUnavailable, command

if TYPE_CHECKING:
    from pulumi import automation as auto
else:
    from ._engine import auto  # pulumi.automation, imported on first use


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


def _notify_urls(
    _context: click.Context, _param: click.Parameter, urls: tuple[str, ...]
) -> tuple[str, ...]:
    """The --notify URLs, each one the command can post to (else a usage error, exit 2)."""
    chosen = tuple(url.strip() for url in urls if url.strip())
    for url in chosen:
        problem = n.unusable(url)
        if problem:
            raise click.BadParameter(problem, param_hint="--notify")
    return chosen


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
            envvar="POLARDB_RESET_NOTIFY",
            callback=_notify_urls,
            help="Post to this webhook when drift is found or remediation fails (repeatable; "
            "default: the space-separated URLs of $POLARDB_RESET_NOTIFY).",
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
        notify=kwargs["notify"],
        notify_format=kwargs["notify_format"],
        dingtalk_secret_env=kwargs["dingtalk_secret_env"],
        pulumi_bin=kwargs["pulumi_bin"],
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="polardb-reset")
def cli() -> None:
    """Detect and remediate drift of PolarDB privileged accounts managed by a Pulumi stack.

    Works on the stack's PrivilegedAccountReset resources through the Pulumi Automation
    API, in the project directory (--cwd). `migrate` moves a stack from the dynamic
    resource to the native provider.
    """


#: detect's deadline by default: a read-only check of a stack; raise it for a large fleet.
DEFAULT_CHECK_TIMEOUT_SECONDS: Final = 600


@cli.command()
@common
@click.option(
    "--timeout",
    "timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_CHECK_TIMEOUT_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="Stop the check after this long and exit 9, naming the targets that did not answer.",
)
def detect(timeout: float, **kwargs: Any) -> None:
    """Check every target without writing anything (a refresh preview).

    Exit 0 no drift, 7 drift found, 1 the check failed, 9 --timeout passed; 2 usage or
    configuration error, 3 credentials refused, 6 stack not found, 8 cancelled.
    """
    options = _options(**kwargs)
    shard = _shard(options.shard)
    started = time.monotonic()
    deadline = Deadline(timeout)
    with _failures(options, "detect", stopped_by=deadline) as out:
        stack = _open(options, deadline=deadline, read_only=True)
        _, targets = _scope(stack, options, shard)
        with _progress(out, len(targets), "checking") as advance:
            result = e.check(stack, targets, on_resource=advance, deadline=deadline)
        reports = [
            r.TargetReport.of(t.name, t.account, t.cluster, result.verdicts[t.name])
            for t in targets.values()
        ]
        code = d.detect_status(
            [result.verdicts[name].status for name in targets],
            errors=result.errors,
            refused=bool(result.refused),
            timed_out=result.timed_out is not None,
        )
        errors = list(result.errors)
        if result.timed_out is not None:
            silent = [t.name for t in reports if t.verdict.startswith("unknown: no answer")]
            errors.append(
                f"timeout: {result.timed_out} (--timeout {timeout:g}); no answer for: "
                + (", ".join(silent) or "the refresh")
            )
        report = r.RunReport(
            command="detect",
            stack=options.stack,
            shard=_shard_text(shard),
            exit_code=code,
            targets=reports,
            errors=errors,
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
        namespace = e.project_name(Path(options.cwd).resolve())
        # A new shard's stack is created (a CI matrix grew); otherwise it must exist.
        stack = _open(options, create=shard is not None)
        everything, before = _scope(stack, options, shard)
        with _progress(out, len(before), "checking") as advance:
            first = e.check(stack, before, on_resource=advance)
        if shard is not None:
            # The program then declares only this shard's targets (resets_from_config).
            stack.set_config(f"{namespace}:shard", auto.ConfigValue(f"{shard[0]}/{shard[1]}"))
        declared = e.configured_targets(stack, namespace)
        if only_drifted:
            chosen = {n: t for n, t in before.items() if first.verdicts[n].status == v.DRIFT}
            # Targets the program no longer declares here (removed from targets, or moved to
            # another shard): the targeted update drops them (no API call).
            wanted = {str(t["name"]) for t in declared}
            dropped = {
                n: t
                for n, t in everything.items()
                if declared and (n not in wanted or not in_shard(n, shard))
            }
        else:
            if not declared:
                raise e.UsageError(
                    f"--all sets {namespace}:nonces.<target> for every target of "
                    f"{namespace}:targets, which is not set; use --only-drifted, or declare "
                    "the targets with resets_from_config"
                )
            chosen, dropped = dict(before), {}
            nonce = run_id or _default_run_id()
            for entry in declared:
                if in_shard(str(entry["name"]), shard):
                    key = f"{namespace}:nonces.{entry['name']}"
                    stack.set_config(key, auto.ConfigValue(nonce), path=True)
        done = e.UpResult()
        if chosen or dropped or not only_drifted:
            with _progress(out, len(chosen), "resetting") as advance:
                scope = {**chosen, **dropped} if only_drifted else None
                done = e.up(stack, everything, scope, on_resource=advance)
        after = e.targets_in_state(stack)
        again = {name: t for name, t in after.items() if name in before or name not in everything}
        again = {name: t for name, t in again.items() if in_shard(name, shard)}
        with _progress(out, len(again), "checking again") as advance:
            second = e.check(stack, again, on_resource=advance)
        failed = {e.name_of(urn): error for urn, error in done.errors_by_urn.items()}
        reset = {e.name_of(urn): rid for urn, rid in done.request_ids.items()}
        names = list(before) + [x for x in [*again, *failed] if x not in before]
        names += [x for x in everything if x not in after and x not in names and x not in failed]
        reports = []
        for name in dict.fromkeys(names):
            known = before.get(name) or again.get(name) or everything.get(name)
            moved = shard is not None and not in_shard(name, shard)
            seen = d.Seen(
                name=name,
                account=known.account if known else "",
                cluster=known.cluster if known else "",
                before=first.verdicts.get(name),
                after=second.verdicts.get(name),
                chosen=name in chosen,
                deployed_before=name in everything,
                deployed_after=name in after,
                request_id=reset.get(name),
                error=failed.get(name),
                moved_to=f"{shard_of(name, shard[1])}/{shard[1]}" if shard and moved else None,
            )
            reports.append(d.remediated(seen))
        errors = [*first.errors, *done.errors, *second.errors]
        refused = [*first.refused, *done.refused, *second.refused]
        code = d.remediate_status(reports, errors=errors, refused=bool(refused))
        warnings = list(dict.fromkeys([*first.warnings, *done.warnings, *second.warnings]))
        report = r.RunReport(
            command="remediate",
            stack=options.stack,
            shard=_shard_text(shard),
            exit_code=code,
            targets=reports,
            errors=errors,
            warnings=_other_warnings(second.warnings if code == r.EXIT_OK else warnings, reports),
            duration_seconds=time.monotonic() - started,
        )
        _emit(report, options, out)
    sys.exit(report.exit_code)


@cli.command()
@click.option("--stack", "-s", help="Stack name (default: the selected stack).")
@click.option(
    "--cwd",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The Pulumi project directory (holds Pulumi.yaml).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the migrated state and the config keys it would set; change nothing.",
)
@click.option(
    "--pulumi-bin",
    type=click.Path(file_okay=False, exists=True),
    help="Directory of the pulumi CLI (default: found on PATH).",
)
def migrate(stack: str | None, cwd: str, dry_run: bool, pulumi_bin: str | None) -> None:
    """Move the stack's dynamic PrivilegedAccountReset resources to the native provider.

    Rewrites the state (same names, IDs and values; dependencies kept; no API call) and sets
    the polardb-account:* config from the alicloud:* and polardbReset:* keys (secrets stay
    secret; polardb-account:* keys already set are kept). Exit 0 done, 2 usage error, else
    the failed pulumi command's status (6 no such stack, ...) or 1; on failure the state is
    unchanged.
    """
    from ..native import migrate as m  # the plugin's modules only for this command

    try:
        m.run(stack=stack, cwd=cwd, dry_run=dry_run, pulumi_bin=pulumi_bin)
    except m.MigrationError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(r.EXIT_USAGE if exc.usage else exc.exit_code or r.EXIT_FAILED)
    sys.exit(r.EXIT_OK)


def _default_run_id() -> str:
    for variable in ("GITHUB_RUN_ID", "CI_PIPELINE_ID"):
        if os.environ.get(variable):
            return os.environ[variable]
    return _time.utc_now()


def _shard_text(shard: tuple[int, int] | None) -> str | None:
    return None if shard is None else f"{shard[0]}/{shard[1]}"


def _open(
    options: Options,
    *,
    create: bool = False,
    deadline: Deadline | None = None,
    read_only: bool = False,
) -> auto.Stack:
    work_dir = Path(options.cwd).resolve()
    e.project_name(work_dir)
    try:
        pulumi = command(options.pulumi_bin, deadline, read_only=read_only)
    except PulumiUnavailable as exc:
        raise e.UsageError(str(exc)) from None
    return e.open_stack(work_dir, options.stack, pulumi, create=create)


def _scope(
    stack: auto.Stack, options: Options, shard: tuple[int, int] | None
) -> tuple[dict[str, e.Target], dict[str, e.Target]]:
    """The stack's targets in the state, and those of this run: the shard's, deployed or not."""
    namespace = e.project_name(Path(options.cwd).resolve())
    deployed = e.targets_in_state(stack)
    planned = e.planned_targets(stack, namespace, deployed)
    if not deployed and not planned:
        raise e.UsageError(
            f"stack {options.stack!r} has no PrivilegedAccountReset in its state and no "
            f"{namespace}:targets config: run `pulumi up` first, or check --stack and --cwd"
        )
    # By name: the state's order is the order the last update finished them in.
    chosen = {n: t for n, t in sorted({**deployed, **planned}.items()) if in_shard(n, shard)}
    return deployed, chosen


def _other_warnings(warnings: list[str], reports: list[r.TargetReport]) -> list[str]:
    """Warnings not already said by a target's verdict (drift and not-checked causes)."""
    said = {(t.account, t.cluster) for t in reports if t.status != v.OK}
    return [w for w in warnings if e.account_named(w) not in said]


@contextmanager
def _failures(
    options: Options, command: str, *, stopped_by: Deadline | None = None
) -> Iterator[TextIO]:
    """Yield the stream for report lines; turn failures into one line and Pulumi's status."""
    out = sys.stderr if options.json else sys.stdout
    try:
        yield out
    except e.StackNotFound as exc:
        _fail(options, command, r.EXIT_STACK_NOT_FOUND, str(exc))
    except e.UsageError as exc:
        _fail(options, command, r.EXIT_USAGE, str(exc))
    except e.PulumiError as exc:
        _fail(options, command, r.EXIT_FAILED, f"the pulumi CLI failed: {exc}")
    except auto.CommandError as exc:  # backend unreachable, wrong passphrase, ...
        _fail(options, command, r.EXIT_FAILED, "; ".join(e.command_errors(exc)))
    except DeadlineExceeded as exc:  # before the check: selecting or exporting the stack
        limit = f" (--timeout {stopped_by.seconds:g})" if stopped_by else ""
        _fail(options, command, r.EXIT_TIMEOUT, f"timeout: {exc}{limit}")
    except KeyboardInterrupt:
        _fail(options, command, r.EXIT_CANCELLED, "cancelled (interrupted)")
    except Exception as exc:  # a bug: said in one line, with what to report
        _fail(
            options,
            command,
            r.EXIT_INTERNAL,
            f"internal error ({type(exc).__name__}: {e.one_line(str(exc))}); this is a bug "
            "in polardb-reset, please report it",
        )


def _fail(options: Options, command: str, code: int, message: str) -> None:
    click.echo(f"error: {r.plain(message)}", err=True)
    report = r.RunReport(command, options.stack, options.shard, code, [], errors=[message])
    if options.json:
        click.echo(r.to_json(report))
    _write_files(report, options)
    if code not in (r.EXIT_USAGE, r.EXIT_CANCELLED):
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
            # Text, not markup: a name like "[red]" is shown, never interpreted.
            row = [Text(r.plain(cell)) for cell in (t.name, t.account, t.cluster)]
            row.append(Text(r.plain(t.verdict), style=style[t.status]))
            if report.command == "remediate":
                row.append(Text(r.plain(r.action_text(t))))
            table.add_row(*row)
        console.print(table)
        for line in r.lines(report)[len(report.targets) + 1 :]:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    else:
        for line in r.lines(report):
            out.write(line + "\n")
        out.flush()
    if options.json:
        click.echo(r.to_json(report))
    _write_files(report, options)
    _notify(report, options)


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


def _interrupted(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """The console script's entry point."""
    # A CI's cancel (SIGTERM) is a Ctrl-C: pulumi is stopped as one stops it, exit 8.
    signal.signal(signal.SIGTERM, _interrupted)
    cli(prog_name="polardb-reset")
