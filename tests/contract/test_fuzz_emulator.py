"""Fuzzing the emulator with hypothesis (issue 12, item 3).

Properties:

* **RPC endpoint** (``POST /`` over real HTTP, one emulator process for the module): for
  arbitrary query strings, headers, bodies, encodings, duplicated and missing keys,
  oversized values and broken signatures, the answer is always a JSON error with a 4xx
  status (a correctly signed request may also get its 200), never a 5xx, a hang or a dead
  server; and the request log stays valid (one well-formed, redacted entry per API request,
  matching the answer).
* **Raw HTTP** (bytes on a socket): whatever the request line, headers and body, the first
  answer is a JSON 4xx.
* **Seed and state loaders**: arbitrary YAML/JSON documents (text, bytes and mutations of a
  valid document) either load or fail with one line (``SeedError``/``StateError``, which the
  CLI prints before exiting 2); never another exception.

Every failing example the fuzzers found is kept below as a regression test
(``test_found_*``), and what each one was is listed in docs/emulator.md.

Runs are bounded for CI (about a minute in all). ``EMULATOR_FUZZ_PROFILE=long`` runs 25 times
as many examples per property (see docs/emulator.md, "Fuzzing").
"""

from __future__ import annotations

import copy
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import yaml
from emulator_harness import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    API_VERSION,
    DEFAULT_SEED,
    EmulatorProcess,
    sign_v1,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from polardb_emulator._auth import canonical_request_v3, signature_v3, string_to_sign_v3
from polardb_emulator._requestlog import REDACTED, UNAUTHENTICATED
from polardb_emulator._runner import ServeOptions, StartupError, prepare
from polardb_emulator._seed import SeedError, load_seed

# --- budgets ----------------------------------------------------------------------------

PROFILE = os.environ.get("EMULATOR_FUZZ_PROFILE", "ci")
if PROFILE not in ("ci", "long"):
    raise RuntimeError(f"EMULATOR_FUZZ_PROFILE must be ci or long, not {PROFILE!r}")
_SCALE = 25 if PROFILE == "long" else 1


def fuzz(examples: int) -> settings:
    """Hypothesis settings for one property: ``examples`` in CI, 25 times that when long.

    The rest is the suite's profile (tests/conftest.py): no deadline, since an example is
    an HTTP exchange whose time depends on the machine's load; a hang is caught by the
    socket timeouts instead.
    """
    return settings(
        max_examples=examples * _SCALE,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


#: Seconds an answer may take before the example counts as a hang.
ANSWER_TIMEOUT = 20.0

# --- the emulator under fuzz ------------------------------------------------------------

#: A key whose RAM policy allows reading one cluster: fuzzed requests signed with it go
#: through the RAM check with arbitrary cluster IDs, regions and actions.
LIMITED_ID, LIMITED_SECRET = "LTAI5tFuzzLimited01", "fuzz-limited-secret"
LIMITED_POLICY: dict[str, Any] = {
    "Version": "1",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["polardb:Describe*", "polardb:ResetAccount"],
            "Resource": "acs:polardb:*:*:dbcluster/pc-mysql00000001",
        },
        {"Effect": "Deny", "Action": "polardb:*Account*", "Resource": "acs:polardb:*:*:*/pc-m*2"},
    ],
}
FUZZ_SEED: dict[str, Any] = {
    **copy.deepcopy(DEFAULT_SEED),
    "access_keys": [
        *copy.deepcopy(DEFAULT_SEED["access_keys"]),
        {"id": LIMITED_ID, "secret": LIMITED_SECRET, "policy": LIMITED_POLICY},
    ],
    "settings": {"task_seconds": 0, "concurrent_tasks_per_cluster": 1},
}


@pytest.fixture(scope="module")
def fuzz_emu() -> Iterator[EmulatorProcess]:
    """One emulator process for the module; a crash shows as a dead server."""
    with EmulatorProcess(FUZZ_SEED, quiet=True) as process:
        yield process


# --- strategies: parameters, encodings, headers, bodies ----------------------------------

