"""The provider against hostile endpoints, verbose SDK logging and cleartext endpoints (issue 13).

* Deadlines: a fake server under the test's control (a thread of this process) that never
  answers, trickles its headers or its body one byte at a time, or sends a body far larger
  than any API answer (plain or gzip-compressed). ``create`` must end within
  ``timeout_seconds + 2 s`` and a huge body must not be read into memory (measured in a
  subprocess: its peak RSS).
* ``DEBUG=sdk`` with root logging at DEBUG: nothing the process prints holds the password
  or the AccessKey secret.
* Plain ``http://``: refused at preview (``check``) and before any call (settings) unless
  the host is this machine or the user opted in.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import socketserver
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Final
from urllib.parse import quote, quote_plus

import pytest
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_polardb_reset import (
    ApiCallError,
    ConfigurationError,
    ErrorCode,
    PrivilegedAccountResetProvider,
    ResetError,
)
from pulumi_polardb_reset.cloud import _settings
from pulumi_polardb_reset.cloud._retry import LAST_ATTEMPT_SECONDS
from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.core import _scrub

CLUSTER, ACCOUNT = "pc-mysql00000001", "dbadmin"
PASSWORD: Final = "Prov!Secret77"
#: Seconds after which a test's create counts as hung (pytest-timeout fails it): a guard,
#: never a measure; what bounds a call is the budget the provider states for it.
HANG: Final = 180
HUGE_BYTES: Final = 300 * 1024 * 1024
CRED_ENV: Final = (
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_REGION",
    "ALIBABA_CLOUD_ENDPOINT_POLARDB",
    "ALICLOUD_ACCESS_KEY",
    "ALICLOUD_SECRET_KEY",
    "POLARDB_RESET_ALLOW_INSECURE_ENDPOINT",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CRED_ENV:
        monkeypatch.delenv(name, raising=False)


# -- a hostile HTTP server -------------------------------------------------------------------


class HostileServer:
    """A TCP server in a thread of this process that answers every request the same bad way.

    ``mode``: ``silent`` (reads the request, never answers), ``trickle-headers`` and
    ``trickle-body`` (one byte every ``interval`` seconds, forever), ``huge-body`` (a body
    of ``HUGE_BYTES`` without a length, as fast as the client reads), ``huge-declared`` (a
    ``Content-Length`` of ``HUGE_BYTES``), ``gzip-bomb`` (``HUGE_BYTES`` of spaces,
    gzip-compressed to about 300 KB). :meth:`stop` ends every connection.
    """

    MODES: ClassVar = (
        "silent",
        "trickle-headers",
        "trickle-body",
        "huge-body",
        "huge-declared",
        "gzip-bomb",
    )

    def __init__(self, mode: str, *, interval: float = 0.5) -> None:
        assert mode in self.MODES
        self.mode = mode
        self.interval = interval
        self.requests = 0
        self._stopped = threading.Event()
        self._bomb = _gzip_of_spaces(HUGE_BYTES) if mode == "gzip-bomb" else b""
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                try:
                    _read_request(conn)
                    outer.requests += 1
                    outer._answer(conn)
                except OSError:
                    pass  # the client went away: what a cut-off client does

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _trickle(self, conn: socket.socket, head: bytes) -> None:
        conn.sendall(head)
        while not self._stopped.wait(self.interval):
            conn.sendall(b"a" if self.mode == "trickle-headers" else b" ")

    def _answer(self, conn: socket.socket) -> None:
        json_head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        if self.mode == "silent":
            self._stopped.wait()
        elif self.mode == "trickle-headers":
            self._trickle(conn, b"HTTP/1.1 200 OK\r\nX-Trickle: ")
        elif self.mode == "trickle-body":
            self._trickle(conn, json_head + b"Content-Length: 1000000\r\n\r\n{")
        elif self.mode == "huge-declared":
            conn.sendall(json_head + f"Content-Length: {HUGE_BYTES}\r\n\r\n{{".encode())
            self._stopped.wait()
        elif self.mode == "huge-body":
            conn.sendall(json_head + b"Connection: close\r\n\r\n")
            chunk = b" " * 65536
            for _ in range(HUGE_BYTES // len(chunk)):
                if self._stopped.is_set():
                    return
                conn.sendall(chunk)
        else:  # gzip-bomb
            head = f"Content-Encoding: gzip\r\nContent-Length: {len(self._bomb)}\r\n\r\n"
            conn.sendall(json_head + head.encode() + self._bomb)

    def stop(self) -> None:
        """Stop serving and end every connection's loop."""
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()


