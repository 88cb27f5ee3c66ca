"""What the command decides from what it saw: each target's report and the exit status (pure).

``remediate`` checks, updates and checks again; :func:`remediated` turns what those steps
saw of one target into its report (the verdict after, the verdict before, the action), and
:func:`detect_status` and :func:`remediate_status` give the exit status, in Pulumi's codes
(``pkg/cmd/pulumi/cmd/exit_codes.go``): a pipeline that runs ``pulumi`` and
``polardb-reset`` side by side reads one taxonomy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..core import _verdicts as v
from . import _report as r


@dataclass(frozen=True)
class Seen:
    """What ``remediate`` saw of one target, step by step.

    ``before``: the first check's verdict (None: the target was not in it, new);
    ``after``: the second check's (None: not checked again, as it left the state);
    ``chosen``: the update was meant to fix it; ``deployed_before`` and ``deployed_after``:
    in the state before and after the update; ``request_id``: the ``ResetAccount`` of the
    update; ``error``: the update's error for it; ``moved_to``: the shard ``I/N`` it belongs
    to now, when it left this one.
    """

    name: str
    account: str = ""
    cluster: str = ""
    before: v.Verdict | None = None
    after: v.Verdict | None = None
    chosen: bool = False
    deployed_before: bool = True
    deployed_after: bool = True
    request_id: str | None = None
    error: str | None = None
    moved_to: str | None = None


def remediated(seen: Seen) -> r.TargetReport:
    """A target's report after ``remediate``: its verdict, the one before, the action."""
    verdict = _verdict_after(seen)
    report = r.TargetReport.of(seen.name, seen.account, seen.cluster, verdict)
    report.before = seen.before.text if seen.before is not None else "new"
    if seen.error is not None:
        report.action, report.error = "failed", seen.error
    elif seen.request_id is not None:
        report.action, report.request_id = "reset", seen.request_id
    elif seen.chosen and verdict.status == v.OK:
        report.action = "updated"  # fixed without a reset (an unlock, say)
    elif seen.chosen:
        report.action, report.error = "failed", not_reset(seen.before or verdict)
    elif seen.deployed_before and not seen.deployed_after:
        report.action = "removed"
    else:
        report.action = "unchanged"
    return report


def _verdict_after(seen: Seen) -> v.Verdict:
    if seen.after is not None:
        return seen.after
    if seen.deployed_before and (seen.error is not None or seen.before == v.gone()):
        return v.gone()  # the refresh dropped it, or re-creating it failed
    if seen.error is not None:
        return v.Verdict(v.DRIFT, ("not created",))
    # Dropped by the update: no longer declared (or moved to another shard).
    moved = f": belongs to shard {seen.moved_to} now" if seen.moved_to else ""
    return v.Verdict(v.OK, (f"removed{moved}",))


def not_reset(verdict: v.Verdict) -> str:
    """Why `pulumi up` left a drifted target as it was, and what to do."""
    if "locked" in verdict.findings:
        return (
            "not reset: the account is locked, and a reset does not unlock it; unlock it "
            "(ModifyAccountLockState or the console), then run again"
        )
    return f"not reset: `pulumi up` found nothing to change ({verdict.text}); fix it by hand"


def detect_status(
    statuses: Sequence[v.Status], *, errors: Sequence[str], refused: bool, timed_out: bool
) -> int:
    """The exit status of ``detect``.

    9 the deadline passed; 3 the API refused the command's credentials; 1 a target the
    check could not tell about, or a Pulumi error; 7 drift; 0 none.
    """
    if timed_out:
        return r.EXIT_TIMEOUT
    if refused:
        return r.EXIT_AUTH
    worst = v.worst(list(statuses))
    if worst == v.UNKNOWN or errors:
        return r.EXIT_FAILED
    return r.EXIT_DRIFT if worst == v.DRIFT else r.EXIT_OK


def remediate_status(
    targets: Sequence[r.TargetReport], *, errors: Sequence[str], refused: bool
) -> int:
    """The exit status of ``remediate``.

    3 the API refused the command's credentials; 4 a target's reset failed or it is still
    drifted; 1 a target the check could not tell about, or a Pulumi error; 0 all healthy.
    """
    if refused:
        return r.EXIT_AUTH
    if any(t.action == "failed" or t.status == v.DRIFT for t in targets):
        return r.EXIT_RESOURCE
    if errors or any(t.status != v.OK for t in targets):
        return r.EXIT_FAILED
    return r.EXIT_OK