ACTIONS = [
    "ResetAccount",
    "DescribeAccounts",
    "DescribeDBClusterAttribute",
    "DescribeDBClusters",
    "DescribeDBClusterEndpoints",
    "CreateAccount",
    "DeleteAccount",
    "ModifyAccountPassword",
]
PARAM_NAMES = [
    "Action",
    "Version",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "Format",
    "RegionId",
    "SecurityToken",
    "DBClusterId",
    "AccountName",
    "AccountPassword",
    "NewAccountPassword",
    "AccountType",
    "AccountDescription",
    "AccountPrivilege",
    "DBName",
    "ClientToken",
    "PageSize",
    "PageNumber",
    "DBClusterIds",
    "DBType",
    "DBClusterStatus",
    "DBEndpointId",
]
INTERESTING = [
    "",
    " ",
    "pc-mysql00000001",
    "pc-mysql00000002",
    "pc-pgsql00000001",
    "pc-maint0000001",
    "pc-nothere",
    "PC-MYSQL00000001",
    "dbadmin",
    "app_rw",
    "root",
    "Adm1n!pass",
    "N3w!Passw0rd",
    "Super",
    "Normal",
    "ReadOnly",
    "cn-hangzhou",
    "MySQL",
    "30",
    "100",
    "0",
    "-1",
    "+1",
    "²",
    "1" * 11,
    "9" * 4301,
    "2147483648",
    "HMAC-SHA1",
    "1.0",
    API_VERSION,
    "2017-08-02",
    "JSON",
    "\x00",
    "\r\n",
    "%",
    "%zz",
    "\ud800",
    "💥",
    "a=b&c=d",
    *ACTIONS,
]
TEXT = st.text(max_size=40)
VALUES = st.one_of(
    st.sampled_from(INTERESTING),
    TEXT,
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    # Oversized: past the log's cuts, the header limit and (in bodies) the body limit.
    st.integers(min_value=65, max_value=300_000).map(lambda n: "A" * n),
)
NAMES = st.one_of(st.sampled_from(PARAM_NAMES), TEXT)
PAIRS = st.lists(st.tuples(NAMES, VALUES), max_size=12)

#: How a query string or form body is encoded.
ENCODINGS = ("utf-8", "plus", "latin-1", "loose")


def encode_pairs(pairs: list[tuple[str, str]], encoding: str) -> str:
    """``pairs`` as a query string: percent-encoded UTF-8 (``%20`` or ``+``), Latin-1 bytes
    (invalid UTF-8), or loose (only what HTTP forbids escaped: ``&``, ``=``, ``%`` raw)."""

    def one(text: str) -> str:
        raw = text.encode("utf-8", "surrogatepass")
        if encoding == "plus":
            return quote_plus(raw, safe="")
        if encoding == "latin-1":
            return quote(text.encode("latin-1", "replace"), safe="")
        if encoding == "loose":
            return quote(raw, safe="&=%+/:;,!$'()*@?")
        return quote(raw, safe="")

    return "&".join(f"{one(k)}={one(v)}" for k, v in pairs)


CONTENT_TYPES = st.sampled_from(
    [
        None,
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/json",
        "multipart/form-data; boundary=x",
        "text/plain",
        "",
        ";;;",
        "application/x-www-form-urlencoded\x7f",
    ]
)
HEADER_NAMES = st.one_of(
    st.sampled_from(
        [
            "x-acs-action",
            "x-acs-version",
            "x-acs-date",
            "x-acs-signature-nonce",
            "x-acs-content-sha256",
            "x-acs-security-token",
            "x-acs-accesskey-id",
            "Authorization",
            "Content-Type",
            "Content-Encoding",
            "Transfer-Encoding",
            "Expect",
            "Host",
            "Origin",
            "Connection",
        ]
    ),
    st.from_regex(r"\A[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}\Z"),
)
HEADER_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            "ResetAccount",
            API_VERSION,
            "ACS3-HMAC-SHA256",
            "ACS3-HMAC-SHA256 Credential=,SignedHeaders=,Signature=",
            f"ACS3-HMAC-SHA256 Credential={ACCESS_KEY_ID},SignedHeaders=host,Signature=00",
            "ACS3-HMAC-SHA1 Credential=x",
            "Basic Zm9vOmJhcg==",
            "gzip",
            "chunked",
            "100-continue",
            "2999-01-01T00:00:00Z",
            "not a date",
        ]
    ),
    # Latin-1 without CR/LF: what an HTTP header can carry.
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60),
    st.integers(min_value=100, max_value=9000).map(lambda n: "h" * n),
)
HEADERS = st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=8)
BODIES = st.one_of(
    st.just(b""),
    st.binary(max_size=200),
    PAIRS.map(lambda p: encode_pairs(p, "utf-8").encode()),
    st.integers(min_value=1000, max_value=300_000).map(lambda n: b"A=" + b"x" * n),
)
#: How the request is signed: not at all, correctly (V3 or V1), or correctly and then broken.
SIGNING = st.sampled_from(["none", "v3", "v1", "v3-limited", "v3-broken", "v1-broken"])
BREAKS = st.sampled_from(["signature", "param", "body", "header", "date", "key"])


