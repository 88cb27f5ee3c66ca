"""The ``mariadb`` backend: one real ``mariadbd`` per emulated MySQL cluster.

* A template datadir is initialised once per process with
  ``mariadb-install-db`` (about a second); each cluster's datadir is a copy
  of it, which is much faster than initialising each one.
* Servers listen on free loopback ports only, start in parallel, and log to
  files of their own. Each start gets an administrative superuser,
  ``emulator-admin``, with a fresh random password (set through an init file
  that holds only its hash). That name cannot clash with an API account: the
  API refuses names with ``-``.
* Blocking calls (PyMySQL) run off the event loop: the emulator calls this
  module from a worker thread.
* Passwords reach the server as ``mysql_native_password`` hashes
  (``IDENTIFIED BY PASSWORD '*…'``); plaintext is never stored or sent in
  SQL, and no statement output that could carry a hash is logged.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import hashlib
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pymysql  # type: ignore[import-untyped]

from .backend import (
    STANDARD_DB_PRIVILEGES,
    STANDARD_GLOBAL_PRIVILEGES,
    SUPER_PRIVILEGES,
    AccountBackend,
    BackendError,
    InMemoryDatabases,
    SeedUser,
    StartupFailedError,
)

log = logging.getLogger("polardb_emulator")

ADMIN_USER = "emulator-admin"
#: ER_ACCOUNT_HAS_BEEN_LOCKED: the login of a locked account (after its password matched).
ER_ACCOUNT_HAS_BEEN_LOCKED = 4151
LOOPBACK = "127.0.0.1"
INSTALL_HINT = (
    "install MariaDB (Debian/Ubuntu: apt-get install mariadb-server) or pass --mariadbd PATH"
)
# Users and databases the template has and that a reset to the seed keeps.
_SYSTEM_USERS = frozenset({("root", "localhost"), ("mariadb.sys", "localhost"), (ADMIN_USER, "%")})
_SYSTEM_DATABASES = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
_LOG_FILE_SIZE = "--innodb-log-file-size=4M"
# Run at template creation: no root over TCP, no anonymous users.
_TEMPLATE_SQL = """\
DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost';
DELETE FROM mysql.global_priv WHERE User = '';
DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';
"""
_NATIVE_HASH = re.compile(r"\*[0-9A-Fa-f]{40}")
_READY_TIMEOUT = 120.0
_STOP_TIMEOUT = 30.0
_PORT_ATTEMPTS = 5


class MariaDBNotFoundError(Exception):
    """``mariadbd`` or ``mariadb-install-db`` is missing (the message says how to install it)."""


def native_hash(password: str) -> str:
    """``mysql_native_password`` hash: ``*`` + upper-case hex SHA1(SHA1(password))."""
    inner = hashlib.sha1(password.encode("utf-8")).digest()  # noqa: S324 - MySQL's own scheme
    return "*" + hashlib.sha1(inner).hexdigest().upper()  # noqa: S324


def find_mariadbd(explicit: Path | None = None) -> Path:
    """``explicit``, else ``mariadbd`` from PATH, else ``/usr/sbin/mariadbd``."""
    if explicit is not None:
        if explicit.is_file() and os.access(explicit, os.X_OK):
            return explicit
        raise MariaDBNotFoundError(
            f"--mariadbd {explicit} is not an executable file; {INSTALL_HINT}"
        )
    found = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin")
    if found is None:
        raise MariaDBNotFoundError(
            f"the mariadb backend needs mariadbd, which is not in PATH or /usr/sbin; {INSTALL_HINT}"
        )
    return Path(found)


def find_install_db(mariadbd: Path) -> Path:
    """``mariadb-install-db`` beside ``mariadbd``, else from PATH, else ``/usr/bin``."""
    for directory in (str(mariadbd.parent), None, "/usr/bin"):
        found = shutil.which("mariadb-install-db", path=directory)
        if found is not None:
            return Path(found)
    raise MariaDBNotFoundError(
        f"the mariadb backend needs mariadb-install-db, which was not found; {INSTALL_HINT}"
    )


def _scrub(text: str) -> str:
    return _NATIVE_HASH.sub("*<hash>", text)


def _run_as_root_flags() -> list[str]:
    # mariadbd refuses to run as root unless told to.
    return ["--user=root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    # Belt and braces: if the emulator is killed outright (SIGKILL), the
    # kernel stops its servers too. PR_SET_PDEATHSIG = 1.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


def _short_tempdir() -> Path:
    """A private temporary directory whose path is short enough for socket files."""
    path = Path(tempfile.mkdtemp(prefix="pdbemu-"))
    if len(str(path)) > 60:
        # A socket path has at most 107 bytes; a deep TMPDIR would break it.
        path.rmdir()
        path = Path(tempfile.mkdtemp(prefix="pdbemu-", dir="/tmp"))
    return path


# --- the template datadir (once per process) -------------------------------------


class _Template:
    """An initialised datadir to copy, made on first use and removed at exit."""

    _lock = threading.Lock()
    _made: ClassVar[dict[Path, Path]] = {}

    @classmethod
    def get(cls, mariadbd: Path, install_db: Path) -> Path:
        with cls._lock:
            if mariadbd not in cls._made:
                cls._made[mariadbd] = cls._create(mariadbd, install_db)
            return cls._made[mariadbd]

    @staticmethod
    def _create(mariadbd: Path, install_db: Path) -> Path:
        root = Path(tempfile.mkdtemp(prefix="polardb-emulator-template-"))
        atexit.register(shutil.rmtree, root, True)
        extra = root / "template.sql"
        extra.write_text(_TEMPLATE_SQL, encoding="utf-8")
        datadir = root / "data"
        # A private tmpdir: bootstraps running at once must not share /tmp's temporary tables.
        tmpdir = root / "tmp"
        tmpdir.mkdir()
        started = time.monotonic()
        result = subprocess.run(
            [
                str(install_db),
                "--no-defaults",
                *_run_as_root_flags(),
                f"--datadir={datadir}",
                f"--tmpdir={tmpdir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                f"--extra-file={extra}",
                _LOG_FILE_SIZE,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            tail = " | ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
            raise StartupFailedError(f"mariadb-install-db failed ({result.returncode}): {tail}")
        log.info("MariaDB template datadir ready in %.1fs", time.monotonic() - started)
        return datadir


# --- one server ----------------------------------------------------------------------


@dataclass
class MariaDBServer:
    """One ``mariadbd`` process serving one cluster's datadir on a loopback port."""

    cluster_id: str
    binary: Path
    datadir: Path
    rundir: Path
    port: int = 0
    password: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        """The server's socket file (a short name: socket paths are limited to 107 bytes)."""
        digest = hashlib.sha256(self.cluster_id.encode()).hexdigest()[:10]
        return self.rundir / f"{digest}.sock"

    @property
    def error_log(self) -> Path:
        """The server's own log file."""
        return self.rundir / f"{self.cluster_id}.err"

    def launch(self) -> None:
        """Start ``mariadbd`` on a free port with a fresh admin password (returns at once)."""
        self.port = _free_port()
        self.password = secrets.token_urlsafe(24)
        init = self.rundir / f"{self.cluster_id}.init.sql"
        init.unlink(missing_ok=True)
        # A new file of our own (never through a link planted at its path).
        fd = os.open(init, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(
                f"CREATE OR REPLACE USER '{ADMIN_USER}'@'%' IDENTIFIED BY PASSWORD "
                f"'{native_hash(self.password)}';\n"
                f"GRANT ALL PRIVILEGES ON *.* TO '{ADMIN_USER}'@'%' WITH GRANT OPTION;\n"
                "ALTER USER IF EXISTS 'root'@'localhost' ACCOUNT LOCK;\n"
            )
        self.error_log.unlink(missing_ok=True)
        # Servers of one machine must not share /tmp's temporary tables (see the template).
        tmpdir = self.rundir / f"{self.cluster_id}.tmp"
        tmpdir.mkdir(exist_ok=True)
        command = [
            str(self.binary),
            "--no-defaults",
            *_run_as_root_flags(),
            f"--datadir={self.datadir}",
            f"--tmpdir={tmpdir}",
            f"--socket={self.socket}",
            f"--pid-file={self.rundir / (self.cluster_id + '.pid')}",
            f"--log-error={self.error_log}",
            f"--port={self.port}",
            f"--bind-address={LOOPBACK}",
            "--skip-networking=0",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=32M",
            _LOG_FILE_SIZE,
            "--innodb-use-native-aio=0",
            f"--init-file={init}",
        ]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a terminal's Ctrl-C reaches the emulator, which stops us
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )

    def poll_ready(self) -> bool | None:
        """True when it accepts the admin login, None while starting, False if it exited."""
        assert self.process is not None
        if self.process.poll() is not None:
            return False
        try:
            self.connect(connect_timeout=2).close()
        except pymysql.MySQLError:
            return None if self.process.poll() is None else False
        (self.rundir / f"{self.cluster_id}.init.sql").unlink(missing_ok=True)
        return True

    def failure(self) -> str:
        """Why the server stopped: the [ERROR] lines of its log (or its exit status)."""
        code = self.process.returncode if self.process is not None else None
        try:
            lines = self.error_log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
        errors = [line.split("[ERROR]", 1)[1].strip() for line in lines if "[ERROR]" in line]
        return _scrub("; ".join(errors[-3:]) or f"mariadbd exited with status {code}")

    def port_clash(self) -> bool:
        """Whether the server failed because its port was taken meanwhile."""
        text = self.failure()
        return "already in use" in text or "Can't start server: Bind" in text

    def connect(self, *, connect_timeout: float = 10) -> Any:
        """A new autocommit connection with the admin login."""
        return pymysql.connect(
            host=LOOPBACK,
            port=self.port,
            user=ADMIN_USER,
            password=self.password,
            autocommit=True,
            connect_timeout=connect_timeout,
            read_timeout=120,
            write_timeout=120,
            charset="utf8mb4",
        )

    def stop(self, timeout: float = _STOP_TIMEOUT) -> None:
        """SIGTERM (a clean InnoDB shutdown), SIGKILL after ``timeout``; wait for it."""
        proc = self.process
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.process = None


