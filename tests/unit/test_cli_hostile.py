"""The command against hostile input: webhook URLs, redirects, trickling answers, names.

Real local HTTP servers (and a raw socket server that trickles its answer) stand in for
webhooks; the command line runs through click, before any Pulumi call.
"""

from __future__ import annotations

import re
import socket
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pulumi_polardb_reset.cli import _app
from pulumi_polardb_reset.cli import _notify as n
from pulumi_polardb_reset.cli import _report as r
from pulumi_polardb_reset.core import _verdicts as v


def _options(**changes: Any) -> _app.Options:
    """The command's options with no report file, notification or step summary."""
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


def drift_report() -> r.RunReport:
    target = r.TargetReport.of("orders", "dbadmin", "pc-1", v.Verdict("drift", ("locked",)))
    return r.RunReport("detect", "prod", None, r.EXIT_DRIFT, [target])


# -- 24.5: --notify URLs the command cannot post to are usage errors, before any work -----


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://example.com/1",
        "ftp://example.com/hook",
        "http://",
        "https:///robot/send?access_token=t",
        "hooks.slack.com/services/T/B/X",
    ],
)
def test_notify_url_that_cannot_be_posted_to_is_exit_2_before_any_work(
    url: str, tmp_path: Path
) -> None:
    # The directory holds no Pulumi.yaml: any work would fail on that instead.
    done = CliRunner().invoke(
        _app.cli, ["detect", "--stack", "s", "--cwd", str(tmp_path), "--notify", url]
    )
    assert done.exit_code == 2, done.output
    assert "Invalid value for --notify" in done.output
    assert "Pulumi.yaml" not in done.output
    assert "access_token" not in done.output and "Traceback" not in done.output


def test_notify_urls_from_the_environment_are_checked_too(tmp_path: Path) -> None:
    env = {"POLARDB_RESET_NOTIFY": "https://hooks.example.com/a ftp://files.example.com/b"}
    done = CliRunner().invoke(
        _app.cli, ["remediate", "--stack", "s", "--cwd", str(tmp_path)], env=env
    )
    assert done.exit_code == 2, done.output
    assert "ftp:// URL cannot be posted to" in done.output


def test_usable_urls_pass() -> None:
    for url in ("https://hooks.slack.com/services/T/B/X", "http://127.0.0.1:8080/hook"):
        assert n.unusable(url) is None


# -- 24.6: redirects are not followed ------------------------------------------------------


class Recorder:
    """A local HTTP server recording every request (any method); answers ``status``."""

    def __init__(self, status: int = 200, location: str | None = None) -> None:
        self.requests: list[tuple[str, str]] = []
        seen = self.requests

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                seen.append((self.command, self.path))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = do_HEAD = _answer  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorders() -> Iterator[list[Recorder]]:
    made: list[Recorder] = []
    yield made
    for server in made:
        server.close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failed_notification_and_not_followed(
    status: int, recorders: list[Recorder]
) -> None:
    target = Recorder()
    hook = Recorder(status, location=f"{target.url}/elsewhere")
    recorders += [target, hook]
    pauses: list[float] = []
    warning = n.send(f"{hook.url}/hook?access_token=tok", drift_report(), sleep=pauses.append)
    assert warning is not None and f"HTTP {status}" in warning and "redirect" in warning
    assert "tok" not in warning
    assert target.requests == []  # nothing went where the redirect pointed
    assert hook.requests == [("POST", "/hook?access_token=tok")]  # the same answer: no retry
    assert pauses == []


# -- 24.7: the timeout bounds the whole exchange -------------------------------------------


class Trickler:
    """A raw HTTP server that answers one byte at a time, every ``pause`` seconds.

    Each byte comes well within the client's per-read timeout, so only a bound on the
    whole exchange ends the wait. It stops trickling when the test ends (or after a long
    answer, which would then be a complete, successful one).
    """

    def __init__(self, pause: float = 0.2, length: int = 600) -> None:
        self.stop = threading.Event()
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        padding = b"x" * length
        self.answer = b"HTTP/1.1 200 OK\r\nX-Pad: " + padding + b"\r\nContent-Length: 2\r\n\r\n{}"
        self.pause = pause
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            for byte in self.answer:
                if self.stop.wait(self.pause):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def test_a_trickling_webhook_cannot_hold_the_command_past_the_bound() -> None:
    server = Trickler()
    try:
        warning = n.send(server.url, drift_report(), timeout=1.0, sleep=lambda _s: None)
    finally:
        server.close()
    assert warning is not None, "the trickled answer was waited out"
    assert "no complete answer within 1 s" in warning and "timeout" in warning
    assert server.connections == 2  # retried once, each attempt bounded


# -- 24.11: no pulumi on PATH names the real option ---------------------------------------