# --- building and sending one request ---------------------------------------------------


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _sign_v3_request(
    host: str,
    pairs: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes,
    key: tuple[str, str] = (ACCESS_KEY_ID, ACCESS_KEY_SECRET),
) -> list[tuple[str, str]]:
    """``headers`` plus a correct V3 signature over everything sent (the emulator's own
    canonical form: this fuzzes robustness, not the verifier)."""
    out = [(k.lower(), v) for k, v in headers if not k.lower().startswith("x-acs-")]
    out = [(k, v) for k, v in out if k not in ("authorization", "host")]
    action = next((v for k, v in pairs if k == "Action"), "DescribeAccounts")
    out += [
        ("host", host),
        ("x-acs-action", action),
        ("x-acs-version", API_VERSION),
        ("x-acs-date", _now()),
        ("x-acs-signature-nonce", uuid.uuid4().hex),
        ("x-acs-content-sha256", hashlib.sha256(body).hexdigest()),
    ]
    grouped: dict[str, list[str]] = {}
    for k, v in out:
        grouped.setdefault(k, []).append(v)
    signed = sorted(grouped)
    canonical = canonical_request_v3(
        "POST", "/", pairs, grouped, signed, hashlib.sha256(body).hexdigest()
    )
    signature = signature_v3(key[1], string_to_sign_v3(canonical))
    out.append(
        (
            "authorization",
            f"ACS3-HMAC-SHA256 Credential={key[0]},SignedHeaders={';'.join(signed)},"
            f"Signature={signature}",
        )
    )
    return out


def _v1_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``pairs`` with the V1 common parameters (once each) and a correct signature."""
    common = {
        "Action": next((v for k, v in pairs if k == "Action"), "DescribeAccounts"),
        "Version": API_VERSION,
        "AccessKeyId": ACCESS_KEY_ID,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": _now(),
    }
    rest = [(k, v) for k, v in pairs if k not in common and k != "Signature"]
    # sign_v1 takes a dict: keep one value per name so that it signs what is sent.
    params = dict([*rest, *common.items()])
    params["Signature"] = sign_v1(ACCESS_KEY_SECRET, params)
    return list(params.items())


def _break(
    how: str, pairs: list[tuple[str, str]], headers: list[tuple[str, str]], body: bytes
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], bytes]:
    """One change after signing that must make the signature fail."""
    if how == "signature":
        headers = [
            (k, v[:-2] + ("00" if not v.endswith("00") else "11"))
            if k == "authorization"
            else (k, v)
            for k, v in headers
        ]
        pairs = [
            (k, v[:-2] + ("AA" if not v.endswith("AA") else "BB")) if k == "Signature" else (k, v)
            for k, v in pairs
        ]
    elif how == "param":
        pairs = [*pairs, ("DBClusterId", "pc-mysql00000002")]
    elif how == "body":
        # As a form body: V3 covers it through its hash, V1 as parameters.
        body = body + b"&AccountName=intruder"
        headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
        headers.append(("content-type", "application/x-www-form-urlencoded"))
    elif how == "header":
        headers = [(k, v) for k, v in headers if k != "x-acs-date"]
        pairs = [(k, v) for k, v in pairs if k != "Timestamp"]
    elif how == "date":
        headers = [(k, "2001-01-01T00:00:00Z" if k == "x-acs-date" else v) for k, v in headers]
        pairs = [(k, "2001-01-01T00:00:00Z" if k == "Timestamp" else v) for k, v in pairs]
    else:  # key
        headers = [
            (k, v.replace(ACCESS_KEY_ID, "LTAI5tUnknownKey99")) if k == "authorization" else (k, v)
            for k, v in headers
        ]
        pairs = [(k, "LTAI5tUnknownKey99" if k == "AccessKeyId" else v) for k, v in pairs]
    return pairs, headers, body


#: Status :func:`send` reports when the server closed the connection while a large body
#: was still being sent (it answered early, e.g. a 400 for a header; the kernel may then
#: discard that answer): accepted for bodies larger than the socket buffers only.
CLOSED_EARLY = 0


def send(
    endpoint: str,
    *,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    host: bool = True,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection with exactly these headers (duplicates kept, no Host
    when ``host`` is false); status, headers and body of the answer (or
    :data:`CLOSED_EARLY`). A hang raises TimeoutError."""
    lines = [f"{method} {target} HTTP/1.1"]
    if host:
        lines.append(f"Host: {endpoint}")
    lines += [f"{k}: {v}" for k, v in headers]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + body
    name, port = endpoint.rsplit(":", 1)
    with socket.create_connection((name, int(port)), timeout=ANSWER_TIMEOUT) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            if len(body) < 256 * 1024:
                raise
        try:
            response = http.client.HTTPResponse(sock, method=method)
            response.begin()
            return response.status, dict(response.getheaders()), response.read()
        except (ConnectionResetError, http.client.RemoteDisconnected):
            if len(body) < 256 * 1024:
                raise
            return CLOSED_EARLY, {}, b""


