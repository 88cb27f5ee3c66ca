"""A MySQL-protocol server that answers every query as a test script says: hostile endpoints.

Speaks just enough of the client/server protocol for PyMySQL (protocol 41, no TLS): the
handshake (any login is accepted), ``COM_QUERY`` answered with a text result set of the
script's shape, ``COM_QUIT``. Rows are generated as they are sent, so a test can answer
with hundreds of megabytes without holding them; the server stops sending when the client
hangs up, and counts what it sent.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

#: protocol 41, secure connection, plugin auth, long password, transactions; no CLIENT_SSL.
_CAPABILITIES: Final = 0x0001 | 0x0200 | 0x2000 | 0x8000 | 0x00080000
_COM_QUIT: Final = 0x01
_COM_QUERY: Final = 0x03
_VAR_STRING: Final = 0xFD
_STATUS_AUTOCOMMIT: Final = 0x0002


@dataclass(frozen=True)
class Answer:
    """A result set: column names and rows (each a tuple of byte strings, one per column).

    No columns: an OK packet (what ``SET`` statements get).
    """

    columns: tuple[str, ...]
    rows: Iterable[tuple[bytes, ...]]


Script = Callable[[str], Answer]


def flood(columns: int = 1, rows: int = 300_000, row_bytes: int = 1024) -> Script:
    """Every query answered with ``rows`` rows of ``columns`` values, ``row_bytes`` per row."""
    width = max(1, row_bytes // columns)
    row = tuple(b"x" * width for _ in range(columns))

    def script(query: str) -> Answer:
        return Answer(tuple(f"c{i}" for i in range(columns)), (row for _ in range(rows)))

    return script


WHO: Final = "SELECT VERSION(), CURRENT_USER()"
GRANTS: Final = Path(__file__).parent / "fixtures" / "grants" / "mariadb-10.11"
#: The issue's hostile answer: 300,000 rows of 1 KiB.
HOSTILE_ROWS: Final = 300_000


def full_grants() -> list[tuple[bytes, ...]]:
    """USER_PRIVILEGES of an account holding every documented privilege (MariaDB 10.11)."""
    lines = (GRANTS / "full.user_privileges.tsv").read_text().splitlines()[1:]
    return [(c[0].encode(), c[2].encode(), c[3].encode()) for c in (x.split("\t") for x in lines)]


def normal(query: str) -> Answer:
    """A MariaDB 10.11 answering as a real one does for the account ``fx_full``."""
    if query.startswith("SET NAMES"):
        return Answer((), ())
    if query == WHO:
        return Answer(("VERSION()", "CURRENT_USER()"), [(b"10.11.6-MariaDB", b"fx_full@%")])
    if "USER_PRIVILEGES" in query:
        return Answer(("GRANTEE", "PRIVILEGE_TYPE", "IS_GRANTABLE"), full_grants())
    raise AssertionError(f"unexpected query {query!r}")


def grants_flood() -> Script:
    """The login query answered normally, then grants of the right columns: 300,000 rows of 1 KiB."""
    rows = flood(columns=3, rows=HOSTILE_ROWS, row_bytes=1024)

    def script(query: str) -> Answer:
        if query == WHO or query.startswith("SET"):
            return normal(query)
        return Answer(("GRANTEE", "PRIVILEGE_TYPE", "IS_GRANTABLE"), rows(query).rows)

    return script


#: One check in a fresh process: its verdict and its peak resident memory.
CHILD: Final = """
import json, resource, sys
from pulumi_polardb_reset.drift._sql import check_account
result = check_account("127.0.0.1", int(sys.argv[1]), "fx_full", "H0stile!pw",
                       connect_timeout=5.0, read_timeout=10.0, deadline=120.0)
