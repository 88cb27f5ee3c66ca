"""End to end: the ``polardb-reset`` console script on a real stack, real CLI, real MariaDB.

The project is ``examples/drift-remediation`` on the MariaDB-backed emulator (a REVOKE is
real drift); ``polardb-reset`` runs as a subprocess, as a CI job runs it; the emulator's
request log and the state backend's files witness that ``detect`` writes nothing.
Notifications go to a local HTTP receiver.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess, refusing_port
from pulumi_harness import REPO, PulumiProject, emulator_config, run_cli, set_secret_key
from test_e2e_drift import (
    CLUSTERS,
    MANAGED,
    NAMESPACE,
    SEED,
    SEED_PASSWORDS,
    TARGETS,
    MakeProject,
    account_of,
    admin_sql,
    bin_dir,
    native_hash,
    project,
    restored,
    state_outputs,
)

pytestmark = pytest.mark.e2e
__all__ = ["bin_dir", "project"]  # fixtures shared with the drift tests
MARIADB_SEED = SEED  # the maria fixtures' (tests/conftest.py), as the drift tests

DINGTALK_SECRET = "SECdingtalk-signing-secret-0123456789"
DINGTALK_TOKEN = "robot-access-token-4242"


class Receiver:
    """A local webhook: records every POST (path, query, JSON body) and answers like DingTalk."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                parts = urllib.parse.urlsplit(self.path)
                received.append(
                    {
                        "path": parts.path,
                        "query": dict(urllib.parse.parse_qsl(parts.query)),
                        "raw": body.decode(),
                        "json": json.loads(body),
                        "content_type": self.headers.get("Content-Type"),
                    }
                )
                answer = b'{"errcode": 0, "errmsg": "ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def state_files(proj: PulumiProject) -> dict[str, bytes]:
    """Every file of the project's state backend, by path (the witness of 'writes nothing')."""
    return {
        str(path): path.read_bytes() for path in (proj.root / "state").rglob("*") if path.is_file()
    }


def secrets_of(*extra: str) -> list[str]:
    """Every secret of these tests, with the forms they could be written in."""
    found: list[str] = []
    for secret in (*MANAGED.values(), *SEED_PASSWORDS.values(), ACCESS_KEY_SECRET, *extra):
        found += [secret, urllib.parse.quote(secret, safe=""), native_hash(secret)]
    return found


def assert_no_secret(where: str, text: str, *extra: str) -> None:
    for secret in secrets_of(*extra):
        assert secret not in text, f"a form of a secret was written to {where}"