def _build(
    endpoint: str,
    signing: str,
    breaking: str,
    pairs: list[tuple[str, str]],
    encoding: str,
    headers: list[tuple[str, str]],
    content_type: str | None,
    body: bytes,
) -> tuple[str, list[tuple[str, str]], bytes, bool]:
    """Target, headers, body and whether the signature is meant to verify."""
    headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "host")]
    # Chunked or compressed framing is for the raw fuzzer: here the body is plain.
    headers = [
        (k, v)
        for k, v in headers
        if k.lower() not in ("transfer-encoding", "content-encoding", "expect")
    ]
    if content_type is not None:
        headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
        headers.append(("content-type", content_type))
    valid = False
    if signing.startswith("v3"):
        # Signed requests keep to what signs unambiguously: UTF-8 parameters.
        encoding = "utf-8"
        pairs = [(k, v.encode("utf-8", "replace").decode()) for k, v in pairs]
        if body and content_type == "application/x-www-form-urlencoded":
            body = b""  # V3 covers a form body only through its hash: keep parameters in the query
        key = (LIMITED_ID, LIMITED_SECRET) if signing == "v3-limited" else None
        headers = _sign_v3_request(endpoint, pairs, headers, body, *([key] if key else []))
        valid = True
    elif signing.startswith("v1"):
        encoding = "utf-8"
        pairs = _v1_pairs([(k, v.encode("utf-8", "replace").decode()) for k, v in pairs])
        headers = [(k, v) for k, v in headers if k.lower() != "authorization"]
        if content_type == "application/x-www-form-urlencoded":
            body = b""  # V1 would sign a form body's parameters too: keep them all in the query
        valid = True
    if signing.endswith("broken"):
        pairs, headers, body = _break(breaking, pairs, headers, body)
        valid = False
    target = "/?" + encode_pairs(pairs, encoding) if pairs else "/"
    return target, headers, body, valid


def check_answer(status: int, headers: dict[str, str], raw: bytes, *, may_succeed: bool) -> Any:
    """A JSON error with a 4xx status (or a success, when the request was validly signed)."""
    assert status < 500, (status, raw[:300])
    assert headers.get("Content-Type", "").startswith("application/json"), (status, headers)
    document = json.loads(raw)
    if status == 200:
        assert may_succeed, document
        assert isinstance(document.get("RequestId"), str)
        return document
    assert 400 <= status < 500, status
    assert set(document) >= {"RequestId", "Code", "Message"}, document
    assert all(isinstance(document[k], str) and document[k] for k in ("Code", "Message"))
    return document


def check_log(emu: EmulatorProcess, status: int, document: Any) -> None:
    """The request log is readable, bounded and redacted, and agrees with the answer."""
    entries = emu.requests()
    assert len(entries) <= 1, entries
    for entry in entries:
        assert set(entry) >= {
            "seq",
            "time",
            "action",
            "params",
            "status",
            "code",
            "request_id",
            "signature",
            "access_key_id",
        }, entry
        assert isinstance(entry["params"], dict)
        assert entry["status"] == status
        if status != 200:  # a CreateAccount replayed by ClientToken answers the first ID
            assert entry["request_id"] == document.get("RequestId")
        assert entry["code"] == (None if status == 200 else document["Code"])
        for field in ("action", "access_key_id"):
            assert entry[field] is None or len(entry[field]) <= 67
        if entry.get("signature") is None:
            assert len(entry["params"]) <= UNAUTHENTICATED.keys
        for key, value in entry["params"].items():
            assert isinstance(key, str) and isinstance(value, str)
            if any(m in key.lower() for m in ("password", "secret", "token", "signature")):
                assert value == REDACTED, entry


@fuzz(examples=800)
@given(
    signing=SIGNING,
    breaking=BREAKS,
    pairs=PAIRS,
    action=st.one_of(st.sampled_from(ACTIONS), TEXT),
    encoding=st.sampled_from(ENCODINGS),
    headers=HEADERS,
    content_type=CONTENT_TYPES,
    body=BODIES,
    method=st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "OPTIONS", "HEAD", "PATCH"]),
    host=st.booleans(),
)
def test_rpc_endpoint_answers_every_request_with_json_and_logs_it_validly(
    fuzz_emu: EmulatorProcess,
    signing: str,
    breaking: str,
    pairs: list[tuple[str, str]],
    action: str,
    encoding: str,
    headers: list[tuple[str, str]],
    content_type: str | None,
    body: bytes,
    method: str,
    host: bool,
) -> None:
    if signing != "none":
        method, host = "POST", True
        # The action also travels in the x-acs-action header, which cannot hold CR or LF.
        action = action.replace("\r", " ").replace("\n", " ")
        pairs = [("Action", action), *[(k, v) for k, v in pairs if k != "Action"]]
    fuzz_emu.clear_requests()
    target, headers, body, valid = _build(
        fuzz_emu.endpoint, signing, breaking, pairs, encoding, headers, content_type, body
    )
    status, answer_headers, raw = send(
        fuzz_emu.endpoint, method=method, target=target, headers=headers, body=body, host=host
    )
    if status == CLOSED_EARLY:
        assert fuzz_emu.state()["clusters"]  # alive: it only stopped reading a large body
        return
    if method == "HEAD":
        assert 400 <= status < 500 and not raw, status
        return
    document = check_answer(status, answer_headers, raw, may_succeed=valid)
    check_log(fuzz_emu, status, document)
    if status == 200 and action not in ("DescribeAccounts", "DescribeDBClusters"):
        fuzz_emu.reset()  # writes change the model: start the next example from the seed


