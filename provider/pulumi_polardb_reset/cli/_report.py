"""The command's report, one model and its renderings: lines, JSON, JUnit XML, Markdown.

A report holds names, verdicts, request IDs and the provider's (already scrubbed) error
and warning lines; never an output value of the state, so never a secret.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from ..core import _verdicts as v

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_DRIFT: Final = 3


@dataclass
class TargetReport:
    """One target: what the check found and, for ``remediate``, what was done."""

    name: str
    account: str
    cluster: str
    status: str
    verdict: str
    missing_privileges: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    before: str | None = None  # remediate: the verdict before the update
    action: str | None = None  # remediate: reset, failed, unchanged
    request_id: str | None = None
    error: str | None = None

    @classmethod
    def of(cls, name: str, account: str, cluster: str, verdict: v.Verdict) -> TargetReport:
        """A target's report from its verdict."""
        return cls(
            name=name,
            account=account,
            cluster=cluster,
            status=verdict.status,
            verdict=verdict.text,
            missing_privileges=list(verdict.missing_privileges),
            notes=list(verdict.notes),
        )


@dataclass
class RunReport:
    """Everything one run of ``detect`` or ``remediate`` reports."""

    command: str
    stack: str
    shard: str | None
    exit_code: int
    targets: list[TargetReport]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duration_seconds: float = 0.0

    def count(self, status: str) -> int:
        """How many targets have this final status."""
        return sum(1 for t in self.targets if t.status == status)

    @property
    def headline(self) -> str:
        """One sentence: the stack and what was found (or done)."""
        where = f"stack {self.stack}" + (f" (shard {self.shard})" if self.shard else "")
        total = len(self.targets)
        parts = [f"{self.count(v.OK)} ok"]
        if self.count(v.DRIFT):
            parts.append(f"{self.count(v.DRIFT)} drifted")
        if self.count(v.UNKNOWN):
            parts.append(f"{self.count(v.UNKNOWN)} unknown")
        if self.command == "remediate":
            resets = sum(1 for t in self.targets if t.action == "reset")
            failed = sum(1 for t in self.targets if t.action == "failed")
            parts.append(f"{resets} reset")
            if failed:
                parts.append(f"{failed} failed")
        outcome = {
            EXIT_OK: "healthy",
            EXIT_DRIFT: "drift found",
            EXIT_FAILED: "check failed" if self.command == "detect" else "not healthy",
        }.get(self.exit_code, "error")
        return f"polardb-reset {self.command}: {where}: {outcome}: {total} target(s), " + ", ".join(
            parts
        )


def lines(report: RunReport) -> list[str]:
    """The report as aligned text lines, one per target, then warnings and errors."""
    header = ["TARGET", "ACCOUNT", "CLUSTER", "VERDICT"]
    rows = [[t.name, t.account, t.cluster, t.verdict] for t in report.targets]
    if report.command == "remediate":
        header.append("ACTION")
        rows = [[*row, action_text(t)] for row, t in zip(rows, report.targets, strict=True)]
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    out = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])) + "  " + row[-1]
        for row in table
    ]
    out += [f"warning: {w}" for w in report.warnings]
    out += [f"error: {e}" for e in report.errors]
    out.append(report.headline)
    return out


def action_text(target: TargetReport) -> str:
    """What remediation did to a target, as the ACTION column shows it."""
    if target.action == "reset":
        return f"reset (request {target.request_id})"
    if target.action == "failed":
        return f"failed: {target.error}"
    return target.action or "-"


def to_json(report: RunReport) -> str:
    """The report as a JSON document."""
    document: dict[str, Any] = asdict(report)
    document["summary"] = report.headline
    return json.dumps(document, indent=2)


def junit_xml(report: RunReport) -> str:
    """The report as JUnit XML: one test case per target.

    Drift is a ``failure`` (message: the verdict, naming the missing privileges); a check
    that could not tell is an ``error``; remediation's action goes to ``system-out``. The
    shape (``testsuites`` > ``testsuite`` > ``testcase`` with ``failure``/``error``) is what
    GitHub, GitLab and Jenkins read.
    """
    suite_name = f"polardb-reset {report.command} {report.stack}" + (
        f" shard {report.shard}" if report.shard else ""
    )
    failures = report.count(v.DRIFT)
    errors = report.count(v.UNKNOWN) + (1 if report.errors else 0)
    counts = {
        "tests": str(len(report.targets) + (1 if report.errors else 0)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "0",
        "time": f"{report.duration_seconds:.3f}",
    }
    root = ET.Element("testsuites", {"name": "polardb-reset", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": suite_name, **counts})
    classname = f"polardb-reset.{report.stack}"
    for target in report.targets:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": classname,
                "name": f"{target.name} ({target.account} on {target.cluster})",
                "time": "0",
            },
        )
        message = f"{target.account} on {target.cluster}: {target.verdict}"
        if target.status == v.DRIFT:
            failure = ET.SubElement(case, "failure", {"message": message, "type": "drift"})
            failure.text = _case_text(target)
        elif target.status == v.UNKNOWN:
            error = ET.SubElement(case, "error", {"message": message, "type": "unknown"})
            error.text = _case_text(target)
        if target.action is not None or target.notes:
            out = ET.SubElement(case, "system-out")
            out.text = _case_text(target)
    if report.errors:
        case = ET.SubElement(suite, "testcase", {"classname": classname, "name": "pulumi"})
        error = ET.SubElement(case, "error", {"message": report.errors[0], "type": "pulumi"})
        error.text = "\n".join(report.errors)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _case_text(target: TargetReport) -> str:
    parts = [f"verdict: {target.verdict}"]
    if target.missing_privileges:
        parts.append(f"missing privileges: {', '.join(target.missing_privileges)}")
    if target.before is not None:
        parts.append(f"before: {target.before}")
    if target.action is not None:
        parts.append(f"action: {action_text(target)}")
    return "\n".join(parts)


def markdown(report: RunReport) -> str:
    """The report as Markdown (a job summary): headline, table, warnings, errors."""
    icon = {v.OK: "✅", v.DRIFT: "❌", v.UNKNOWN: "⚠️"}
    header = ["", "Target", "Account", "Cluster", "Verdict"]
    if report.command == "remediate":
        header += ["Before", "Action"]
    out = [f"### {_md(report.headline)}", "", "| " + " | ".join(header) + " |"]
    out.append("|" + "---|" * len(header))
    for t in report.targets:
        row = [icon.get(t.status, ""), f"`{t.name}`", t.account, t.cluster, t.verdict]
        if report.command == "remediate":
            row += [t.before or "", action_text(t)]
        out.append("| " + " | ".join(_md(cell) for cell in row) + " |")
    for warning in report.warnings:
        out += ["", f"> warning: {_md(warning)}"]
    for error in report.errors:
        out += ["", f"> **error**: {_md(error)}"]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
