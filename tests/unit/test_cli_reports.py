"""The command's reports (lines, JSON, JUnit, Markdown) and notifications, without Pulumi.

Notifications go to a real local HTTP server; JUnit output is checked against the shape
CI systems read (the Jenkins/GitLab JUnit schema's elements and attributes).
"""

from __future__ import annotations

import io
import json
import re
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from emulator_harness import refusing_port

from pulumi_polardb_reset.cli import _notify as n
from pulumi_polardb_reset.cli import _report as r
from pulumi_polardb_reset.core import _verdicts as v


def report(command: str = "detect", exit_code: int = r.EXIT_DRIFT) -> r.RunReport:
    targets = [
        r.TargetReport.of("orders", "dbadmin", "pc-1", v.Verdict("ok", ("ok",))),
        r.TargetReport.of(
            "billing",
            "polar_super",
            "pc-2",
            v.Verdict("drift", ("missing: PROCESS, RELOAD",), ("PROCESS", "RELOAD")),
        ),
        r.TargetReport.of("audit", "ops|admin", "pc-3", v.unknown("the SQL endpoint timed out")),
    ]
    return r.RunReport(command, "prod", "1/4", exit_code, targets, warnings=["something else"])


def test_lines_one_per_target_then_warnings_and_headline() -> None:
    out = r.lines(report())
    assert out[0].split() == ["TARGET", "ACCOUNT", "CLUSTER", "VERDICT"]
    assert out[2].split(None, 3) == ["billing", "polar_super", "pc-2", "missing: PROCESS, RELOAD"]
    assert out[3].endswith("unknown: the SQL endpoint timed out")
    assert out[4] == "warning: something else"
    assert out[5] == (
        "polardb-reset detect: stack prod (shard 1/4): drift found: 3 target(s), "
        "1 ok, 1 drifted, 1 unknown"
    )


def test_json_document() -> None:
    document = json.loads(r.to_json(report()))
    assert document["exit_code"] == 7 and document["shard"] == "1/4"
    billing = document["targets"][1]
    assert billing["status"] == "drift" and billing["missing_privileges"] == ["PROCESS", "RELOAD"]


#: Elements and attributes of the JUnit XML schema CI systems read (Jenkins' junit-10.xsd,
#: which GitLab and GitHub test-report actions follow).
JUNIT_ATTRIBUTES = {
    "testsuites": {"name", "tests", "failures", "errors", "skipped", "time", "disabled"},
    "testsuite": {"name", "tests", "failures", "errors", "skipped", "time", "timestamp", "id"},
    "testcase": {"name", "classname", "time", "assertions", "status"},
    "failure": {"message", "type"},
    "error": {"message", "type"},
    "system-out": set(),
}
JUNIT_CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"testcase", "properties", "system-out", "system-err"},
    "testcase": {"failure", "error", "skipped", "system-out", "system-err"},
    "failure": set(),
    "error": set(),
    "system-out": set(),
}


def assert_junit_shape(element: ET.Element) -> None:
    assert set(element.attrib) <= JUNIT_ATTRIBUTES[element.tag], element.tag
    for child in element:
        assert child.tag in JUNIT_CHILDREN[element.tag], (element.tag, child.tag)
        assert_junit_shape(child)


@pytest.mark.parametrize("command", ["detect", "remediate"])
def test_junit_parses_and_has_the_schema_shape(command: str) -> None:
    run = report(command, 1)
    if command == "remediate":
        run.targets[1].action, run.targets[1].error = "failed", "the reset timed out"
    text = r.junit_xml(run)
    root = ET.fromstring(text)  # noqa: S314 - our own output
    assert_junit_shape(root)
    (suite,) = root
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = {c.get("name"): c for c in suite}
    failure = cases["billing (polar_super on pc-2)"].find("failure")
    assert failure is not None and "PROCESS, RELOAD" in (failure.get("message") or "")
    assert cases["orders (dbadmin on pc-1)"].find("failure") is None
    assert cases["audit (ops|admin on pc-3)"].find("error") is not None


def test_junit_counts_a_pulumi_error_as_one_more_error() -> None:
    run = r.RunReport("detect", "prod", None, 1, [], errors=["pulumi refresh failed: boom"])
    (suite,) = ET.fromstring(r.junit_xml(run))  # noqa: S314 - our own output
    assert (suite.get("tests"), suite.get("errors")) == ("1", "1")


def test_markdown_escapes_table_cells() -> None:
    text = r.markdown(report())
    assert "| ❌ | `billing` | polar\\_super | pc-2 | missing: PROCESS, RELOAD |" in text
    assert "ops\\|admin" in text


# -- notifications ------------------------------------------------------------------------


class Receiver:
    def __init__(self, answers: list[tuple[int, bytes]]) -> None:
        self.posts: list[dict[str, Any]] = []
        posts, queue = self.posts, list(answers)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urllib.parse.urlsplit(self.path)
                posts.append({"path": parts.path, "query": parts.query, "json": json.loads(body)})
                status, answer = queue.pop(0) if queue else (200, b'{"errcode": 0}')
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for receiver in made:
        receiver.close()


def test_kind_from_the_host() -> None:
    assert n.kind_of("https://hooks.slack.com/services/T/B/X") == "slack"
    assert n.kind_of("https://oapi.dingtalk.com/robot/send?access_token=t") == "dingtalk"
    assert n.kind_of("https://example.com/hook") == "generic"
    assert n.kind_of("https://example.com/hook", "dingtalk") == "dingtalk"