# --- raw HTTP ----------------------------------------------------------------------------

RAW_METHODS = st.one_of(
    st.sampled_from([b"POST", b"GET", b"PUT", b"DELETE", b"PRI", b"CONNECT", b"post", b""]),
    st.binary(min_size=1, max_size=10).filter(lambda b: b" " not in b and b"\r" not in b),
)
RAW_TARGETS = st.one_of(
    st.sampled_from([b"/", b"/?Action=ResetAccount", b"*", b"http://x/", b"//", b"/%zz", b""]),
    st.binary(max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b),
).filter(lambda t: not t.lstrip(b"/").startswith(b"_emulator"))
RAW_VERSIONS = st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1x", b"", b"ICE/1"])
RAW_HEADER_LINES = st.lists(
    st.one_of(
        st.sampled_from(
            [
                b"Content-Length: 0",
                b"Content-Length: 5",
                b"Content-Length: -1",
                b"Content-Length: 99999999999999999999",
                b"Content-Length: 1, 2",
                b"Content-Length: abc",
                b"Transfer-Encoding: chunked",
                b"Transfer-Encoding: gzip, chunked",
                b"Transfer-Encoding: identity",
                b"Content-Encoding: gzip",
                b"Content-Type: application/x-www-form-urlencoded",
                b"Expect: 100-continue",
                b"Host: 127.0.0.1",
                b"Host:",
                b"Connection: keep-alive",
                b"Connection: upgrade",
                b"Upgrade: websocket",
                b" folded",
                b":",
                b"NoColon",
                b"X: " + b"v" * 9000,
            ]
        ),
        st.binary(max_size=60).filter(lambda b: b"\r" not in b and b"\n" not in b),
    ),
    max_size=6,
)
RAW_BODIES = st.one_of(
    st.just(b""),
    st.binary(max_size=100),
    st.sampled_from([b"5\r\nhello\r\n0\r\n\r\n", b"zz\r\n", b"0\r\n\r\n", b"\x1f\x8b\x08\x00"]),
)


def raw_exchange(endpoint: str, data: bytes) -> bytes:
    """Send ``data``, close the sending side, read the answer until the server closes."""
    name, port = endpoint.rsplit(":", 1)
    chunks = []
    with socket.create_connection((name, int(port)), timeout=ANSWER_TIMEOUT) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def first_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the first HTTP response in ``raw``."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(rest)))
    return status, headers, rest[:length]


@fuzz(examples=400)
@given(
    method=RAW_METHODS,
    target=RAW_TARGETS,
    version=RAW_VERSIONS,
    lines=RAW_HEADER_LINES,
    body=RAW_BODIES,
)
def test_raw_http_gets_a_json_4xx_whatever_the_bytes(
    fuzz_emu: EmulatorProcess,
    method: bytes,
    target: bytes,
    version: bytes,
    lines: list[bytes],
    body: bytes,
) -> None:
    request = b" ".join(p for p in (method, target, version) if p) + b"\r\n"
    request += b"".join(line + b"\r\n" for line in lines) + b"\r\n" + body
    answer = raw_exchange(fuzz_emu.endpoint, request)
    # An exchange the server cannot even start answering (an empty request line after EOF)
    # may end without a byte; anything it answers is the documented JSON 4xx.
    assume(answer)
    status, headers, payload = first_response(answer)
    assert 400 <= status < 500, answer[:400]
    assert headers.get("content-type", "").startswith("application/json"), answer[:400]
    document = json.loads(payload)
    assert isinstance(document, dict) and ("Code" in document or "error" in document), document


def test_after_the_fuzzing_the_server_is_alive_and_its_log_readable(
    fuzz_emu: EmulatorProcess,
) -> None:
    fuzz_emu.reset()
    assert fuzz_emu.requests() == []
    assert fuzz_emu.state()["clusters"]
    assert "Traceback" not in fuzz_emu.stderr_text()


# --- seed and state loaders --------------------------------------------------------------

VALID_SEED: dict[str, Any] = copy.deepcopy(DEFAULT_SEED)
MYSQL_ID = "pc-mysql00000001"
JSONISH = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=20),
        st.sampled_from(["MySQL", "Super", "Running", "pc-abc", "Adm1n!pass", "memory"]),
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.one_of(st.text(max_size=12), st.integers()), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for i, value in enumerate(document):
            found += _paths(value, (*prefix, i))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """``base`` with a few values replaced, keys removed or added (structure-aware)."""
    document = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths))
        if not path:
            document = draw(JSONISH) if draw(st.booleans()) else document
            continue
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        how = draw(st.sampled_from(["replace", "delete", "add"]))
        if how == "delete":
            del parent[path[-1]]
        elif how == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(JSONISH)
        elif how == "add" and isinstance(parent, list):
            parent.append(draw(JSONISH))
        else:
            parent[path[-1]] = draw(JSONISH)
    return document


