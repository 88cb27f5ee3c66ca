"""The one MariaDB launcher of the tests: a throwaway ``mariadbd`` with TLS on a free port.

Its datadir is a copy of the emulator's template (``polardb_emulator.polardb.mariadb``, initialised
once per process with ``mariadb-install-db``), so the tests start MariaDB the way the
emulator's mariadb backend does, and a second server in the same process costs a copy, not
an initialisation. Without MariaDB: skipped locally, a failure under ``CI=true``
(:func:`emulator_harness.require_mariadbd`).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql  # type: ignore[import-untyped]
import pytest
import trustme
from emulator_harness import require_mariadbd, skip_or_fail

from polardb_emulator.polardb.mariadb import MariaDBNotFoundError, _Template, find_install_db


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class MariaDB:
    """A running throwaway mariadbd: root over the unix socket, clients over TCP with TLS.

    The server certificate is issued by ``ca_file`` for ``localhost`` only (so connecting
    to 127.0.0.1 is a host name mismatch); ``wrong_ca_file`` is another CA.
    """

    process: subprocess.Popen[bytes]
    socket_path: str
    port: int
    ca_file: str
    wrong_ca_file: str
    log_file: Path

    def admin(self, *statements: str | tuple[str, tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Run statements as root; return the rows of the last one."""
        conn = pymysql.connect(
            unix_socket=self.socket_path, user="root", password="", autocommit=True
        )
        rows: list[tuple[Any, ...]] = []
        with conn, conn.cursor() as cur:
            for statement in statements:
                sql, args = statement if isinstance(statement, tuple) else (statement, ())
                cur.execute(sql, args or None)
                rows = list(cur.fetchall())
        return rows

    def stop(self) -> None:
        """SIGTERM (a clean shutdown), SIGKILL after a minute."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def start_mariadb(base: Path, needed_for: str = "the SQL check tests") -> MariaDB:
    """Start a MariaDB in ``base`` (datadir, socket, certificates, log) and wait until it serves."""
    mariadbd = Path(require_mariadbd(needed_for))
    try:
        template = _Template.get(mariadbd, find_install_db(mariadbd))
    except MariaDBNotFoundError as exc:
        skip_or_fail(str(exc))
    datadir = base / "data"
    shutil.copytree(template, datadir)

    ca = trustme.CA(organization_name="pulumi-polardb-reset tests")
    wrong_ca = trustme.CA(organization_name="someone else")
    server_cert = ca.issue_cert("localhost")
    cert_file, key_file = base / "server.pem", base / "server.key"
    ca_file, wrong_ca_file = base / "ca.pem", base / "wrong-ca.pem"
    server_cert.cert_chain_pems[0].write_to_path(str(cert_file))
    server_cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    wrong_ca.cert_pem.write_to_path(str(wrong_ca_file))

    tmpdir = base / "tmp"  # private: servers started at once must not share /tmp's tables
    tmpdir.mkdir(exist_ok=True)
    socket_path = str(base / "mysqld.sock")
    command = [
        str(mariadbd),
        "--no-defaults",
        "--user=root",
        f"--datadir={datadir}",
        f"--tmpdir={tmpdir}",
        f"--socket={socket_path}",
        f"--pid-file={base / 'mariadbd.pid'}",
        "--bind-address=127.0.0.1",
        "--skip-networking=0",
        "--skip-log-bin",
        "--innodb-buffer-pool-size=64M",
        f"--ssl-cert={cert_file}",
        f"--ssl-key={key_file}",
        f"--ssl-ca={ca_file}",
    ]
    # mariadbd cannot bind port 0 (it means its default, 3306): a port found free may be
    # taken by another process before mariadbd binds it; then it fails, and tries another.
    for attempt in range(5):
        log_file = base / f"mariadbd-{attempt}.log"
        port = free_port()
        process = subprocess.Popen(
            [*command, f"--port={port}", f"--log-error={log_file}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        server = MariaDB(process, socket_path, port, str(ca_file), str(wrong_ca_file), log_file)
        if _serving(server):
            return server
    pytest.fail("mariadbd found its port taken five times in a row")


def _serving(server: MariaDB) -> bool:
    """Wait until ``server`` serves (True), or exits because its port was taken (False)."""
    process, log_file = server.process, server.log_file
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            log = log_file.read_text() if log_file.exists() else ""
            if "already in use" in log or "Can't start server: Bind" in log:
                return False
            pytest.fail(f"mariadbd exited with {process.returncode}:\n{log[-3000:]}")
        try:
            server.admin("SELECT 1")
            with socket.create_connection(("127.0.0.1", server.port), timeout=5):
                return True
        except (pymysql.err.MySQLError, OSError):
            if time.monotonic() > deadline:
                server.stop()
                pytest.fail("mariadbd did not accept connections within 120 s")
            time.sleep(0.1)  # a poll interval, not a wait for readiness
    pytest.fail("mariadbd found its port taken five times in a row")


def _start(
    mariadbd: Path,
    base: Path,
    datadir: Path,
    tmpdir: Path,
    cert_file: Path,
    key_file: Path,
    ca_file: Path,
    wrong_ca_file: Path,
) -> MariaDB | None:
    """Start mariadbd on a free port and wait until it serves; None if the port was taken."""
    socket_path = str(base / "mysqld.sock")
    log_file = base / "mariadbd.log"
    port = free_port()
    process = subprocess.Popen(
        [
            str(mariadbd),
            "--no-defaults",
            "--user=root",
            f"--datadir={datadir}",
            f"--tmpdir={tmpdir}",
            f"--socket={socket_path}",
            f"--pid-file={base / 'mariadbd.pid'}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            "--skip-networking=0",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=64M",
            f"--ssl-cert={cert_file}",
            f"--ssl-key={key_file}",
            f"--ssl-ca={ca_file}",
            f"--log-error={log_file}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    server = MariaDB(process, socket_path, port, str(ca_file), str(wrong_ca_file), log_file)
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            log = log_file.read_text() if log_file.exists() else ""
            if "already in use" in log or "Can't start server: Bind" in log:
                log_file.unlink()
                return None
            pytest.fail(f"mariadbd exited with {process.returncode}:\n{log[-3000:]}")
        try:
            server.admin("SELECT 1")
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                break
        except (pymysql.err.MySQLError, OSError):
            if time.monotonic() > deadline:
                server.stop()
                pytest.fail("mariadbd did not accept connections within 120 s")
            time.sleep(0.1)  # a poll interval, not a wait for readiness
    return server
