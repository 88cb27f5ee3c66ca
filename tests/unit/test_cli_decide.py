"""``remediate``'s per-target decision and both commands' exit status, as pure functions.

Every verdict a target can end with and every action the report can name, from what the
two checks and the update saw; the exit codes are Pulumi's (exit_codes.go).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pulumi_polardb_reset.cli import _decide as d
from pulumi_polardb_reset.cli import _report as r
from pulumi_polardb_reset.core import _verdicts as v

OK = v.Verdict(v.OK, ("ok",))
MISSING = v.Verdict(v.DRIFT, ("missing: RELOAD",), ("RELOAD",))
LOCKED = v.Verdict(v.DRIFT, ("locked",))
UNKNOWN = v.unknown("the SQL endpoint timed out")


def test_pulumis_exit_codes() -> None:
    # pkg/cmd/pulumi/cmd/exit_codes.go in pulumi/pulumi
    assert (r.EXIT_OK, r.EXIT_FAILED, r.EXIT_USAGE, r.EXIT_AUTH, r.EXIT_RESOURCE) == (0, 1, 2, 3, 4)
    assert (r.EXIT_STACK_NOT_FOUND, r.EXIT_DRIFT, r.EXIT_CANCELLED, r.EXIT_TIMEOUT) == (6, 7, 8, 9)
    assert r.EXIT_INTERNAL == 255


def test_a_drifted_target_reset_is_healthy() -> None:
    seen = d.Seen(
        "orders", "dbadmin", "pc-1", before=MISSING, after=OK, chosen=True, request_id="REQ-1"
    )
    report = d.remediated(seen)
    assert (report.status, report.verdict, report.before) == ("ok", "ok", "missing: RELOAD")
    assert (report.action, report.request_id, report.error) == ("reset", "REQ-1", None)
    assert (report.account, report.cluster) == ("dbadmin", "pc-1")


def test_a_reset_that_failed_keeps_the_verdict_after_and_names_the_error() -> None:
    seen = d.Seen("orders", before=MISSING, after=MISSING, chosen=True, error="ResetAccount: busy")
    report = d.remediated(seen)
    assert (report.status, report.action, report.error) == ("drift", "failed", "ResetAccount: busy")


def test_a_gone_target_that_could_not_be_created_again_is_gone() -> None:
    seen = d.Seen(
        "orders",
        before=v.gone(),
        chosen=True,
        deployed_after=False,
        error="account 'a' does not exist",
    )
    report = d.remediated(seen)
    assert (report.verdict, report.status, report.action) == ("gone", "drift", "failed")


def test_a_gone_target_dropped_by_the_refresh_is_gone_not_removed() -> None:
    seen = d.Seen("orders", before=v.gone(), chosen=True, deployed_after=False)
    report = d.remediated(seen)
    assert (report.verdict, report.action) == ("gone", "failed")
    assert report.error is not None and "found nothing to change (gone)" in report.error


def test_a_new_target_that_failed_to_create_is_not_created() -> None:
    seen = d.Seen(
        "new-one",
        before=v.not_deployed(),
        chosen=True,
        deployed_before=False,
        deployed_after=False,
        error="InvalidAccountName",
    )
    report = d.remediated(seen)
    assert (report.verdict, report.status, report.action) == ("not created", "drift", "failed")
    assert report.before == "not deployed"


def test_a_new_target_created_is_reset() -> None:
    seen = d.Seen("new-one", before=None, after=OK, deployed_before=False, request_id="REQ-9")
    report = d.remediated(seen)
    assert (report.before, report.action, report.request_id) == ("new", "reset", "REQ-9")


def test_fixed_without_a_reset_is_updated() -> None:
    seen = d.Seen("orders", before=LOCKED, after=OK, chosen=True)
    assert d.remediated(seen).action == "updated"


def test_a_locked_account_not_reset_says_to_unlock_it() -> None:
    seen = d.Seen("orders", before=LOCKED, after=LOCKED, chosen=True)
    report = d.remediated(seen)
    assert report.action == "failed" and report.error is not None
    assert "locked" in report.error and "ModifyAccountLockState" in report.error


def test_drift_the_update_did_not_change_says_to_fix_it_by_hand() -> None:
    seen = d.Seen("orders", before=MISSING, after=MISSING, chosen=True)
    report = d.remediated(seen)
    assert report.action == "failed"
    assert report.error == (
        "not reset: `pulumi up` found nothing to change (missing: RELOAD); fix it by hand"
    )


def test_a_target_no_longer_declared_is_removed() -> None:
    report = d.remediated(d.Seen("old", before=OK, deployed_after=False))
    assert (report.verdict, report.status, report.action) == ("removed", "ok", "removed")


def test_a_target_moved_to_another_shard_says_where() -> None:
    report = d.remediated(d.Seen("old", before=OK, deployed_after=False, moved_to="2/3"))
    assert report.verdict == "removed: belongs to shard 2/3 now"
    assert report.action == "removed"


@pytest.mark.parametrize("after", [OK, UNKNOWN, MISSING])
def test_a_target_not_chosen_is_unchanged(after: v.Verdict) -> None:
    report = d.remediated(d.Seen("orders", before=after, after=after))
    assert (report.action, report.status, report.verdict) == ("unchanged", after.status, after.text)


# -- exit status ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "errors", "refused", "timed_out", "code"),
    [
        ([], [], False, False, 0),
        (["ok", "ok"], [], False, False, 0),
        (["ok", "drift"], [], False, False, 7),
        (["drift", "unknown"], [], False, False, 1),
        (["ok"], ["pulumi refresh failed: boom"], False, False, 1),
        (["unknown"], [], True, False, 3),
        (["drift", "unknown"], [], True, True, 9),
        (["ok", "unknown"], [], False, True, 9),
    ],
)
def test_detect_status(
    statuses: list[v.Status], errors: list[str], refused: bool, timed_out: bool, code: int
) -> None:
    assert d.detect_status(statuses, errors=errors, refused=refused, timed_out=timed_out) == code


def _target(status: v.Status, action: str) -> r.TargetReport:
    verdict = {"ok": OK, "drift": MISSING, "unknown": UNKNOWN}[status]
    report = r.TargetReport.of("t", "a", "c", verdict)
    report.action = action
    return report


@pytest.mark.parametrize(
    ("targets", "errors", "refused", "code"),
    [
        ([], [], False, 0),
        ([("ok", "reset"), ("ok", "unchanged"), ("ok", "removed")], [], False, 0),
        ([("ok", "reset"), ("drift", "failed")], [], False, 4),
        ([("ok", "failed")], [], False, 4),
        ([("drift", "unchanged")], [], False, 4),
        ([("unknown", "unchanged"), ("ok", "reset")], [], False, 1),
        ([("ok", "reset")], ["pulumi up failed: boom"], False, 1),
        ([("unknown", "failed")], [], True, 3),
    ],
)
def test_remediate_status(
    targets: list[tuple[v.Status, str]], errors: list[str], refused: bool, code: int
) -> None:
    reports = [_target(status, action) for status, action in targets]
    assert d.remediate_status(reports, errors=errors, refused=refused) == code


def test_the_headline_names_each_outcome() -> None:
    for code, word in [
        (r.EXIT_DRIFT, "drift found"),
        (r.EXIT_AUTH, "credentials refused"),
        (r.EXIT_RESOURCE, "not healthy"),
        (r.EXIT_STACK_NOT_FOUND, "stack not found"),
        (r.EXIT_CANCELLED, "cancelled"),
        (r.EXIT_TIMEOUT, "timed out"),
    ]:
        assert f": {word}: " in r.RunReport("detect", "prod", None, code, []).headline


# -- the pulumi CLI under a deadline, with a stand-in executable ------------------------------


def _stand_in(tmp_path: Path, body: str) -> str:
    """A ``pulumi`` that answers ``version`` and runs ``body`` for anything else."""
    script = tmp_path / "pulumi"
    script.write_text(f'#!/bin/sh\nif [ "$1" = version ]; then echo v3.260.0; exit 0; fi\n{body}\n')
    script.chmod(0o755)
    return str(tmp_path)


def test_a_pulumi_that_ignores_ctrl_c_is_killed_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulumi_polardb_reset.cli import _pulumi, _runner

    monkeypatch.setattr(_runner, "STOP_GRACE_SECONDS", (0.2, 0.2))
    started = tmp_path / "started"
    bin_dir = _stand_in(tmp_path, f"trap '' INT\ntouch {started}\nwhile :; do sleep 1; done")
    pulumi = _pulumi.command(bin_dir, _pulumi.Deadline(0.5))
    assert str(pulumi.version) == "3.260.0"
    with pytest.raises(_pulumi.DeadlineExceeded) as raised:
        pulumi.run(["refresh", "--preview-only"], str(tmp_path), {})
    assert started.exists()  # it ran, ignored both interrupts, and was killed
    assert str(raised.value) == "`pulumi refresh` did not finish within 0.5 s"


def test_a_failing_pulumi_is_a_command_error(tmp_path: Path) -> None:
    from pulumi import automation as auto

    from pulumi_polardb_reset.cli import _pulumi

    bin_dir = _stand_in(tmp_path, "echo 'error: no stack named nope found' >&2; exit 6")
    pulumi = _pulumi.command(bin_dir)
    with pytest.raises(auto.StackNotFoundError):
        pulumi.run(["stack", "select", "nope"], str(tmp_path), {})


def test_an_unexpected_exception_is_exit_255_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from pulumi_polardb_reset.cli import _app
    from pulumi_polardb_reset.cli import _engine as e

    def broken(_work_dir: Path) -> str:
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr(e, "project_name", broken)
    done = CliRunner().invoke(_app.cli, ["detect", "--stack", "s", "--cwd", str(tmp_path)])
    assert done.exit_code == 255, done.output
    assert done.output == (
        "error: internal error (RuntimeError: something nobody expected); this is a bug in "
        "polardb-reset, please report it\n"
    )