def start_servers(servers: Sequence[MariaDBServer], deadline: float) -> None:
    """Launch every server, then wait until all accept logins (in parallel).

    On any failure (or an interrupt) every server is stopped before raising.
    A server whose port was taken meanwhile is relaunched on another port.
    """
    attempts = dict.fromkeys((id(s) for s in servers), 1)
    try:
        for server in servers:
            server.launch()
        pending = list(servers)
        while pending:
            still: list[MariaDBServer] = []
            for server in pending:
                ready = server.poll_ready()
                if ready is None:
                    still.append(server)
                elif ready is False:
                    if server.port_clash() and attempts[id(server)] < _PORT_ATTEMPTS:
                        attempts[id(server)] += 1
                        server.stop()
                        server.launch()
                        still.append(server)
                        continue
                    raise StartupFailedError(
                        f"MariaDB for cluster {server.cluster_id} did not start: {server.failure()}"
                    )
            pending = still
            if pending and time.monotonic() > deadline:
                names = ", ".join(s.cluster_id for s in pending)
                raise StartupFailedError(f"MariaDB did not become ready in time for: {names}")
            if pending:
                time.sleep(0.02)
    except BaseException:
        stop_servers(servers)
        raise


def stop_servers(servers: Sequence[MariaDBServer]) -> None:
    """SIGTERM all at once, then wait for each (SIGKILL stragglers)."""
    for server in servers:
        proc = server.process
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
    for server in servers:
        server.stop()