def test_slack_dingtalk_and_generic_bodies(receivers: list[Receiver]) -> None:
    receiver = Receiver([])
    receivers.append(receiver)
    for kind in ("slack", "dingtalk", "generic"):
        assert n.send(f"{receiver.url}/{kind}", report(), kind=kind, sleep=lambda _s: None) is None
    slack, dingtalk, generic = (p["json"] for p in receiver.posts)
    assert set(slack) == {"text"} and "billing" in slack["text"] and "orders" not in slack["text"]
    assert dingtalk["msgtype"] == "markdown"
    assert "missing: PROCESS, RELOAD" in dingtalk["markdown"]["text"]
    assert generic["source"] == "polardb-reset" and len(generic["targets"]) == 3


def test_retried_once_then_a_warning_without_the_token(receivers: list[Receiver]) -> None:
    failing = Receiver([(500, b"no"), (502, b"no")])
    receivers.append(failing)
    pauses: list[float] = []
    url = f"{failing.url}/robot/send?access_token=very-secret-token"
    warning = n.send(url, report(), kind="dingtalk", sleep=pauses.append)
    assert warning is not None and "HTTP 502" in warning and failing.url in warning
    assert "very-secret-token" not in warning and "/robot" not in warning
    assert len(failing.posts) == 2 and pauses == [n.RETRY_PAUSE_SECONDS]

    flaky = Receiver([(503, b"busy")])
    receivers.append(flaky)
    assert n.send(flaky.url, report(), sleep=lambda _s: None) is None
    assert len(flaky.posts) == 2


def test_dingtalk_refusal_in_a_200_answer_is_a_failure(receivers: list[Receiver]) -> None:
    refusing = Receiver([(200, b'{"errcode": 310000, "errmsg": "sign not match"}')] * 2)
    receivers.append(refusing)
    warning = n.send(refusing.url, report(), kind="dingtalk", sleep=lambda _s: None)
    assert warning is not None and "errcode 310000" in warning


def test_unreachable_receiver_is_a_bounded_warning() -> None:
    with refusing_port() as port:
        url = f"http://127.0.0.1:{port}/hook"
        warning = n.send(url, report(), timeout=2, sleep=lambda _s: None)
    assert warning is not None and "failed twice" in warning


def test_dingtalk_signature_as_documented() -> None:
    # DingTalk's documented example: sign = urlencode(base64(hmac_sha256(secret, ts\nsecret))).
    import base64
    import hashlib
    import hmac

    signed = n.dingtalk_signed(
        "https://oapi.dingtalk.com/robot/send?access_token=t", "SEC1", 1700000000000
    )
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(signed).query))
    digest = hmac.new(b"SEC1", b"1700000000000\nSEC1", hashlib.sha256).digest()
    assert query == {
        "access_token": "t",
        "timestamp": "1700000000000",
        "sign": base64.b64encode(digest).decode(),
    }
    assert "SEC1" not in signed


# -- the command line, before any Pulumi call ----------------------------------------------


def test_shard_option_uses_the_package_placement() -> None:
    from click.testing import CliRunner

    from pulumi_polardb_reset.cli import _app
    from pulumi_polardb_reset.core import _placement

    assert _app._shard(" 2/4") == (2, 4) == _placement.parse_shard("2/4")
    names = [f"orders-{i}" for i in range(50)]
    for count in (1, 2, 4):
        for index in range(count):
            assert [n for n in names if _placement.in_shard(n, (index, count))] == [
                n for n in names if _placement.shard_of(n, count) == index
            ]
    for bad in ("4/4", "x", "1/", "-1/2"):
        done = CliRunner().invoke(_app.cli, ["detect", "--stack", "s", "--shard", bad])
        assert done.exit_code == 2, done.output
        assert "Invalid value for --shard: must be I/N" in done.output
        assert "Traceback" not in done.output


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, as a developer's shell is."""

    def isatty(self) -> bool:
        return True


def _options(**changes: Any) -> Any:
    from pulumi_polardb_reset.cli import _app

    values: dict[str, Any] = {
        "stack": "prod",
        "cwd": ".",
        "shard": None,
        "json": False,
        "junit_xml": None,
        "markdown": None,
        "notify": (),
        "notify_format": "auto",
        "dingtalk_secret_env": "UNSET_FOR_TESTS",
        "pulumi_bin": None,
    }
    return _app.Options(**{**values, **changes})


def test_on_a_terminal_a_table_and_a_progress_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi_polardb_reset.cli import _app

    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    out = _Terminal()
    run = report("remediate", 1)
    run.targets[1].action, run.targets[1].request_id = "reset", "REQ-1"
    _app._emit(run, _options(), out)
    table = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    # A table (cells wrap at the terminal's width, 80 columns here).
    assert "┃ Target" in table and "┃ Action" in table
    (billing,) = [line for line in table.splitlines() if "│ billing" in line]
    assert (
        "polar_super" in billing and "missing: PROCESS," in billing and "reset (request" in billing
    )
    assert table.rstrip().endswith(run.headline)

    err = _Terminal()
    monkeypatch.setattr("sys.stderr", err)
    with _app._progress(out, 2, "checking") as advance:
        advance("urn:a")
        advance("urn:a")  # the same resource twice counts once
        advance("urn:b")
    assert "checking" in err.getvalue() and "2/2" in err.getvalue()


def test_not_a_terminal_no_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi_polardb_reset.cli import _app

    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    with _app._progress(io.StringIO(), 2, "checking") as advance:
        advance("urn:a")
    assert err.getvalue() == ""