print(json.dumps({"status": result.status, "cause": result.cause,
                  "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def run_child(port: int) -> dict[str, Any]:
    """Run :data:`CHILD` against ``127.0.0.1:port``; its verdict, cause and ``max_rss_kib``."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(port)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def _lenenc(value: int) -> bytes:
    if value < 251:
        return bytes([value])
    if value < 1 << 16:
        return b"\xfc" + struct.pack("<H", value)
    if value < 1 << 24:
        return b"\xfd" + struct.pack("<I", value)[:3]
    return b"\xfe" + struct.pack("<Q", value)


def _text(value: bytes) -> bytes:
    return _lenenc(len(value)) + value


@dataclass
class _Session:
    conn: socket.socket
    seq: int = 0
    out: list[bytes] = field(default_factory=list)
    size: int = 0

    def packet(self, payload: bytes) -> None:
        self.out.append(struct.pack("<I", len(payload))[:3] + bytes([self.seq]) + payload)
        self.size += len(payload) + 4
        self.seq = (self.seq + 1) % 256
        if self.size >= 1 << 16:
            self.flush()

    def flush(self) -> None:
        if self.out:
            self.conn.sendall(b"".join(self.out))
            self.out.clear()
            self.size = 0

    def read(self) -> bytes | None:
        header = self._exactly(4)
        if header is None:
            return None
        self.seq = (header[3] + 1) % 256
        return self._exactly(int.from_bytes(header[:3], "little"))

    def _exactly(self, count: int) -> bytes | None:
        data = b""
        while len(data) < count:
            chunk = self.conn.recv(count - len(data))
            if not chunk:
                return None
            data += chunk
        return data


class FakeMySQL:
    """Serves ``script`` on 127.0.0.1 (a free port) until :meth:`close`; one thread per client."""

    def __init__(self, script: Script, version: str = "8.0.36-fake") -> None:
        self.script = script
        self.version = version
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.queries: list[str] = []
        self.bytes_sent = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def __enter__(self) -> FakeMySQL:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:<port>``, as the check names it."""
        return f"127.0.0.1:{self.port}"

    def close(self) -> None:
        """Stop accepting and wait for the client threads (they end when clients hang up)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close alone does not)
        self.sock.close()
        self._accepting.join(10)
        for thread in self._threads:
            thread.join(30)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        session = _Session(conn)
        try:
            with conn:
                conn.settimeout(60)
                self._handshake(session)
                while (command := session.read()) is not None and command[:1] != bytes([_COM_QUIT]):
                    if command[:1] == bytes([_COM_QUERY]):
                        query = command[1:].decode("utf-8", "replace")
                        with self._lock:
                            self.queries.append(query)
                        self._result_set(session, self.script(query))
                    else:
                        session.packet(self._ok())
                    session.flush()
        except OSError:
            pass  # the client hung up mid-answer: what a bounded client does

    def _handshake(self, session: _Session) -> None:
        salt = b"abcdefghijklmnopqrst"
        session.packet(
            b"\x0a"
            + self.version.encode()
            + b"\x00"
            + struct.pack("<I", 7)
            + salt[:8]
            + b"\x00"
            + struct.pack("<H", _CAPABILITIES & 0xFFFF)
            + bytes([45])
            + struct.pack("<H", _STATUS_AUTOCOMMIT)
            + struct.pack("<H", _CAPABILITIES >> 16)
            + bytes([21])
            + b"\x00" * 10
            + salt[8:]
            + b"\x00"
            + b"mysql_native_password\x00"
        )
        session.flush()
        if session.read() is None:  # the login: any is accepted
            raise OSError("client left during the handshake")
        session.packet(self._ok())
        session.flush()

    @staticmethod
    def _ok() -> bytes:
        return b"\x00\x00\x00" + struct.pack("<HH", _STATUS_AUTOCOMMIT, 0)

    @staticmethod
    def _eof() -> bytes:
        return b"\xfe" + struct.pack("<HH", 0, _STATUS_AUTOCOMMIT)

    def _result_set(self, session: _Session, answer: Answer) -> None:
        if not answer.columns:
            session.packet(self._ok())
            return
        session.packet(_lenenc(len(answer.columns)))
        for name in answer.columns:
            session.packet(
                _text(b"def")
                + _text(b"")
                + _text(b"")
                + _text(b"")
                + _text(name.encode())
                + _text(name.encode())
                + b"\x0c"
                + struct.pack("<HIBHB", 45, 1 << 20, _VAR_STRING, 0, 0)
                + b"\x00\x00"
            )
        session.packet(self._eof())
        for row in answer.rows:
            session.packet(b"".join(_text(value) for value in row))
            with self._lock:
                self.bytes_sent += 4 + sum(len(v) for v in row)
        session.packet(self._eof())
