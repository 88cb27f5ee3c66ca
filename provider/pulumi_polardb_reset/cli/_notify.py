"""Chat notifications of a run: Slack incoming webhooks, DingTalk robots, or generic JSON.

One message per run and URL. Each POST, the whole exchange (connecting, sending, the
answer's status, headers and body), has :data:`TIMEOUT_SECONDS`; a failed POST is retried
once. Redirects are never followed: a webhook that answers 3xx failed (following one would
turn the POST into a GET to wherever it points, and lose the message). A failed
notification is a warning for the caller, never an exception. Webhook URLs carry their own
credential (Slack's path, DingTalk's ``access_token``), so messages about them name the
host only. :func:`unusable` tells, before any work, that a URL cannot be posted to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

import requests

from . import _report as r

Kind = Literal["auto", "slack", "dingtalk", "generic"]
KINDS: Final = ("auto", "slack", "dingtalk", "generic")
TIMEOUT_SECONDS: Final = 10.0
RETRY_PAUSE_SECONDS: Final = 1.0
#: The environment variable holding a DingTalk robot's signing secret (optional).
DINGTALK_SECRET_ENV: Final = "POLARDB_RESET_DINGTALK_SECRET"  # noqa: S105 - a variable name


def kind_of(url: str, kind: Kind = "auto") -> Kind:
    """The message format for ``url``: the chosen ``kind``, else from its host."""
    if kind != "auto":
        return kind
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    if host == "hooks.slack.com":
        return "slack"
    if host == "oapi.dingtalk.com":
        return "dingtalk"
    return "generic"


def unusable(url: str) -> str | None:
    """Why the command cannot post to ``url`` (None: it can); names no path or query."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        shown = f"{parts.scheme}:// URL" if parts.scheme else "URL without a scheme"
        return f"a {shown} cannot be posted to; give the webhook's http:// or https:// URL"
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"{parts.scheme}://{parts.netloc} has an invalid port"
    if not parts.hostname:
        return f"{parts.scheme}:// URL without a host cannot be posted to"
    return None


def where(url: str) -> str:
    """The URL without its path and query (which may hold the webhook's token)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def message(report: r.RunReport, kind: Kind) -> dict[str, Any]:
    """The JSON body of the notification of ``report`` in the format ``kind``."""
    flagged = [t for t in report.targets if t.status != "ok" or t.action == "failed"]
    if kind == "dingtalk":
        md = r.markdown_text
        rows = [
            f"- **{md(t.name)}** ({md(t.account)} on {md(t.cluster)}): {md(t.verdict)}"
            for t in flagged
        ]
        errors = [f"error: {md(e)}" for e in report.errors]
        text = "\n".join([f"#### {md(report.headline)}", "", *rows, *errors])
        title = r.plain(report.headline)
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    if kind == "slack":
        rows = [
            f"• *{_slack(t.name)}* ({_slack(t.account)} on {_slack(t.cluster)}): "
            f"{_slack(t.verdict)}"
            for t in flagged
        ]
        errors = [f"error: {_slack(e)}" for e in report.errors]
        return {"text": "\n".join([f"*{_slack(report.headline)}*", *rows, *errors])}
    document = json.loads(r.to_json(report))
    return {"source": "polardb-reset", **document}


def _slack(text: str) -> str:
    """Text Slack shows as written: no mention (``<!channel>``), link or new line.

    Slack's documented escaping: ``&``, ``<`` and ``>`` as HTML entities.
    """
    return r.plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def dingtalk_signed(url: str, secret: str, now_ms: int) -> str:
    """``url`` with DingTalk's ``timestamp`` and ``sign`` (HMAC-SHA256 of "ts\\nsecret")."""
    to_sign = f"{now_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    joiner = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{joiner}timestamp={now_ms}&sign={sign}"


def send(
    url: str,
    report: r.RunReport,
    *,
    kind: Kind = "auto",
    dingtalk_secret: str | None = None,
    timeout: float = TIMEOUT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Post the notification of ``report`` to ``url``; return None, or a warning to show.

    A failure is retried once, except a redirect (the same answer again) or a URL that
    cannot be posted to.
    """
    chosen = kind_of(url, kind)
    body = json.dumps(message(report, chosen)).encode()
    problem = "not sent"
    for attempt in range(2):
        if attempt:
            sleep(RETRY_PAUSE_SECONDS)
        target = url
        if chosen == "dingtalk" and dingtalk_secret:
            target = dingtalk_signed(url, dingtalk_secret, int(time.time() * 1000))
        failed = _post(target, body, chosen, timeout)
        if failed is None:
            return None
        problem = failed.problem
        if failed.final:
            return f"notification to {where(url)} failed ({problem}); the run's result stands"
    return f"notification to {where(url)} failed twice ({problem}); the run's result stands"


@dataclass(frozen=True)
class _Failed:
    """Why one POST failed; ``final``: a second attempt would get the same answer."""

    problem: str
    final: bool = False


def _post(url: str, body: bytes, kind: Kind, timeout: float) -> _Failed | None:
    """POST once; None on success, else what went wrong (never the URL).

    The exchange runs in a daemon thread so that ``timeout`` bounds all of it: a server
    trickling its answer a byte at a time cannot hold the command (a socket timeout only
    bounds each read). A thread still waiting past the bound ends with the process.
    """
    problem = unusable(url)
    if problem:
        return _Failed(problem, final=True)
    outcome: list[_Failed | None] = []
    done = threading.Event()

    def exchange() -> None:
        try:
            outcome.append(_exchange(url, body, kind, timeout))
        except Exception as exc:  # any failure is the warning, never raised
            outcome.append(_Failed(_failure(exc)))
        finally:
            done.set()

    threading.Thread(target=exchange, name="polardb-reset-notify", daemon=True).start()
    if not done.wait(timeout):
        return _Failed(f"no complete answer within {timeout:g} s (the notification timeout)")
    return outcome[0]


def _exchange(url: str, body: bytes, kind: Kind, timeout: float) -> _Failed | None:
    with requests.post(
        url,
        data=body,
        headers={"Content-Type": "application/json; charset=utf-8"},
        timeout=timeout,
        allow_redirects=False,
        stream=True,
    ) as answer:
        if answer.is_redirect or 300 <= answer.status_code < 400:
            return _Failed(f"HTTP {answer.status_code}: a redirect, not followed", final=True)
        if answer.status_code >= 400:
            return _Failed(f"HTTP {answer.status_code}")
        reply = answer.raw.read(65536, decode_content=True)
    if kind == "dingtalk":
        # DingTalk answers 200 with {"errcode": N, "errmsg": ...} when it refuses a message.
        try:
            answer_json = json.loads(reply or b"{}")
        except ValueError:
            return _Failed("the answer was not JSON")
        code = answer_json.get("errcode", 0) if isinstance(answer_json, dict) else 0
        if code:
            return _Failed(f"DingTalk errcode {code}: {str(answer_json.get('errmsg', ''))[:200]}")
    return None


def _failure(exc: Exception) -> str:
    """A transport failure in a few words, without the URL (it may hold the token)."""
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return type(exc).__name__