def test_no_pulumi_on_path_names_the_pulumi_bin_option(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    done = CliRunner().invoke(
        _app.cli, ["detect", "--stack", "s", "--cwd", str(tmp_path)], env={"PATH": str(empty)}
    )
    assert done.exit_code == 2, done.output
    assert "--pulumi-bin DIR" in done.output and "--pulumi-root" not in done.output
    assert "Traceback" not in done.output


def test_a_pulumi_bin_without_pulumi_is_named(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    other = tmp_path / "tools"
    other.mkdir()
    args = ["detect", "--stack", "s", "--cwd", str(tmp_path), "--pulumi-bin", str(other)]
    done = CliRunner().invoke(_app.cli, args)
    assert done.exit_code == 2, done.output
    assert f"no pulumi executable in {other}" in done.output
    assert urllib.parse.quote("--pulumi-root") not in done.output


# -- 24.4: every report neutralises what its format needs ----------------------------------

HOSTILE = [
    "a<b&c]]>d|e",
    "line\rbreak\nforged: healthy",
    "esc\x1b[31mred\x1b[0m\x00nul\x07bel\x01soh",
    "tick`s ``code`` `",
    "<img src=x onerror=alert(1)>",
    "[link](https://evil.example) *bold* _it_ ~~s~~ &amp; \\|",
    "bidi\u202eevil\u2028sep",
]


def hostile_report(command: str = "remediate") -> r.RunReport:
    targets = []
    for i, name in enumerate(HOSTILE):
        verdict = v.Verdict("drift", (f"missing: {name}",)) if i % 2 else v.unknown(name)
        target = r.TargetReport.of(name, f"acct{name}", f"pc-{name}", verdict)
        if command == "remediate":
            target.before, target.action, target.error = name, "failed", f"boom {name}"
        targets.append(target)
    return r.RunReport(
        command, f"stack{HOSTILE[1]}", None, 1, targets, errors=HOSTILE[:3], warnings=HOSTILE[3:]
    )


def _raw_controls(text: str) -> set[str]:
    return {c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0} | (
        set(text) & {"\u2028", "\u2029", "\u202e"}
    )


@pytest.mark.parametrize("command", ["detect", "remediate"])
def test_text_lines_cannot_be_forged_or_drive_a_terminal(command: str) -> None:
    run = hostile_report(command)
    text = "\n".join(r.lines(run)) + "\n"
    assert _raw_controls(text) == set()
    lines = text.splitlines()  # splits at \r, \x1c-\x1e, \x85, \u2028 too
    assert len(lines) == 1 + len(run.targets) + len(run.warnings) + len(run.errors) + 1
    assert not any(line.startswith("forged") for line in lines)
    assert "esc\\x1b[31mred" in text and "\\x00nul\\x07bel\\x01soh" in text


def test_a_terminal_table_shows_names_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    run = hostile_report("remediate")
    run.targets[0].name = "[bold red]styled[/]"
    _app._emit(run, _options(), out)
    shown = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())  # rich's own colours
    assert "\x1b" not in shown and "\x00" not in shown and "\r" not in shown
    # Shown as written (wrapped in its cell), never read as rich markup.
    assert "│ [bold " in shown and "red]styled[/]" in shown


@pytest.mark.parametrize("command", ["detect", "remediate"])
def test_junit_parses_with_control_characters(command: str) -> None:
    run = hostile_report(command)
    document = r.junit_xml(run)
    root = ET.fromstring(document)  # noqa: S314 - our own output; expat refuses bad XML
    cases = [c for c in root.iter("testcase") if c.get("name") != "pulumi"]
    assert len(cases) == len(HOSTILE)
    names = [c.get("name") or "" for c in cases]
    assert names == [r.plain(f"{n} (acct{n} on pc-{n})") for n in HOSTILE]
    for element in root.iter():
        for value in [element.text or "", *element.attrib.values()]:
            assert _raw_controls(value) == set(), value
    # The declared encoding holds: the document encodes (no lone surrogate) and parses again.
    ET.fromstring(document.encode("utf-8"))  # noqa: S314


@pytest.mark.parametrize("command", ["detect", "remediate"])
def test_markdown_table_and_step_summary_cannot_gain_rows_html_or_spans(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    run = hostile_report(command)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    _app._write_files(run, _options(markdown=str(tmp_path / "report.md")))
    for text in ((tmp_path / "report.md").read_text(), summary.read_text()):
        assert _raw_controls(text) == set()
        parser = markdown_it.MarkdownIt("commonmark").enable("table")
        tokens = parser.parse(text)
        assert not [t for t in tokens if t.type == "html_block"]
        inline = [c for t in tokens if t.type == "inline" for c in t.children or []]
        assert not [c for c in inline if c.type in ("html_inline", "link_open", "image")]
        assert not [c for c in inline if c.type in ("em_open", "s_open")]
        # Bold only where the report puts it: "**error**:" before each error.
        assert len([c for c in inline if c.type == "strong_open"]) == len(run.errors)
        rows = [t for t in tokens if t.type == "tr_open"]
        assert len(rows) == 1 + len(HOSTILE)  # the header and one per target, no more
        columns = 7 if command == "remediate" else 5
        cells_per_row: list[int] = []
        for token in tokens:
            if token.type == "tr_open":
                cells_per_row.append(0)
            elif token.type in ("td_open", "th_open"):
                cells_per_row[-1] += 1
        assert cells_per_row == [columns] * len(rows)
        # Each name is one code span holding the name as the lines show it.
        spans = [c.content for c in inline if c.type == "code_inline"]
        assert spans == [r.plain(n) for n in HOSTILE]
        rendered = parser.render(text)
        assert "<img" not in rendered and "<a " not in rendered


def test_chat_messages_neutralise_names() -> None:
    run = hostile_report("detect")
    slack = n.message(run, "slack")["text"]
    assert "<img" not in slack and "&lt;img" in slack and _raw_controls(slack) == set()
    assert len(slack.splitlines()) == 1 + len(HOSTILE) + len(run.errors)
    dingtalk = n.message(run, "dingtalk")["markdown"]["text"]
    assert _raw_controls(dingtalk) == set()
    assert len(dingtalk.splitlines()) == 2 + len(HOSTILE) + len(run.errors)
    markdown_it = pytest.importorskip("markdown_it")
    tokens = markdown_it.MarkdownIt("commonmark").parse(dingtalk)
    inline = [c for t in tokens if t.type == "inline" for c in t.children or []]
    assert not [c for c in inline if c.type in ("html_inline", "link_open", "code_inline")]
    assert len([t for t in tokens if t.type == "list_item_open"]) == len(HOSTILE)