def _dump(document: Any, form: str) -> bytes:
    if form == "json":
        return json.dumps(document, allow_nan=True).encode()
    return yaml.safe_dump(document, allow_unicode=True).encode()


YAML_SNIPPETS = st.sampled_from(
    [
        "access_keys: [{id: a, secret: b}]\nsettings: {task_seconds: 2001-13-14}",
        "access_keys: [{id: a, secret: b}]\nsettings: {task_seconds: !!timestamp x}",
        "access_keys: [{id: a, secret: b}]\nsettings: {task_seconds: !!float x}",
        "access_keys: [{id: a, secret: b}]\nsettings: {task_seconds: .nan}",
        "access_keys: [{id: a, secret: b}]\nsettings: {task_seconds: .inf}",
        "access_keys: [{id: a, secret: b}]\nsettings: {task_seconds: 1e400}",
        "access_keys: [{id: a, secret: b}]\nclusters: &c [*c]",
        "[" * 3000,
        "{a: " * 3000,
        "? [a]\n: b",
        "access_keys: [{id: a, secret: b}]\n'unknown\nkey': 1",
        "!!python/object:os.system ls",
        "\ufeffaccess_keys: []",
        "%YAML 9.9\n---\na: 1",
        "a: *nowhere",
    ]
)
SEED_TEXTS = st.one_of(
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=200),
    YAML_SNIPPETS.map(str.encode),
    st.tuples(mutated(VALID_SEED), st.sampled_from(["yaml", "json"])).map(lambda t: _dump(*t)),
)


def _one_line(message: str) -> None:
    assert message and "\n" not in message and "\r" not in message, repr(message)


def assert_seed_loads_or_fails_in_one_line(path: Path) -> None:
    try:
        load_seed(path)
    except SeedError as exc:
        _one_line(str(exc))
    try:
        # memory: a fuzzed settings.backend must not start MariaDB servers
        prepared = prepare(ServeOptions(seed_path=path, backend="memory"))
    except StartupError as exc:
        assert exc.exit_code == 2
        _one_line(str(exc))
    else:
        prepared.close()


@fuzz(examples=400)
@given(content=SEED_TEXTS)
def test_seed_loader_loads_or_fails_in_one_line(tmp_path_factory: Any, content: bytes) -> None:
    path = tmp_path_factory.mktemp("seed") / "seed.yaml"
    path.write_bytes(content)
    assert_seed_loads_or_fails_in_one_line(path)


def _valid_state(tmp: Path) -> dict[str, Any]:
    """A state document as the emulator writes it (a reset in flight, held)."""
    seed = tmp / "seed.yaml"
    seed.write_text(yaml.safe_dump(VALID_SEED))
    state = tmp / "state.json"
    prepared = prepare(ServeOptions(seed_path=seed, state_path=state))
    try:
        prepared.emulator.model.scheduler.hold()
        prepared.emulator.model.service.reset_account("pc-mysql00000001", "dbadmin", "N3w!Passw0rd")
        prepared.emulator.persist()
    finally:
        prepared.close()
    document: dict[str, Any] = json.loads(state.read_text())
    return document


