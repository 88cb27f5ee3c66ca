"""The command's side of the Automation API: a stack of a local project, checked and updated.

The check is a refresh preview (``pulumi refresh --preview-only``): the provider reads
every account and checks its privileges over SQL, and nothing is written, neither the
state nor the cloud. Its engine events carry each resource's refreshed outputs (secrets
masked), which :mod:`..core._verdicts` classifies.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import yaml

from ..core import _convert
from ..core import _props as p
from ..core import _verdicts as v
from ..core._errors import AUTH_CODES, WHERE_PATTERN, codes_in
from ._pulumi import Deadline, DeadlineExceeded

if TYPE_CHECKING:
    from pulumi import automation as auto
else:

    class _OnFirstUse:
        """A module imported on first attribute use."""

        def __init__(self, name: str) -> None:
            self._name = name

        def __getattr__(self, attr: str) -> Any:
            return getattr(importlib.import_module(self._name), attr)

    # ``import pulumi`` loads the whole SDK (pulumi.dynamic, policy, ...: see
    # benchmarks/results/startup.md), which --help, --version and usage errors never need.
    auto = _OnFirstUse("pulumi.automation")

#: Resource types whose outputs the command reads: the dynamic resource's and the native
#: plugin's (``polardb-account:index:PrivilegedAccountReset``, outputs in camelCase).
RESOURCE_SUFFIX: Final = "PrivilegedAccountReset"
#: The type of the dynamic resource, for the URN of a target not deployed yet when no
#: deployed sibling shows the type (and parent) the program uses.
DYNAMIC_TYPE: Final = "pulumi-python:dynamic/polardb:PrivilegedAccountReset"
ANSI: Final = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class UsageError(Exception):
    """The command line or the project cannot be used as given (exit status 2)."""


class StackNotFound(UsageError):  # noqa: N818 - a kind of UsageError
    """The stack does not exist in the backend (exit status 6)."""


class PulumiError(Exception):
    """A Pulumi command failed (exit status 1); the message is one line per error."""


@dataclass
class Target:
    """One PrivilegedAccountReset of the stack: its name, URN and what it resets."""

    name: str
    urn: str
    cluster: str
    account: str
    outputs: dict[str, Any]
    deployed: bool = True


@dataclass
class CheckResult:
    """What one refresh preview found, per target name."""

    verdicts: dict[str, v.Verdict]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Errors saying the API refused the command's own credentials (exit status 3).
    refused: list[str] = field(default_factory=list)
    #: Set when the run's deadline stopped the refresh (exit status 9): what did not finish.
    timed_out: str | None = None


@dataclass
class UpResult:
    """What one ``pulumi up`` did, per URN: new reset request IDs and errors."""

    request_ids: dict[str, str] = field(default_factory=dict)
    errors_by_urn: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Errors saying the API refused the command's own credentials (exit status 3).
    refused: list[str] = field(default_factory=list)


def one_line(text: str, limit: int = 500) -> str:
    """Collapse whitespace and colour codes; bound the length."""
    flat = " ".join(ANSI.sub("", text).split()).removeprefix("error: ")
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def project_name(work_dir: Path) -> str:
    """The project's name from ``Pulumi.yaml`` (also its config namespace)."""
    path = work_dir / "Pulumi.yaml"
    if not path.is_file():
        raise UsageError(f"{path} does not exist: pass the project directory with --cwd DIR")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not valid YAML: {one_line(str(exc))}") from None
    if not isinstance(data, dict) or not data.get("name"):
        raise UsageError(f"{path} has no project name")
    return str(data["name"])


def command_errors(exc: auto.CommandError) -> list[str]:
    """The ``error:`` lines of a failed CLI command (never its tracebacks)."""
    text = ANSI.sub("", str(exc))
    stderr = text.rsplit("\n stderr: ", 1)[-1]
    found = [one_line(line) for line in stderr.splitlines() if line.strip().startswith("error:")]
    if found:
        return found
    lines = [line for line in stderr.splitlines() if line.strip()]
    return [one_line(lines[0]) if lines else "the pulumi CLI failed"]


def open_stack(
    work_dir: Path, stack_name: str, command: auto.PulumiCommand, *, create: bool = False
) -> auto.Stack:
    """Select the stack of the project in ``work_dir`` (a local program), run by ``command``.

    ``create``: create it when it does not exist (a new shard's stack in a CI matrix).
    """
    project_name(work_dir)
    options = auto.LocalWorkspaceOptions(work_dir=str(work_dir), pulumi_command=command)
    try:
        if create:
            return auto.create_or_select_stack(stack_name, work_dir=str(work_dir), opts=options)
        return auto.select_stack(stack_name, work_dir=str(work_dir), opts=options)
    except auto.StackNotFoundError as exc:
        reason = "; ".join(command_errors(exc))
        raise StackNotFound(f"cannot select stack {stack_name!r}: {reason}") from None
    except auto.CommandError as exc:
        reason = "; ".join(command_errors(exc))
        raise UsageError(f"cannot select stack {stack_name!r}: {reason}") from None


