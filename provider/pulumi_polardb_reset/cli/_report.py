"""The command's report, one model and its renderings: lines, JSON, JUnit XML, Markdown.

A report holds names, verdicts, request IDs and the provider's (already scrubbed) error
and warning lines; never an output value of the state, so never a secret.

Names come from stack config and state, which whoever edits the program controls: every
rendering neutralises what its format needs. Text lines (stdout, a CI log, a terminal) and
JUnit XML show control characters, line breaks and bidirectional overrides escaped
(``\\x1b``), so a name cannot forge a log line, drive a terminal or break the XML;
Markdown escapes what would make HTML, links, emphasis, code spans or table rows.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from ..core import _verdicts as v

# Pulumi's exit codes (pkg/cmd/pulumi/cmd/exit_codes.go); cli/_decide says when each applies.
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
EXIT_AUTH: Final = 3
EXIT_RESOURCE: Final = 4
EXIT_STACK_NOT_FOUND: Final = 6
EXIT_DRIFT: Final = 7
EXIT_CANCELLED: Final = 8
EXIT_TIMEOUT: Final = 9
EXIT_INTERNAL: Final = 255

#: Characters no report shows raw: C0 and C1 controls (line breaks, ESC, NUL, ...), DEL,
#: Unicode line and paragraph separators, bidirectional overrides, lone surrogates and
#: the non-characters XML refuses.
_UNSAFE: Final = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
#: What Markdown would read as markup in a table cell: HTML, entities, links, emphasis,
#: code spans, cell separators (and the backslash itself).
_MARKDOWN: Final = re.compile(r"([\\`*_\[\]<>&|~])")


def plain(text: str) -> str:
    """``text`` on one line with nothing a terminal, a CI log or XML would act on.

    Unsafe characters become visible escapes: ``\\x1b`` for ESC, ``\\n`` never appears raw.
    """
    return _UNSAFE.sub(_visible, text)


def _visible(found: re.Match[str]) -> str:
    code = ord(found[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


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
            EXIT_AUTH: "credentials refused",
            EXIT_RESOURCE: "not healthy",
            EXIT_STACK_NOT_FOUND: "stack not found",
            EXIT_CANCELLED: "cancelled",
            EXIT_TIMEOUT: "timed out",
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
    table = [header, *([plain(cell) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    out = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])) + "  " + row[-1]
        for row in table
    ]
    out += [f"warning: {plain(w)}" for w in report.warnings]
    out += [f"error: {plain(e)}" for e in report.errors]
    out.append(plain(report.headline))
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
    suite_name = plain(f"polardb-reset {report.command} {report.stack}") + (
        f" shard {plain(report.shard)}" if report.shard else ""
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
    classname = plain(f"polardb-reset.{report.stack}")
    for target in report.targets:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": classname,
                "name": plain(f"{target.name} ({target.account} on {target.cluster})"),
                "time": "0",
            },
        )
        message = plain(f"{target.account} on {target.cluster}: {target.verdict}")
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
        first = plain(report.errors[0])
        error = ET.SubElement(case, "error", {"message": first, "type": "pulumi"})
        error.text = "\n".join(plain(e) for e in report.errors)
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
    return "\n".join(plain(part) for part in parts)


def markdown(report: RunReport) -> str:
    """The report as Markdown (a job summary): headline, table, warnings, errors."""
    icon = {v.OK: "✅", v.DRIFT: "❌", v.UNKNOWN: "⚠️"}
    header = ["", "Target", "Account", "Cluster", "Verdict"]
    if report.command == "remediate":
        header += ["Before", "Action"]
    out = [f"### {markdown_text(report.headline)}", "", "| " + " | ".join(header) + " |"]
    out.append("|" + "---|" * len(header))
    for t in report.targets:
        row = [markdown_text(t.account), markdown_text(t.cluster), markdown_text(t.verdict)]
        if report.command == "remediate":
            row += [markdown_text(t.before or ""), markdown_text(action_text(t))]
        out.append("| " + " | ".join([icon.get(t.status, ""), code_span(t.name), *row]) + " |")
    for warning in report.warnings:
        out += ["", f"> warning: {markdown_text(warning)}"]
    for error in report.errors:
        out += ["", f"> **error**: {markdown_text(error)}"]
    return "\n".join(out) + "\n"


def markdown_text(text: str) -> str:
    """Text as Markdown shows it literally, on one line (no HTML, link, span or cell)."""
    return _MARKDOWN.sub(r"\\\1", plain(text))


def code_span(text: str) -> str:
    """Text in a code span that nothing inside can close, in a table cell."""
    shown = plain(text).replace("|", "\\|")  # a table splits cells before code spans
    fence = "`" * (max((len(run) for run in re.findall("`+", shown)), default=0) + 1)
    pad = (
        " " if shown.startswith(("`", " ")) or shown.endswith(("`", " ")) or len(fence) > 1 else ""
    )
    return f"{fence}{pad}{shown}{pad}{fence}"