@pytest.fixture(scope="module")
def valid_state(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _valid_state(tmp_path_factory.mktemp("valid-state"))


def assert_state_loads_or_fails_in_one_line(seed: Path, path: Path) -> None:
    try:
        prepared = prepare(ServeOptions(seed_path=seed, state_path=path))
    except StartupError as exc:
        assert exc.exit_code == 2, exc
        _one_line(str(exc))
        assert str(exc).startswith("state error: "), exc
    else:
        prepared.close()


@fuzz(examples=300)
@given(data=st.data())
def test_state_loader_loads_or_fails_in_one_line(
    tmp_path_factory: Any, valid_state: dict[str, Any], data: st.DataObject
) -> None:
    tmp = tmp_path_factory.mktemp("state")
    seed = tmp / "seed.yaml"
    seed.write_text(yaml.safe_dump(VALID_SEED))
    content = data.draw(
        st.one_of(
            st.binary(max_size=100),
            st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
            mutated(valid_state).map(lambda d: json.dumps(d, allow_nan=True).encode()),
            st.sampled_from([b"[" * 100_000, b'{"format": 2, "clusters": [' + b"[" * 50_000]),
        )
    )
    path = tmp / "state.json"
    path.write_bytes(content)
    assert_state_loads_or_fails_in_one_line(seed, path)


def test_cli_exits_2_with_one_line_for_a_bad_seed_and_a_bad_state(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_bytes(b"\xff\xfe not utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "polardb_emulator", "serve", "--seed", str(seed)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == "", done
    assert len(done.stderr.splitlines()) == 1, done.stderr
    seed.write_text(yaml.safe_dump(VALID_SEED))
    state = tmp_path / "state.json"
    state.write_text('{"format": 2, "clusters": [{"id": 1}]}')
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "polardb_emulator",
            "serve",
            "--seed",
            str(seed),
            "--state",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == "", done
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("state error:"), done


# --- the admin API's policy endpoint -------------------------------------------------------


def _admin_put_raw(emu: EmulatorProcess, key: str, body: bytes) -> tuple[int, Any]:
    status, _, raw = send(
        emu.endpoint,
        method="PUT",
        target=f"/_emulator/access-keys/{quote(key, safe='')}/policy",
        headers=[("Content-Type", "application/json")],
        body=body,
    )
    return status, json.loads(raw)


@fuzz(examples=150)
@given(
    document=st.one_of(JSONISH, mutated(LIMITED_POLICY)),
    key=st.one_of(st.just(LIMITED_ID), TEXT.filter(lambda k: k != LIMITED_ID)),
)
def test_admin_policy_endpoint_takes_a_policy_or_says_400_or_404(
    fuzz_emu: EmulatorProcess, document: Any, key: str
) -> None:
    status, answer = _admin_put_raw(fuzz_emu, key, json.dumps(document).encode())
    assert status in (200, 400, 404), (status, answer)
    policies = {k["id"]: k["policy"] for k in fuzz_emu.access_keys()}
    if status == 200:
        assert answer == {"id": key, "policy": document}
        assert policies[LIMITED_ID] == document
        fuzz_emu.set_policy(LIMITED_ID, LIMITED_POLICY)
    else:
        assert isinstance(answer.get("error"), str) and "\n" not in answer["error"], answer
        assert policies[LIMITED_ID] == LIMITED_POLICY  # a refused policy changes nothing


# --- what the fuzzers found: each example failed before its fix ----------------------------

#: Seed files the loader died on with a traceback (before: exit 1 and a Python traceback).
SEED_FINDINGS = {
    "not-utf8-UnicodeDecodeError": b"\x80",
    "nested-RecursionError": b"[" * 3000,
    "timestamp-tag-without-date-AttributeError": b"(: {(: !!timestamp }",
    "date-of-year-0-ValueError": b"(: {(: 0000-00-00}",
}


@pytest.mark.parametrize("content", SEED_FINDINGS.values(), ids=SEED_FINDINGS.keys())
def test_found_seed_files_fail_in_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "seed.yaml"
    path.write_bytes(content)
    assert_seed_loads_or_fails_in_one_line(path)
    with pytest.raises(SeedError):
        load_seed(path)


def test_found_seed_errors_are_one_line_whatever_the_key(tmp_path: Path) -> None:
    # Written with the fuzzer's snippets: an unknown key holding a newline printed two lines.
    path = tmp_path / "seed.yaml"
    path.write_text('access_keys: [{id: a, secret: b}]\n"unknown\\nkey\\x1b[31m": 1\n')
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    assert str(caught.value) == "unknown\\x0akey\\x1b[31m: unknown key"


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_found_non_finite_task_seconds_are_refused(tmp_path: Path, value: str) -> None:
    # Written with the fuzzer's snippets: NaN passed `seconds < 0` and tasks never ended.
    path = tmp_path / "seed.yaml"
    path.write_text(f"access_keys: [{{id: a, secret: b}}]\nsettings: {{task_seconds: {value}}}\n")
    with pytest.raises(SeedError, match="task_seconds: must be a finite number >= 0"):
        load_seed(path)


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def mutate(document: Any) -> None:
        for step in path[:-1]:
            document = document[step]
        document[path[-1]] = value

    return mutate


def _delete(path: tuple[Any, ...]) -> Any:
    def mutate(document: Any) -> None:
        for step in path[:-1]:
            document = document[step]
        del document[path[-1]]

    return mutate


#: Changes to a state file the loader died on with a traceback (TypeError, KeyError,
#: AttributeError from the model); now each is one line naming the key.
STATE_FINDINGS = {
    "user-record-null-TypeError": (
        _set(("clusters", 1, "database", "users", "polar_super"), None),
        "clusters[1].database.users.polar_super: must be a mapping",
    ),
    "database-a-list-AttributeError": (
        _set(("clusters", 0, "database"), []),
        "clusters[0].database: must be a mapping",
    ),
    "cluster-null-TypeError": (_set(("clusters", 0), None), "clusters[0]: must be a mapping"),
    "no-db-type-KeyError": (
        _delete(("clusters", 0, "db_type")),
        "clusters[0].db_type: is required",
    ),
    "no-password-hash-KeyError": (
        _delete(("clusters", 0, "database", "users", "dbadmin", "password_hash")),
        "clusters[0].database.users.dbadmin.password_hash: is required",
    ),
    "no-created-TypeError": (
        _delete(("clusters", 0, "created")),
        "clusters[0].created: is required",
    ),
    "account-without-type-TypeError": (
        _delete(("clusters", 0, "accounts", 0, "type")),
        "clusters[0].accounts[0].type: is required",
    ),
    "no-accounts-KeyError": (
        _delete(("clusters", 0, "accounts")),
        "clusters[0].accounts: is required",
    ),
}


@pytest.mark.parametrize(("mutate", "message"), STATE_FINDINGS.values(), ids=STATE_FINDINGS.keys())
def test_found_state_files_fail_in_one_line_naming_the_key(
    tmp_path: Path, valid_state: dict[str, Any], mutate: Any, message: str
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump(VALID_SEED))
    document = copy.deepcopy(valid_state)
    mutate(document)
    path = tmp_path / "state.json"
    path.write_text(json.dumps(document))
    with pytest.raises(StartupError) as caught:
        prepare(ServeOptions(seed_path=seed, state_path=path))
    assert caught.value.exit_code == 2
    assert str(caught.value) == f"state error: state file {path}: {message}"


def test_found_a_huge_iteration_count_in_a_state_file_is_no_hang(
    tmp_path: Path, valid_state: dict[str, Any]
) -> None:
    # Found reviewing what the state checks cannot see: a stored hash asking for 10**12
    # PBKDF2 iterations hung every password check of that account.
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump(VALID_SEED))
    document = copy.deepcopy(valid_state)
    user = document["clusters"][0]["database"]["users"]["dbadmin"]
    user["password_hash"] = "pbkdf2_sha256$1000000000000$c2FsdA==$ZGlnZXN0"
    path = tmp_path / "state.json"
    path.write_text(json.dumps(document))
    prepared = prepare(ServeOptions(seed_path=seed, state_path=path))
    try:
        assert not prepared.emulator.model.admin.verify_password(MYSQL_ID, "dbadmin", "Adm1n!pass")
    finally:
        prepared.close()


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /?Action=DescribeAccounts&Version=2017-08-01 HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab",
        b"POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\nabc",
        b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
    ],
    ids=["complete", "body-cut-short", "http-1.0-body-cut-short", "expect-100-continue"],
)
def test_found_a_client_that_half_closes_gets_its_answer(
    fuzz_emu: EmulatorProcess, request_bytes: bytes
) -> None:
    # Found by the raw-HTTP fuzzer: half its examples got no answer at all. A client that
    # closes its sending side after the request (shutdown(SHUT_WR), `nc -N`) had the
    # connection closed under it, its answer unsent (and a body cut short was a 500 in
    # the log). Now it gets its JSON 4xx; a body that can no longer arrive is a 400 at
    # once, not a 408 after the client timeout.
    status, headers, payload = first_response(raw_exchange(fuzz_emu.endpoint, request_bytes))
    assert 400 <= status < 500 and status != 408
    assert headers["content-type"].startswith("application/json")
    assert json.loads(payload)["Code"] in ("IncompleteSignature", "MalformedRequest")


