"""Test constants and helpers around :mod:`polardb_emulator.testing`.

The launcher (``EmulatorProcess``) and its admin helpers live in the package,
for users' own tests; this module re-exports them and keeps what only this
repository's tests need: DEFAULT_SEED and its keys and passwords, and an
independent V3 signer for hand-crafted requests.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import hmac
import json
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import pytest

from polardb_emulator import testing
from polardb_emulator.testing import EmulatorError, EmulatorProcess, EmulatorThread

ACCESS_KEY_ID = "LTAI5tEmulatorKey01"
ACCESS_KEY_SECRET = "emulator-secret-01"
STS_KEY_ID = "STS.EmulatorKey02"
STS_KEY_SECRET = "emulator-secret-02"
STS_TOKEN = "emulator-sts-token"
API_VERSION = "2017-08-01"

DEFAULT_SEED: dict[str, Any] = {
    "access_keys": [
        {"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET},
        {"id": STS_KEY_ID, "secret": STS_KEY_SECRET, "security_token": STS_TOKEN},
    ],
    "settings": {"task_seconds": 0.3, "concurrent_tasks_per_cluster": 1},
    "clusters": [
        {
            "id": "pc-mysql00000001",
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "status": "Running",
            "accounts": [
                {"name": "dbadmin", "type": "Super", "password": "Adm1n!pass"},
                {"name": "app_rw", "type": "Normal", "password": "Bb2@bbbbb"},
            ],
        },
        {
            "id": "pc-mysql00000002",
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "status": "Running",
            "accounts": [{"name": "polar_super", "type": "Super", "password": "Sup3r!pass"}],
        },
        {
            "id": "pc-pgsql00000001",
            "region": "cn-hangzhou",
            "db_type": "PostgreSQL",
            "status": "Running",
            "accounts": [{"name": "pgadmin", "type": "Super", "password": "Pg4dmin!pass"}],
        },
        {
            "id": "pc-maint0000001",
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "status": "Maintaining",
            "accounts": [{"name": "dbadmin", "type": "Super", "password": "Adm1n!pass"}],
        },
    ],
}

#: ``sdk_client`` fixture type: keyword arguments in, a PolarDB SDK client out.
SdkClientFactory = Callable[..., Any]

#: Every plaintext password of DEFAULT_SEED (for leak scans).
SEED_PASSWORDS = ("Adm1n!pass", "Bb2@bbbbb", "Sup3r!pass", "Pg4dmin!pass")


#: The account (UID) of the emulator's ARNs, and the CI role and GitHub OIDC provider of the
#: keyless tests.
ACCOUNT_ID = "1234567890123456"
CI_ROLE = f"acs:ram::{ACCOUNT_ID}:role/polardb-reset-ci"
GITHUB_PROVIDER = f"acs:ram::{ACCOUNT_ID}:oidc-provider/github"
#: The subject of the deploying environment (what GitHub writes as ``sub``).
CI_SUBJECT = "repo:acme/infra:environment:production"


def keyless_seed(
    issuer: Any, policy: dict[str, Any], *, trust_account: bool = False
) -> dict[str, Any]:
    """The seed's STS part for keyless tests: ``issuer`` (a ``testing.OidcIssuer``) as the
    GitHub OIDC provider, and the CI role (its permission ``policy``) trusting its tokens for
    the ``repo:acme/infra:environment:*`` subjects (and the account's AccessKeys with
    ``trust_account``)."""
    trust: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Federated": [GITHUB_PROVIDER]},
            "Condition": {
                "StringEquals": {"oidc:aud": "sts.aliyuncs.com"},
                "StringLike": {"oidc:sub": "repo:acme/infra:environment:*"},
            },
        }
    ]
    if trust_account:
        trust.append(
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"RAM": [f"acs:ram::{ACCOUNT_ID}:root"]},
            }
        )
    return {
        "oidc_providers": [
            {
                "name": "github",
                "issuer": issuer.issuer,
                "client_ids": ["sts.aliyuncs.com"],
                "jwks": issuer.jwks(),
            }
        ],
        "roles": [
            {
                "name": "polardb-reset-ci",
                "trust_policy": {"Version": "1", "Statement": trust},
                "policy": policy,
            }
        ],
    }


def write_seed(path: Path, data: dict[str, Any] | None = None) -> Path:
    """Write ``data`` (default: DEFAULT_SEED) as YAML to ``path``; return the path."""
    return testing.write_seed(path, data if data is not None else DEFAULT_SEED)


# --- an independent V3 signer for hand-crafted requests -------------------------


def _pe(value: str) -> str:
    return quote(value, safe="-_.~")


def sign_v3(
    secret: str,
    key_id: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes = b"",
) -> dict[str, str]:
    """Return ``headers`` plus x-acs-content-sha256 and Authorization (all headers signed)."""
    out = {k.lower(): v for k, v in headers.items()}
    out["x-acs-content-sha256"] = hashlib.sha256(body).hexdigest()
    names = sorted(out)
    canonical = "\n".join(
        [
            "POST",
            "/",
            "&".join(f"{_pe(k)}={_pe(v)}" for k, v in sorted(query.items())),
            "".join(f"{n}:{out[n].strip()}\n" for n in names),
            ";".join(names),
            out["x-acs-content-sha256"],
        ]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    out["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={key_id},SignedHeaders={';'.join(names)},"
        f"Signature={signature}"
    )
    return out


# --- an independent V1 (HMAC-SHA1 RPC) signer ------------------------------------------


def v1_params(action: str, key_id: str = "", **params: str) -> dict[str, str]:
    """The common V1 parameters (fresh nonce, current time) plus ``params``."""
    return {
        "Action": action,
        "Version": API_VERSION,
        "Format": "JSON",
        "AccessKeyId": key_id or ACCESS_KEY_ID,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **params,
    }


def sign_v1(secret: str, params: dict[str, str], method: str = "POST") -> str:
    """The V1 ``Signature`` of ``params`` (every request parameter, query and form alike)."""
    canonical = "&".join(f"{_pe(k)}={_pe(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{_pe('/')}&{_pe(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def form(params: dict[str, str]) -> bytes:
    """``params`` as an ``application/x-www-form-urlencoded`` body."""
    return "&".join(f"{_pe(k)}={_pe(v)}" for k, v in params.items()).encode()


def raw_post(
    base_url: str, query: dict[str, str], headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """POST / with exactly these query/headers/body; return status, JSON body, headers."""
    url = base_url + "/?" + "&".join(f"{_pe(k)}={_pe(v)}" for k, v in query.items())
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read()), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), dict(exc.headers)


__all__ = [
    "ACCESS_KEY_ID",
    "ACCESS_KEY_SECRET",
    "API_VERSION",
    "DEFAULT_SEED",
    "SEED_PASSWORDS",
    "STS_KEY_ID",
    "STS_KEY_SECRET",
    "STS_TOKEN",
    "EmulatorError",
    "EmulatorProcess",
    "EmulatorThread",
    "SdkClientFactory",
    "assert_refused",
    "form",
    "raw_post",
    "refusing_port",
    "sign_v1",
    "sign_v3",
    "v1_params",
    "write_seed",
]


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections (ECONNREFUSED) for the whole block: bound by
    this process and never listening, so no other process can take it meanwhile (a port
    found free and let go could be anyone's by the time it is used)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port


def assert_refused(host: str, port: int) -> None:
    """Assert that nothing listens on ``host:port``: the connection itself is refused
    (ECONNREFUSED), which no running server answers, unlike a login or HTTP error."""
    try:
        with socket.create_connection((host, port), timeout=30):
            pass
    except OSError as exc:
        assert exc.errno == errno.ECONNREFUSED, f"{host}:{port}: {exc!r}, not a refusal"
    else:
        raise AssertionError(f"something still listens on {host}:{port}")


def find_mariadbd() -> str | None:
    """Path of ``mariadbd`` (PATH, then /usr/sbin), or None when MariaDB is not installed."""
    return shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin")


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test for ``reason``, or fail it under ``CI=true``.

    CI provides everything the suite needs (``.ci/run``), so there a missing tool or
    capability is an error, never a quiet skip.
    """
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str, needed_for: str) -> str:
    """Path of the program ``name``; without it, :func:`skip_or_fail`."""
    found = shutil.which(name)
    if found is None:
        skip_or_fail(f"{name} not found on PATH: needed for {needed_for}")
    return found


def require_mariadbd(needed_for: str) -> str:
    """Path of ``mariadbd``; without it, :func:`skip_or_fail` (``.ci/run`` installs MariaDB)."""
    found = find_mariadbd()
    if found is None:
        skip_or_fail(
            "mariadbd not found (PATH, /usr/sbin): install MariaDB "
            f"(apt-get install mariadb-server) to run {needed_for}"
        )
    return found