def _read_request(conn: socket.socket) -> None:
    """Read one HTTP request (head and Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionResetError
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionResetError
        body += chunk


def _gzip_of_spaces(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    block = b" " * (1024 * 1024)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + compressor.flush()


@pytest.fixture
def hostile() -> Iterator[Callable[..., HostileServer]]:
    """Factory of hostile servers, all stopped after the test."""
    servers: list[HostileServer] = []

    def make(mode: str, **kwargs: Any) -> HostileServer:
        server = HostileServer(mode, **kwargs)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def configured(endpoint: str, **extra: str) -> PrivilegedAccountResetProvider:
    """A provider configured like the engine would, for ``endpoint``."""
    prov = PrivilegedAccountResetProvider()
    config = {
        "alicloud:accessKey": ACCESS_KEY_ID,
        "alicloud:secretKey": ACCESS_KEY_SECRET,
        "alicloud:region": "cn-hangzhou",
        "alicloud:endpoints": json.dumps([{"polardb": endpoint}]),
        **extra,
    }
    prov.configure(ConfigureRequest(Config(config, "polardb-reset")))
    return prov


def inputs(**overrides: Any) -> dict[str, Any]:
    """Checked inputs as the engine passes them to create/update."""
    base = {
        p.DB_CLUSTER_ID: CLUSTER,
        p.ACCOUNT_NAME: ACCOUNT,
        p.RESET_NONCE: "1",
        p.TIMEOUT_SECONDS: 3,
        p.CHECK_PRIVILEGES: False,
        "__provider": "blob",
    }
    return {**base, **overrides}


def create_outcome(
    prov: PrivilegedAccountResetProvider, props: dict[str, Any]
) -> BaseException | None:
    """Run ``create``; return its exception (None when it succeeded).

    No clock here: a provider without an overall deadline never returns from a trickling
    endpoint, and the test's ``timeout`` mark fails it; one that returns says in its error
    the budget it gave the call, checked against ``timeout_seconds`` by the tests.
    """
    try:
        prov.create(props)
    except Exception as exc:
        return exc
    return None


def stated_budget(message: str, pattern: str) -> float:
    """The seconds an error or warning says a call was given (``pattern`` has one group)."""
    found = re.search(pattern, message)
    assert found, f"no budget ({pattern}) in: {message}"
    return float(found.group(1))


#: What the transport says when a call outlives its budget.
CALL_BUDGET: Final = r"did not complete its answer within (\d+(?:\.\d+)?) s"


# -- finding 11: one deadline bounds every call ----------------------------------------------


@pytest.mark.timeout(HANG)
@pytest.mark.parametrize("mode", ["silent", "trickle-headers", "trickle-body", "huge-declared"])
def test_a_hostile_endpoint_cannot_outlast_timeout_seconds(
    hostile: Callable[..., HostileServer], mode: str
) -> None:
    server = hostile(mode)
    timeout = 3
    error = create_outcome(configured(server.url), inputs(timeout_seconds=timeout))
    assert isinstance(error, ApiCallError), error
    assert server.requests >= 1
    if mode == "huge-declared":
        assert error.code == ErrorCode.INVALID_RESPONSE
        assert "announced" in str(error)
    else:
        assert error.code == ErrorCode.ENDPOINT_UNREACHABLE
        # The whole exchange got the operation's budget, never a socket timeout's more.
        assert 0 < stated_budget(str(error), CALL_BUDGET) <= timeout
    assert f"Gave up after timeout_seconds={timeout}" in str(error)


def test_the_last_attempt_at_the_deadline_is_bounded_too(
    hostile: Callable[..., HostileServer],
) -> None:
    """timeout_seconds=1: the first attempt ends at the deadline, the last one shortly after."""
    server = hostile("trickle-body", interval=0.1)
    error = create_outcome(configured(server.url), inputs(timeout_seconds=1))
    assert isinstance(error, ApiCallError) and error.code == ErrorCode.ENDPOINT_UNREACHABLE
    # An attempt at the deadline gets LAST_ATTEMPT_SECONDS at most, whatever remains.
    assert 0 < stated_budget(str(error), CALL_BUDGET) <= 1 + LAST_ATTEMPT_SECONDS


@pytest.mark.timeout(HANG)
def test_the_privilege_check_after_a_reset_stays_within_the_deadline(
    emu: EmulatorProcess, hostile: Callable[..., HostileServer], caplog: pytest.LogCaptureFixture
) -> None:
    """The reset works; the SQL endpoint never greets: create still ends by the deadline."""
    server = hostile("silent")  # waits for a request; a MySQL client waits for a greeting
    sql_endpoint = server.url.removeprefix("http://")
    timeout = 3
    props = inputs(
        timeout_seconds=timeout,
        account_password=PASSWORD,
        check_privileges=True,
        sql_endpoint=sql_endpoint,
    )
    assert create_outcome(configured(emu.base_url), props) is None
    assert len(emu.resets()) == 1
    # The check got what the reset left of timeout_seconds, not its 30 s socket timeouts.
    [warning] = [r.getMessage() for r in caplog.records if "not checked" in r.getMessage()]
    check_budget = stated_budget(warning, r"did not complete the check within (\d+(?:\.\d+)?)s")
    assert 0 < check_budget <= timeout


_RSS_SCRIPT: Final = """
import json, os, resource, sys
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi_polardb_reset import PrivilegedAccountResetProvider, ResetError
import alibabacloud_polardb20170801.client, requests, urllib3  # imports are not the answer