def targets_in_state(stack: auto.Stack) -> dict[str, Target]:
    """Every PrivilegedAccountReset in the stack's state, by resource name."""
    try:
        deployment = stack.export_stack().deployment or {}
    except auto.CommandError as exc:
        raise PulumiError("; ".join(command_errors(exc))) from None
    found: dict[str, Target] = {}
    for resource in deployment.get("resources") or []:
        if not str(resource.get("type", "")).endswith(RESOURCE_SUFFIX) or resource.get("delete"):
            continue
        urn = str(resource.get("urn", ""))
        outputs = _snake(resource.get("outputs"))
        cluster, account = outputs.get(p.DB_CLUSTER_ID), outputs.get(p.ACCOUNT_NAME)
        from_id = p.parse_resource_id(str(resource.get("id", "")))
        if (not cluster or not account) and from_id is not None:
            cluster, account = from_id
        name = name_of(urn)
        found[name] = Target(name, urn, str(cluster or ""), str(account or ""), outputs)
    return found


def _snake(outputs: Mapping[str, Any] | None) -> dict[str, Any]:
    """A resource's outputs under the field table's snake_case names, whichever engine wrote
    them (the native plugin's are camelCase)."""
    return _convert.rename(dict(outputs or {}), "snake")


class _Events:
    """Collects a refresh's or an update's engine events: outputs, errors and warnings."""

    def __init__(
        self,
        on_resource: Callable[[str], None] | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.outputs: dict[str, dict[str, Any] | None] = {}
        self.deadline = deadline
        self.errors_by_urn: dict[str, list[str]] = {}
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.refused: list[str] = []
        self.on_resource = on_resource

    def __call__(self, event: auto.EngineEvent) -> None:
        done = event.res_outputs_event
        if done is not None and done.metadata.type.endswith(RESOURCE_SUFFIX):
            meta = done.metadata
            new = meta.new
            if meta.op == auto.OpType.DELETE or new is None:
                self.outputs[meta.urn] = None
            else:
                self.outputs[meta.urn] = _snake(new.outputs)
            if self.on_resource is not None:
                self.on_resource(meta.urn)
        failed = event.res_op_failed_event
        if failed is not None and self.on_resource is not None:
            self.on_resource(failed.metadata.urn)
        diag = event.diagnostic_event
        if diag is None or diag.severity not in ("error", "warning"):
            return
        if diag.severity == "error" and self.deadline is not None and self.deadline.stopping:
            # What pulumi says while the deadline stops it ("the client connection is
            # closing") is about the stop, not the targets: the timeout says it.
            return
        text = one_line(diag.message)
        if not text:
            return
        if diag.severity == "warning":
            if text not in self.warnings:
                self.warnings.append(text)
            return
        if codes_in(diag.message) & AUTH_CODES and text not in self.refused:
            self.refused.append(text)
        if diag.urn:
            self.errors_by_urn.setdefault(diag.urn, []).append(text)
        elif not _is_echo(text) and text not in self.errors:
            self.errors.append(text)


def _is_echo(message: str) -> bool:
    """Whether an untargeted error only repeats a resource failure reported on its own."""
    return "failed to register" in message or message.startswith(
        ("update failed", "refresh failed", "preview failed")
    )


def account_named(warning: str) -> tuple[str, str] | None:
    """The (account, cluster) a provider warning is about, from its wording; None if none."""
    who = WHERE_PATTERN.search(warning)
    return None if who is None else (who[1], who[2])


def check(
    stack: auto.Stack,
    targets: Mapping[str, Target],
    *,
    on_resource: Callable[[str], None] | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    deadline: Deadline | None = None,
) -> CheckResult:
    """Refresh preview of ``targets``; classify each. Writes nothing.

    A target whose read failed, or that the refresh did not reach because it failed, is
    ``unknown`` with the error; a failed refresh is also in :attr:`CheckResult.errors`.
    """
    deployed = [t.urn for t in targets.values() if t.deployed]
    events = _Events(on_resource, deadline)
    failure: list[str] = []
    timed_out: DeadlineExceeded | None = None
    try:
        if deployed:
            stack.preview_refresh(
                target=deployed,
                on_event=events,
                show_secrets=False,
                color="never",
                suppress_progress=True,
            )
    except auto.CommandError as exc:
        failure = command_errors(exc)
    except DeadlineExceeded as exc:
        timed_out = exc
    verdicts: dict[str, v.Verdict] = {}
    for name, target in targets.items():
        if not target.deployed:
            verdicts[name] = v.not_deployed()
        elif target.urn in events.errors_by_urn:
            verdicts[name] = v.unknown(" ".join(events.errors_by_urn[target.urn]))
        elif timed_out is not None and target.urn not in events.outputs:
            verdicts[name] = v.unknown(f"no answer within the check's {timed_out.seconds:g} s")
        elif target.urn not in events.outputs:
            reason = "; ".join(events.errors or failure) or "the refresh did not read it"
            verdicts[name] = v.unknown(f"refresh failed: {reason}")
        else:
            verdicts[name] = v.classify(events.outputs[target.urn], now=now())
    errors = list(events.errors)
    if failure and not errors and not events.errors_by_urn:
        errors = [f"pulumi refresh failed: {line}" for line in failure]
    stopped = None if timed_out is None else str(timed_out)
    return CheckResult(verdicts, events.warnings, errors, events.refused, stopped)


def up(
    stack: auto.Stack,
    before: Mapping[str, Target],
    targets: Mapping[str, Target] | None,
    *,
    on_resource: Callable[[str], None] | None = None,
) -> UpResult:
    """``pulumi up --refresh``: of exactly ``targets``, or of the whole program (None).

    ``before`` is the state's targets before the update: a reset is a request ID that
    differs from the one recorded there.
    """
    events = _Events(on_resource)
    failure: list[str] = []
    try:
        stack.up(
            target=None if targets is None else [t.urn for t in targets.values()],
            refresh=True,
            continue_on_error=True,
            on_event=events,
            color="never",
            suppress_progress=True,
            suppress_outputs=True,
        )
    except auto.CommandError as exc:
        failure = command_errors(exc)
    previous = {t.urn: t.outputs.get(p.LAST_RESET_REQUEST_ID) for t in before.values()}
    request_ids = {
        urn: str(outputs[p.LAST_RESET_REQUEST_ID])
        for urn, outputs in events.outputs.items()
        if outputs
        and outputs.get(p.LAST_RESET_REQUEST_ID)
        and outputs.get(p.LAST_RESET_REQUEST_ID) != previous.get(urn)
    }
    errors_by_urn = {urn: " ".join(found) for urn, found in events.errors_by_urn.items()}
    errors = list(events.errors)
    if failure and not errors and not errors_by_urn:
        errors = [f"pulumi up failed: {line}" for line in failure]
    return UpResult(request_ids, errors_by_urn, errors, events.warnings, events.refused)


def configured_targets(stack: auto.Stack, namespace: str) -> list[dict[str, Any]]:
    """Entries of the ``<namespace>:targets`` config (stack or project level); [] when unset.

    Checked by the program's own reader (``dynamic._targets.parse_targets``), so that the
    command and ``resets_from_config`` never disagree on what a target is: an entry the
    program would refuse is a usage error here.
    """
    # Imported here: the dynamic resource's module loads pulumi (see cli/_engine.py's auto).
    from ..dynamic._targets import TargetConfigError, parse_targets

    key = f"{namespace}:targets"
    value = stack.get_all_config().get(key)
    if value is None:
        return []
    try:
        entries = json.loads(value.value)
        parse_targets(entries, key)
    except json.JSONDecodeError:
        raise UsageError(f"config {key} must be a list of targets") from None
    except TargetConfigError as exc:
        raise UsageError(f"config {exc}") from None
    return list(entries)


def planned_targets(
    stack: auto.Stack, namespace: str, deployed: Mapping[str, Target]
) -> dict[str, Target]:
    """Targets of the ``<namespace>:targets`` config that are not in the state yet.

    Their URN is a deployed sibling's with the name replaced (same type and parent, as
    ``resets_from_config`` declares them all alike), else the dynamic resource's at the
    stack's root.
    """
    sibling = next(iter(deployed.values()), None)
    if sibling is not None:
        prefix = sibling.urn.rsplit("::", 1)[0]
    else:
        prefix = f"urn:pulumi:{stack.name}::{namespace}::{DYNAMIC_TYPE}"
    return {
        str(entry["name"]): Target(
            name=str(entry["name"]),
            urn=f"{prefix}::{entry['name']}",
            cluster=str(entry.get("dbClusterId") or ""),
            account=str(entry.get("accountName") or ""),
            outputs={},
            deployed=False,
        )
        for entry in configured_targets(stack, namespace)
        if entry["name"] not in deployed
    }


def name_of(urn: str) -> str:
    """The resource name at the end of a URN."""
    return urn.rsplit("::", 1)[-1]