def test_detect_revoke_remediate_detect(
    maria: EmulatorProcess, project: MakeProject, receiver: Receiver, tmp_path: Path
) -> None:
    proj = project()
    proj.up()
    maria.clear_requests()

    healthy = run_cli(proj, "detect", "--stack", proj.stack_name, "--json")
    assert healthy.returncode == 0, proj.log[-1]
    document = json.loads(healthy.stdout)
    assert [t["verdict"] for t in document["targets"]] == ["ok", "ok", "ok"]
    assert maria.writes() == []

    admin_sql(maria, "billing", f"REVOKE RELOAD ON *.* FROM {account_of('billing')}")
    before = state_files(proj)
    junit, md, summary = tmp_path / "junit.xml", tmp_path / "drift.md", tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    hook = f"{receiver.url}/robot/send?access_token={DINGTALK_TOKEN}"
    drift = run_cli(
        proj,
        "detect",
        "--stack",
        proj.stack_name,
        "--json",
        "--junit-xml",
        str(junit),
        "--markdown",
        str(md),
        "--notify",
        hook,
        "--notify-format",
        "dingtalk",
        env={"POLARDB_RESET_DINGTALK_SECRET": DINGTALK_SECRET, "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert drift.returncode == 7, proj.log[-1]
    assert "Traceback" not in drift.stderr
    # One line per target: the account, its cluster and the verdict naming the privilege.
    lines = drift.stderr.splitlines()
    (billing_line,) = [line for line in lines if line.startswith("billing ")]
    assert "polar_super" in billing_line and CLUSTERS[1] in billing_line
    assert billing_line.endswith("missing: RELOAD"), billing_line
    assert len([line for line in lines if line.endswith("  ok")]) == 2, drift.stderr
    targets = {t["name"]: t for t in json.loads(drift.stdout)["targets"]}
    assert targets["billing"]["status"] == "drift"
    assert targets["billing"]["missing_privileges"] == ["RELOAD"]
    # Nothing written: no API write, the state backend's files byte for byte the same.
    assert maria.writes() == [] and maria.resets() == []
    assert state_files(proj) == before

    suites = ET.parse(junit).getroot()  # noqa: S314 - our own file
    assert suites.tag == "testsuites"
    (suite,) = suites.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 3 and suite.get("tests") == "3"
    failures = [f for case in cases for f in case.findall("failure")]
    assert len(failures) == 1 and suite.get("failures") == "1"
    assert "RELOAD" in (failures[0].get("message") or "")
    assert "polar_super" in (failures[0].get("message") or "")
    assert "missing: RELOAD" in md.read_text()
    assert summary.read_text().startswith("# earlier step\n")
    assert "missing: RELOAD" in summary.read_text()

    (post,) = receiver.posts
    assert post["path"] == "/robot/send"
    assert post["json"]["msgtype"] == "markdown"
    assert set(post["json"]["markdown"]) == {"title", "text"}
    assert "polar\\_super" in post["json"]["markdown"]["text"]  # Markdown-escaped
    assert "RELOAD" in post["json"]["markdown"]["text"]
    # Signed as DingTalk documents it; the secret itself never travels.
    query = post["query"]
    assert query["access_token"] == DINGTALK_TOKEN
    expected = hmac.new(
        DINGTALK_SECRET.encode(),
        f"{query['timestamp']}\n{DINGTALK_SECRET}".encode(),
        hashlib.sha256,
    ).digest()
    assert query["sign"] == base64.b64encode(expected).decode()
    for where, text in {
        "notification": json.dumps(post),
        "stdout": drift.stdout,
        "stderr": drift.stderr,
        "junit": junit.read_text(),
        "markdown": md.read_text(),
        "step summary": summary.read_text(),
    }.items():
        assert_no_secret(where, text, DINGTALK_SECRET)
        assert DINGTALK_TOKEN not in text or where == "notification", where

    fixed = run_cli(proj, "remediate", "--stack", proj.stack_name, "--json")
    assert fixed.returncode == 0, proj.log[-1]
    (call,) = maria.resets()
    assert (call["params"]["DBClusterId"], call["params"]["AccountName"]) == (
        CLUSTERS[1],
        "polar_super",
    )
    assert restored(maria, "billing")
    remediated = {t["name"]: t for t in json.loads(fixed.stdout)["targets"]}
    assert remediated["billing"]["action"] == "reset"
    recorded = state_outputs(proj)["billing"]["last_reset_request_id"]
    assert remediated["billing"]["request_id"] == recorded
    assert remediated["billing"]["before"] == "missing: RELOAD"
    assert [remediated[n]["action"] for n in ("orders", "audit")] == ["unchanged", "unchanged"]
    assert all(t["status"] == "ok" for t in remediated.values())
    assert_no_secret("remediate output", fixed.stdout + fixed.stderr)

    maria.clear_requests()
    again = run_cli(proj, "detect", "--stack", proj.stack_name)
    assert again.returncode == 0, proj.log[-1]
    assert maria.writes() == []
    # Not a terminal (a CI log): the report lines and nothing else, no progress, no engine output.
    lines = again.stdout.splitlines()
    assert lines[0].split() == ["TARGET", "ACCOUNT", "CLUSTER", "VERDICT"]
    assert sorted(line.split()[0] for line in lines[1:4]) == ["audit", "billing", "orders"]
    assert all(line.endswith("  ok") for line in lines[1:4])
    assert lines[4:] == ["polardb-reset detect: stack e2e: healthy: 3 target(s), 3 ok"], (
        again.stdout
    )
    assert again.stderr == ""
    assert len(receiver.posts) == 1  # healthy runs notify nobody


def test_unreachable_sql_endpoint_is_exit_1(
    maria: EmulatorProcess, project: MakeProject, tmp_path: Path
) -> None:
    with refusing_port() as port:  # held: refused throughout, nobody else's meanwhile
        closed = f"127.0.0.1:{port}"
        proj = project([TARGETS[0], {**TARGETS[1], "sqlEndpoint": closed}])
        proj.up()
        junit = tmp_path / "junit.xml"
        done = run_cli(proj, "detect", "--stack", proj.stack_name, "--junit-xml", str(junit))
    assert done.returncode == 1, proj.log[-1]
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("billing ")]
    assert f"unknown: the SQL endpoint {closed} refused the connection" in line, line
    cases = ET.parse(junit).getroot().iter("testcase")  # noqa: S314 - our own file
    errors = [e for case in cases for e in case.iter("error")]
    assert len(errors) == 1


def test_unreachable_api_endpoint_is_exit_1_not_0_or_3(tmp_path: Path, bin_dir: str) -> None:
    """The PolarDB API endpoint stops answering: the check failed (1), never 'healthy'."""
    seed = {
        "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
        "settings": {"task_seconds": 0},
        "clusters": [
            {
                "id": "pc-mysql00000001",
                "region": "cn-hangzhou",
                "db_type": "MySQL",
                "accounts": [{"name": "dbadmin", "type": "Super", "password": "Adm1n!pass"}],
            }
        ],
    }
    targets = [
        {
            "name": "orders",
            "dbClusterId": "pc-mysql00000001",
            "accountName": "dbadmin",
            "checkPrivileges": False,
            "timeoutSeconds": 20,
        }
    ]
    with EmulatorProcess(seed) as emu:
        proj = PulumiProject(REPO / "examples" / "drift-remediation", tmp_path, bin_dir=bin_dir)
        proj.write_config(emulator_config(emu, targets, namespace=NAMESPACE))
        set_secret_key(proj)
        proj.up()
        healthy = run_cli(proj, "detect", "--stack", proj.stack_name)
        assert healthy.returncode == 0, proj.log[-1]
        assert "privileges not checked: check_privileges is false" in healthy.stdout
    # The emulator is gone: its port refuses connections.
    done = run_cli(proj, "detect", "--stack", proj.stack_name, "--json")
    assert done.returncode == 1, proj.log[-1]
    (target,) = json.loads(done.stdout)["targets"]
    assert target["status"] == "unknown" and target["verdict"].startswith("unknown: ")
    assert "Traceback" not in done.stderr


def test_usage_and_configuration_errors_are_exit_2(tmp_path: Path, bin_dir: str) -> None:
    proj = PulumiProject(REPO / "examples" / "drift-remediation", tmp_path, bin_dir=bin_dir)
    proj.run("stack", "init", proj.stack_name, "--non-interactive")
    proj._initialised = True
    for args, needle, code in [
        (["detect"], "Missing option '--stack'", 2),
        (["detect", "--stack", proj.stack_name, "--shard", "4/4"], "--shard", 2),
        (["detect", "--stack", "nope"], "cannot select stack 'nope'", 6),  # Pulumi's 6
        (["remediate", "--stack", "nope"], "cannot select stack 'nope'", 6),
        (["detect", "--stack", proj.stack_name, "--cwd", str(tmp_path)], "Pulumi.yaml", 2),
        (["detect", "--stack", proj.stack_name], "no PrivilegedAccountReset", 2),
        (["remediate", "--stack", proj.stack_name, "--json"], "no PrivilegedAccountReset", 2),
        (["detect", "--stack", proj.stack_name, "--timeout", "0"], "--timeout", 2),
    ]:
        done = run_cli(proj, *args)
        assert done.returncode == code, proj.log[-1]
        assert needle in done.stderr, proj.log[-1]
        assert "Traceback" not in done.stderr