endpoint, key_id, secret = sys.argv[1:4]
prov = PrivilegedAccountResetProvider()
prov.configure(ConfigureRequest(Config({
    "alicloud:accessKey": key_id, "alicloud:secretKey": secret,
    "alicloud:region": "cn-hangzhou",
    "alicloud:endpoints": json.dumps([{"polardb": endpoint}]),
}, "polardb-reset")))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
code = None
try:
    prov.create({"db_cluster_id": "pc-mysql00000001", "account_name": "dbadmin",
                 "timeout_seconds": 2, "check_privileges": False})
except ResetError as exc:
    code = exc.code
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_kib": before, "after_kib": after, "code": code}))
"""


@pytest.mark.parametrize("mode", ["huge-body", "gzip-bomb"])
def test_a_huge_answer_is_not_read_into_memory(
    hostile: Callable[..., HostileServer], mode: str
) -> None:
    """300 MB of body (or of gzip-decoded body): the provider's peak RSS grows < 64 MB."""
    server = hostile(mode)
    done = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, server.url, ACCESS_KEY_ID, ACCESS_KEY_SECRET],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    growth_mib = (figures["after_kib"] - figures["before_kib"]) / 1024
    assert figures["code"] == ErrorCode.INVALID_RESPONSE, done.stdout + done.stderr
    assert growth_mib < 64, f"{mode}: peak RSS grew by {growth_mib:.0f} MiB"


# -- finding 10: DEBUG=sdk and root DEBUG logging print no secret ----------------------------

_DEBUG_SCRIPT: Final = """
import json, logging, os, sys
logging.basicConfig(level=logging.DEBUG)
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi_polardb_reset import PrivilegedAccountResetProvider, ResetError

endpoint, key_id, secret, password = sys.argv[1:5]
prov = PrivilegedAccountResetProvider()
prov.configure(ConfigureRequest(Config({
    "alicloud:accessKey": key_id, "alicloud:secretKey": secret,
    "alicloud:region": "cn-hangzhou",
    "alicloud:endpoints": json.dumps([{"polardb": endpoint}]),
}, "polardb-reset")))
props = {"db_cluster_id": "pc-mysql00000001", "account_name": "dbadmin", "reset_nonce": "1",
         "account_password": password, "timeout_seconds": 30, "check_privileges": False}
outs = prov.create(props).outs
print("created", outs["reset_count"], flush=True)
"""