def test_found_reset_after_a_state_file_of_another_seed(
    tmp_path: Path, valid_state: dict[str, Any]
) -> None:
    # Found reviewing what the state checks cannot see: a state file without one of the
    # seed's clusters loaded, but POST /_emulator/reset then died on a KeyError (500).
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump(VALID_SEED))
    document = copy.deepcopy(valid_state)
    document["clusters"] = [c for c in document["clusters"] if c["id"] != MYSQL_ID]
    document["tasks"] = []
    path = tmp_path / "state.json"
    path.write_text(json.dumps(document))
    prepared = prepare(ServeOptions(seed_path=seed, state_path=path))
    try:
        model = prepared.emulator.model
        assert MYSQL_ID not in model.clusters
        prepared.emulator.reset()
        assert MYSQL_ID in model.clusters
        assert model.admin.verify_password(MYSQL_ID, "dbadmin", "Adm1n!pass")
    finally:
        prepared.close()


def test_a_format_1_state_file_still_passes_the_checks(
    tmp_path: Path, valid_state: dict[str, Any]
) -> None:
    # Format 1 (before the account backends) kept the hashes inside the accounts.
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump(VALID_SEED))
    document = copy.deepcopy(valid_state)
    document["format"] = 1
    del document["backend"], document["tasks_held"]
    for cluster in document["clusters"]:
        users = cluster.pop("database")["users"]
        for account in cluster["accounts"]:
            account.update(users[account["name"]])
    for task in document["tasks"]:
        del task["credential"]
    path = tmp_path / "state.json"
    path.write_text(json.dumps(document))
    prepared = prepare(ServeOptions(seed_path=seed, state_path=path))
    try:
        assert prepared.emulator.model.admin.verify_password(
            "pc-mysql00000002", "polar_super", "Sup3r!pass"
        )
    finally:
        prepared.close()
