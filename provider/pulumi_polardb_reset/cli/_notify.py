"""Chat notifications of a run: Slack incoming webhooks, DingTalk robots, or generic JSON.

One message per run and URL; each POST is bounded in time and retried once. A failed
notification is a warning for the caller, never an exception. Webhook URLs carry their
own credential (Slack's path, DingTalk's ``access_token``), so messages about them name
the host only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, Final, Literal

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


def where(url: str) -> str:
    """The URL without its path and query (which may hold the webhook's token)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def message(report: r.RunReport, kind: Kind) -> dict[str, Any]:
    """The JSON body of the notification of ``report`` in the format ``kind``."""
    flagged = [t for t in report.targets if t.status != "ok" or t.action == "failed"]
    if kind == "dingtalk":
        rows = [f"- **{t.name}** ({t.account} on {t.cluster}): {t.verdict}" for t in flagged]
        text = "\n".join([f"#### {report.headline}", "", *rows, *_errors(report)])
        return {"msgtype": "markdown", "markdown": {"title": report.headline, "text": text}}
    if kind == "slack":
        rows = [f"• *{t.name}* ({t.account} on {t.cluster}): {t.verdict}" for t in flagged]
        return {"text": "\n".join([f"*{report.headline}*", *rows, *_errors(report)])}
    document = json.loads(r.to_json(report))
    return {"source": "polardb-reset", **document}


def _errors(report: r.RunReport) -> list[str]:
    return [f"error: {e}" for e in report.errors]


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
    """Post the notification of ``report`` to ``url``; return None, or a warning to show."""
    chosen = kind_of(url, kind)
    body = json.dumps(message(report, chosen)).encode()
    problem = "not sent"
    for attempt in range(2):
        if attempt:
            sleep(RETRY_PAUSE_SECONDS)
        target = url
        if chosen == "dingtalk" and dingtalk_secret:
            target = dingtalk_signed(url, dingtalk_secret, int(time.time() * 1000))
        problem = _post(target, body, chosen, timeout)
        if not problem:
            return None
    return f"notification to {where(url)} failed twice ({problem}); the run's result stands"


def _post(url: str, body: bytes, kind: Kind, timeout: float) -> str:
    """POST once; return "" on success, else what went wrong (never the URL)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        return "the URL must be http:// or https://"
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            reply = answer.read(65536)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
    if kind == "dingtalk":
        # DingTalk answers 200 with {"errcode": N, "errmsg": ...} when it refuses a message.
        try:
            answer_json = json.loads(reply or b"{}")
        except ValueError:
            return "the answer was not JSON"
        code = answer_json.get("errcode", 0) if isinstance(answer_json, dict) else 0
        if code:
            return f"DingTalk errcode {code}: {str(answer_json.get('errmsg', ''))[:200]}"
    return ""