def test_debug_sdk_and_root_debug_logging_print_no_secret(emu: EmulatorProcess) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CRED_ENV}
    env["DEBUG"] = "sdk"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _DEBUG_SCRIPT,
            emu.base_url,
            ACCESS_KEY_ID,
            ACCESS_KEY_SECRET,
            PASSWORD,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "created 1" in output, output
    assert "ResetAccount" in json.dumps(emu.requests()) and "DEBUG" in output
    for secret in (PASSWORD, ACCESS_KEY_SECRET):
        for form in (secret, quote(secret, safe=""), quote_plus(secret)):
            assert form not in output, f"{form!r} printed:\n{output}"


@pytest.mark.parametrize(
    "logger",
    ["darabonba-core", "alibabacloud-tea", "urllib3.connectionpool", "credentials"],
)
def test_every_sdk_logger_is_scrubbed(logger: str, caplog: pytest.LogCaptureFixture) -> None:
    """What darabonba and Tea print with DEBUG=sdk, and urllib3 at DEBUG, loses its secrets."""
    _scrub.install()

    class Owner:
        pass

    owner = Owner()
    _scrub.register(owner, [PASSWORD, "sts-token-value-01"])
    encoded = quote(PASSWORD, safe="")
    request = (
        f"\n> POST /AccountName=dbadmin&AccountPassword={encoded}&Action=ResetAccount HTTP/1.1"
        "\n> x-acs-security-token : sts-token-value-01"
        "\n> authorization : ACS3-HMAC-SHA256 Credential=LTAI,Signature=abc"
        "\n> host : polardb.aliyuncs.com"
    )
    line = f'http://h:80 "POST /?AccountPassword={encoded}&x=1 HTTP/1.1" 200 41'
    with caplog.at_level(logging.DEBUG, logger=logger):
        logging.getLogger(logger).debug("%s", request)
        logging.getLogger(logger).debug(line)
        logging.getLogger(logger).debug("refreshed %s", PASSWORD)
    text = caplog.text
    assert "AccountName" not in text and "AccountPassword" not in text
    assert PASSWORD not in text and encoded not in text and "sts-token-value-01" not in text
    assert "host : polardb.aliyuncs.com" in text and "x-acs-security-token : ***" in text
    del owner  # its secrets are forgotten with it


# -- finding 12: no cleartext endpoint on another machine without an opt-in ------------------


REMOTE_HTTP: Final = (
    "http://10.0.0.5:8080",
    "http://polardb.example.com",
    "http://[2001:db8::1]:80",
    "http://0.0.0.0:18080",
)
LOOPBACK_HTTP: Final = (
    "http://127.0.0.1:18080",
    "http://127.1.2.3",
    "http://localhost:8080",
    "http://[::1]:8080",
    "http://[::ffff:127.0.0.1]:8080",
)


def _check_failures(prov: PrivilegedAccountResetProvider, endpoint: str) -> dict[str, str]:
    result = prov.check(
        {}, {p.DB_CLUSTER_ID: CLUSTER, p.ACCOUNT_NAME: ACCOUNT, p.ENDPOINT: endpoint}
    )
    return {f.property: f.reason for f in result.failures or []}


@pytest.mark.parametrize("endpoint", REMOTE_HTTP)
def test_check_refuses_plain_http_to_another_machine(endpoint: str) -> None:
    failures = _check_failures(configured("https://polardb.aliyuncs.com"), endpoint)
    assert list(failures) == [p.ENDPOINT]
    reason = failures[p.ENDPOINT]
    assert "cleartext" in reason and "polardbReset:allowInsecureEndpoint=true" in reason
    assert "POLARDB_RESET_ALLOW_INSECURE_ENDPOINT=true" in reason