# --- the account backend ------------------------------------------------------------


def _quote_db(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class MariaDBAccountBackend:
    """An :class:`~.backend.AccountBackend` doing real SQL on one cluster's server."""

    applies_when_task_ends: ClassVar[bool] = True

    def __init__(self, server: MariaDBServer) -> None:
        self.server = server
        self._conn: Any | None = None

    # -- plumbing --

    @contextlib.contextmanager
    def _cursor(self, what: str) -> Iterator[Any]:
        try:
            if self._conn is not None:
                try:
                    self._conn.ping()
                except pymysql.MySQLError:
                    self.close()
            if self._conn is None:
                self._conn = self.server.connect()
            with self._conn.cursor() as cursor:
                yield cursor
        except pymysql.MySQLError as exc:
            self.close()
            code = exc.args[0] if exc.args else "?"
            message = exc.args[1] if len(exc.args) > 1 else str(exc)
            raise BackendError(f"{what}: MariaDB error {code}: {_scrub(str(message))}") from None

    def close(self) -> None:
        """Close the admin connection."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def _exists(self, cursor: Any, name: str) -> bool:
        cursor.execute("SELECT COUNT(*) FROM mysql.user WHERE User = %s AND Host = '%%'", (name,))
        row = cursor.fetchone()
        return bool(row and row[0])

    @staticmethod
    def _grant_super(cursor: Any, name: str) -> None:
        privileges = ", ".join(SUPER_PRIVILEGES)
        cursor.execute(f"GRANT {privileges} ON *.* TO %s@'%%' WITH GRANT OPTION", (name,))

    # -- AccountBackend --

    def credential(self, password: str) -> str:
        """The ``mysql_native_password`` hash of ``password``."""
        return native_hash(password)

    def create_account(
        self, name: str, account_type: str, credential: str, grants: Sequence[Mapping[str, str]]
    ) -> None:
        """CREATE OR REPLACE USER, then the type's grants."""
        with self._cursor(f"CreateAccount {name}") as cursor:
            cursor.execute(
                "CREATE OR REPLACE USER %s@'%%' IDENTIFIED BY PASSWORD %s", (name, credential)
            )
            if account_type == "Super":
                self._grant_super(cursor, name)
                return
            for grant in grants:
                privileges = STANDARD_DB_PRIVILEGES.get(grant.get("AccountPrivilege", ""), ())
                if not privileges:
                    continue
                database = _quote_db(grant["DBName"])
                cursor.execute(f"GRANT {', '.join(privileges)} ON {database}.* TO %s@'%%'", (name,))
                cursor.execute(
                    f"GRANT {', '.join(STANDARD_GLOBAL_PRIVILEGES)} ON *.* TO %s@'%%'", (name,)
                )

    def drop_account(self, name: str) -> None:
        """DROP USER IF EXISTS."""
        with self._cursor(f"DeleteAccount {name}") as cursor:
            cursor.execute("DROP USER IF EXISTS %s@'%%'", (name,))

    def set_password(self, name: str, credential: str) -> None:
        """ALTER USER … IDENTIFIED BY PASSWORD."""
        with self._cursor(f"set password of {name}") as cursor:
            if not self._exists(cursor, name):
                raise BackendError(f"account {name} does not exist in the database")
            cursor.execute("ALTER USER %s@'%%' IDENTIFIED BY PASSWORD %s", (name, credential))

    def restore_privileges(self, name: str, credential: str | None) -> None:
        """GRANT the documented set WITH GRANT OPTION (additive); set the password if given.

        An account dropped out of band is re-created when a password is given.
        """
        with self._cursor(f"ResetAccount {name}") as cursor:
            if not self._exists(cursor, name):
                if credential is None:
                    raise BackendError(
                        f"account {name} does not exist in the database "
                        "(a ResetAccount with AccountPassword re-creates it)"
                    )
                cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY PASSWORD %s", (name, credential))
            elif credential is not None:
                cursor.execute("ALTER USER %s@'%%' IDENTIFIED BY PASSWORD %s", (name, credential))
            self._grant_super(cursor, name)

    def verify_password(self, name: str, password: str) -> bool:
        """Whether ``name`` can log in with ``password`` (a locked account: whether the
        server got as far as the lock, which it checks after the password)."""
        try:
            pymysql.connect(
                host=LOOPBACK,
                port=self.server.port,
                user=name,
                password=password,
                connect_timeout=10,
            ).close()
        except pymysql.err.OperationalError as exc:
            return bool(exc.args) and exc.args[0] == ER_ACCOUNT_HAS_BEEN_LOCKED
        return True

    def set_account_locked(self, name: str, locked: bool) -> None:
        """ALTER USER … ACCOUNT LOCK / UNLOCK."""
        with self._cursor(f"{'lock' if locked else 'unlock'} {name}") as cursor:
            if not self._exists(cursor, name):
                raise BackendError(f"account {name} does not exist in the database")
            clause = "ACCOUNT LOCK" if locked else "ACCOUNT UNLOCK"
            cursor.execute(f"ALTER USER %s@'%%' {clause}", (name,))

    def set_password_expired(self, name: str, expired: bool) -> None:
        """ALTER USER … PASSWORD EXPIRE; to renew, the same hash is set again (MariaDB
        has no statement that only clears the expiry)."""
        with self._cursor(f"password expiry of {name}") as cursor:
            cursor.execute(
                "SELECT authentication_string, password_expired FROM mysql.user "
                "WHERE User = %s AND Host = '%%'",
                (name,),
            )
            row = cursor.fetchone()
            if row is None:
                raise BackendError(f"account {name} does not exist in the database")
            credential, is_expired = row[0], row[1] == "Y"
            if expired and not is_expired:
                cursor.execute("ALTER USER %s@'%%' PASSWORD EXPIRE", (name,))
            elif is_expired and not expired:
                cursor.execute("ALTER USER %s@'%%' IDENTIFIED BY PASSWORD %s", (name, credential))

    def privileges_flag_problem(self) -> str | None:
        """The grants are real: there is no flag to set."""
        return (
            "privileges_revoked exists only with the memory backend: this cluster's "
            "grants are in its MariaDB server; change them with SQL"
        )

    def set_privileges_revoked(self, name: str, revoked: bool) -> None:
        """Refused: see :meth:`privileges_flag_problem`."""
        raise BackendError(self.privileges_flag_problem() or "")

    def load_accounts(self, users: Sequence[SeedUser]) -> None:
        """Drop every non-system user, role and database; create ``users``."""
        with self._cursor("reset to the seed") as cursor:
            cursor.execute("SELECT User, Host, is_role FROM mysql.user")
            for user, host, is_role in cursor.fetchall():
                if (user, host) in _SYSTEM_USERS:
                    continue
                if is_role == "Y":
                    cursor.execute("DROP ROLE IF EXISTS %s", (user,))
                else:
                    cursor.execute("DROP USER IF EXISTS %s@%s", (user, host))
            cursor.execute("SHOW DATABASES")
            for (database,) in cursor.fetchall():
                if database not in _SYSTEM_DATABASES:
                    cursor.execute(f"DROP DATABASE IF EXISTS {_quote_db(database)}")
        for user in users:
            self.create_account(user.name, user.type, user.credential, user.grants)

    def dump(self) -> dict[str, Any] | None:
        """None: the datadir is the state."""
        return None

    def describe(self, name: str) -> dict[str, Any]:
        """Nothing extra: the grants are in the server (see the admin SQL login)."""
        return {}

    def endpoint(self) -> tuple[str, int] | None:
        """The server's loopback address."""
        return (LOOPBACK, self.server.port)

    def admin_login(self) -> dict[str, Any] | None:
        """The administrative superuser login of this server."""
        return {
            "host": LOOPBACK,
            "port": self.server.port,
            "user": ADMIN_USER,
            "password": self.server.password,
        }


# --- the fleet ----------------------------------------------------------------------


class MariaDBDatabases:
    """The ``mariadb`` fleet: a server per MySQL cluster; other engines stay in memory.

    ``data_root`` (beside the state file) keeps the datadirs across restarts;
    without it they live in a temporary directory removed by :meth:`close`.
    """

    name = "mariadb"
    blocking = True

    def __init__(self, mariadbd: Path, *, data_root: Path | None = None) -> None:
        self.mariadbd = mariadbd
        self.install_db = find_install_db(mariadbd)
        self.rundir = _short_tempdir()
        self._temporary_data = data_root is None
        self.data_root = data_root if data_root is not None else self.rundir / "data"
        self.servers: dict[str, MariaDBServer] = {}
        self.backends: dict[str, MariaDBAccountBackend] = {}
        self.memory = InMemoryDatabases()
        self._closed = False

    def credential(self, db_type: str, password: str) -> str:
        """MySQL clusters: the server's native hash; other engines: the memory backend's."""
        if db_type == "MySQL":
            return native_hash(password)
        return self.memory.credential(db_type, password)

    def datadir(self, cluster_id: str) -> Path:
        """Where the cluster's server keeps its data."""
        return self.data_root / cluster_id

    def open(
        self, clusters: Sequence[tuple[str, str]], *, existing: bool
    ) -> dict[str, AccountBackend]:
        """Start a server per MySQL cluster (in parallel); ``existing``: reuse datadirs."""
        mysql = [cid for cid, db_type in clusters if db_type == "MySQL"]
        opened: dict[str, AccountBackend] = dict(
            self.memory.open([c for c in clusters if c[1] != "MySQL"], existing=existing)
        )
        if not mysql:
            return opened
        started = time.monotonic()
        if existing:
            missing = [cid for cid in mysql if not (self.datadir(cid) / "mysql").is_dir()]
            if missing:
                raise StartupFailedError(
                    f"the MariaDB datadir of {', '.join(missing)} is missing under "
                    f"{self.data_root}; remove the state file to start again from the seed"
                )
        else:
            template = _Template.get(self.mariadbd, self.install_db)
            started = time.monotonic()  # the template is timed on its own
            self.data_root.mkdir(parents=True, exist_ok=True)
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(lambda cid: self._fresh_copy(template, cid), mysql))
        servers = [
            MariaDBServer(cid, self.mariadbd, self.datadir(cid), self.rundir) for cid in mysql
        ]
        start_servers(servers, time.monotonic() + _READY_TIMEOUT)
        for server in servers:
            self.servers[server.cluster_id] = server
            backend = MariaDBAccountBackend(server)
            self.backends[server.cluster_id] = backend
            opened[server.cluster_id] = backend
        log.info(
            "%d MariaDB server(s) started in %.1fs (datadirs copied, servers ready)",
            len(servers),
            time.monotonic() - started,
        )
        return opened

    def _fresh_copy(self, template: Path, cluster_id: str) -> None:
        target = self.datadir(cluster_id)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(template, target, symlinks=True)

    def restore(self, cluster_id: str, data: dict[str, Any] | None) -> None:
        """Only in-memory (non-MySQL) clusters have saved data; a server keeps its own."""
        if cluster_id in self.memory.backends:
            self.memory.restore(cluster_id, data)

    def discard(self, cluster_id: str) -> None:
        """Stop the cluster's server and delete its datadir."""
        self.memory.discard(cluster_id)
        backend = self.backends.pop(cluster_id, None)
        if backend is not None:
            backend.close()
        server = self.servers.pop(cluster_id, None)
        if server is not None:
            server.stop()
            shutil.rmtree(server.datadir, ignore_errors=True)

    def close(self) -> None:
        """Stop every server (in parallel); remove temporary directories."""
        if self._closed:
            return
        self._closed = True
        for backend in self.backends.values():
            backend.close()
        stop_servers(list(self.servers.values()))
        self.servers.clear()
        shutil.rmtree(self.rundir, ignore_errors=True)
        self.memory.close()