@pytest.mark.parametrize(
    "endpoint", [*LOOPBACK_HTTP, "https://10.0.0.5:8443", "polardb.aliyuncs.com"]
)
def test_check_accepts_loopback_http_and_https(endpoint: str) -> None:
    assert _check_failures(configured("https://polardb.aliyuncs.com"), endpoint) == {}


def test_check_accepts_plain_http_with_the_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    opted = configured(
        "https://polardb.aliyuncs.com", **{"polardbReset:allowInsecureEndpoint": "true"}
    )
    assert _check_failures(opted, REMOTE_HTTP[0]) == {}
    plain = configured("https://polardb.aliyuncs.com")
    monkeypatch.setenv("POLARDB_RESET_ALLOW_INSECURE_ENDPOINT", "1")
    assert _check_failures(plain, REMOTE_HTTP[0]) == {}
    monkeypatch.setenv("POLARDB_RESET_ALLOW_INSECURE_ENDPOINT", "maybe")
    assert list(_check_failures(plain, REMOTE_HTTP[0])) == [p.ENDPOINT]


BASE_CONFIG: Final = {
    "alicloud:accessKey": ACCESS_KEY_ID,
    "alicloud:secretKey": ACCESS_KEY_SECRET,
    "alicloud:region": "cn-hangzhou",
}


@pytest.mark.parametrize(
    ("config", "env", "source"),
    [
        (
            {"alicloud:endpoints": '[{"polardb": "http://10.0.0.5:8080"}]'},
            {},
            "config alicloud:endpoints",
        ),
        (
            {},
            {"ALIBABA_CLOUD_ENDPOINT_POLARDB": "http://polardb.example.com"},
            "env ALIBABA_CLOUD_ENDPOINT_POLARDB",
        ),
    ],
)
def test_settings_refuse_plain_http_from_config_and_env(
    config: dict[str, str], env: dict[str, str], source: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        _settings.resolve({}, {**BASE_CONFIG, **config}, env)
    message = str(info.value)
    assert f"(from {source})" in message and "polardbReset:allowInsecureEndpoint" in message
    assert info.value.code == ErrorCode.INVALID_CONFIGURATION
    opted = _settings.resolve(
        {}, {**BASE_CONFIG, **config}, {**env, "POLARDB_RESET_ALLOW_INSECURE_ENDPOINT": "true"}
    )
    assert opted.protocol == "http"
    opted = _settings.resolve(
        {}, {**BASE_CONFIG, **config, "polardbReset:allowInsecureEndpoint": True}, env
    )
    assert opted.protocol == "http"


@pytest.mark.parametrize("endpoint", LOOPBACK_HTTP)
def test_settings_accept_loopback_http(endpoint: str) -> None:
    resolved = _settings.resolve({p.ENDPOINT: endpoint}, BASE_CONFIG, {})
    assert resolved.protocol == "http"


def test_a_malformed_opt_in_is_a_configuration_error() -> None:
    config = {**BASE_CONFIG, "polardbReset:allowInsecureEndpoint": "sure"}
    with pytest.raises(ConfigurationError, match="must be true or false"):
        _settings.resolve({p.ENDPOINT: "http://10.0.0.5"}, config, {})
    # Read only when it matters: an https endpoint does not trip over it.
    assert _settings.resolve({p.ENDPOINT: "https://10.0.0.5"}, config, {}).protocol == "https"
    assert "polardbReset:allowInsecureEndpoint" in _settings.CONFIG_KEYS


def test_create_refuses_plain_http_to_another_machine_before_any_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prov = configured("http://10.255.255.1:9")  # unroutable: a call would hang, not fail
    connects: list[object] = []
    real_connect = socket.socket.connect

    def witness(sock: socket.socket, address: Any) -> None:
        connects.append(address)
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", witness)
    with pytest.raises(ResetError) as info:
        prov.create(inputs())
    assert info.value.code == ErrorCode.INVALID_CONFIGURATION
    assert "config alicloud:endpoints" in str(info.value)
    assert connects == []  # refused before any connection, not after a timeout
