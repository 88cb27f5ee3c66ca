"""The SQL check (``_sql.check_account``): pure helpers, fake servers, and a real throwaway MariaDB.

The MariaDB tests start one ``mariadbd`` per session (TLS with a trustme CA, TCP on
127.0.0.1) and give each test its own account. They are skipped when MariaDB is not
installed, except on CI (``CI=true``), where that is an error.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import secrets
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import emulator_harness
import pymysql  # type: ignore[import-untyped]
import pytest
from documented import DOCUMENTED_PRIVILEGES
from emulator_harness import refusing_port
from mariadb_harness import MariaDB, start_mariadb

from pulumi_polardb_reset.core._hosts import is_loopback_host
from pulumi_polardb_reset.drift import _sql
from pulumi_polardb_reset.drift._sql import (
    SqlCheckResult,
    check_account,
    format_endpoint,
    scrub,
)


class Fast(TypedDict):
    """Timeouts for checks that should answer at once."""

    connect_timeout: float
    read_timeout: float


FAST = Fast(connect_timeout=5.0, read_timeout=5.0)


def _native_hash(password: str) -> str:
    """MySQL/MariaDB ``mysql_native_password`` hash, as SHOW GRANTS prints it."""
    return "*" + hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest().upper()  # noqa: S324


def _assert_clean(result: SqlCheckResult, *secrets_: str) -> None:
    text = f"{result!r} {result.cause}"
    for secret in secrets_:
        assert secret not in text and secret.lower() not in text


# -- pure helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("127.0.0.1", True),
        ("127.10.20.30", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("[::ffff:7f00:1]", True),
        ("0:0:0:0:0:0:0:1", True),
        ("::ffff:10.0.0.1", False),
        ("10.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - a host name under test, not a bind
        ("::", False),
        ("fe80::1%eth0", False),
        ("localhost.example.com", False),
        ("foo.localhost", False),
        ("pc-abc.rwlb.rds.aliyuncs.com", False),
        ("127.1", False),
        ("", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_format_endpoint() -> None:
    assert format_endpoint("db.example", 3306) == "db.example:3306"
    assert format_endpoint("::1", 3306) == "[::1]:3306"
    assert format_endpoint("[::1]", 3306) == "[::1]:3306"


def test_scrub_removes_passwords_and_hashes() -> None:
    text = (
        "near 'IDENTIFIED BY 'Secr3t!pw'' and PASSWORD '*0A42012C3C0573F9D5B4F8DFD5221AA28D1F97E4' "
        "USING 'EchwVcRxoNgdHuI1aRQuEG1pU6BI4mb10QEd0EDVWBg' bare *0A42012C3C0573F9D5B4F8DFD5221AA28D1F97E4"
    )
    out = scrub(text, ["Secr3t!pw"])
    for secret in ("Secr3t!pw", "0A42012C3C05", "EchwVcRxoNgd"):
        assert secret not in out


@pytest.mark.parametrize(
    "kwargs",
    [
        {"port": 0},
        {"port": 70000},
        {"connect_timeout": 0},
        {"read_timeout": -1},
    ],
)
def test_invalid_arguments_raise(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {"port": 3306, **FAST, **kwargs}
    with pytest.raises(ValueError):
        check_account("127.0.0.1", args.pop("port"), "u", "pw", **args)


# -- without a server ------------------------------------------------------------------------


def test_closed_port_is_unknown_naming_the_endpoint() -> None:
    with refusing_port() as port:
        result = check_account("127.0.0.1", port, "dbadmin", "Cl0sed!Port", **FAST)
    assert result.status == "unknown" and result.privileges_ok is None
    assert result.password_ok is None
    assert result.cause is not None and f"127.0.0.1:{port}" in result.cause
    assert "refused" in result.cause
    _assert_clean(result, "Cl0sed!Port")


def test_unresolvable_host_is_unknown() -> None:
    result = check_account(
        "no-such-host.invalid", 3306, "dbadmin", "Unres0lv!ed", **FAST, deadline=30
    )
    assert result.status == "unknown" and result.password_ok is None
    assert result.cause is not None and "no-such-host.invalid:3306" in result.cause


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections (kernel backlog) and never says a word."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


def test_silent_server_is_a_read_timeout(silent_server: int) -> None:
    result = check_account(
        "127.0.0.1", silent_server, "dbadmin", "S1lent!Srv", connect_timeout=5, read_timeout=0.3
    )
    assert result.status == "unknown" and result.password_ok is None
    assert result.cause is not None
    assert f"127.0.0.1:{silent_server}" in result.cause and "read_timeout=0.3s" in result.cause


def test_deadline_bounds_the_whole_check(silent_server: int) -> None:
    # Without the deadline the check would end by a 30 s read timeout, and say so.
    result = check_account(
        "127.0.0.1",
        silent_server,
        "dbadmin",
        "S1lent!Srv",
        connect_timeout=30,
        read_timeout=30,
        deadline=0.5,
    )
    assert result.status == "unknown"
    assert result.cause is not None and "within 0.5s" in result.cause
    assert "read_timeout" not in result.cause


class _FakeServer:
    """Sends a MySQL handshake (no TLS), reads the login, then asks for mysql_clear_password."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port: int = self.sock.getsockname()[1]
        self.received = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def _packet(seq: int, payload: bytes) -> bytes:
        return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload

    def _serve(self) -> None:
        self.sock.settimeout(20)
        conn, _ = self.sock.accept()
        conn.settimeout(5)
        with conn:
            # protocol 41, secure connection, plugin auth, long password; no CLIENT_SSL
            caps = 0x0001 | 0x0200 | 0x8000 | 0x00080000
            salt = b"abcdefgh" + b"ijklmnopqrst"
            handshake = (
                b"\x0a5.7.99-fake\x00"
                + struct.pack("<I", 7)
                + salt[:8]
                + b"\x00"
                + struct.pack("<H", caps & 0xFFFF)
                + bytes([33])
                + struct.pack("<H", 2)
                + struct.pack("<H", caps >> 16)
                + bytes([21])
                + b"\x00" * 10
                + salt[8:]
                + b"\x00"
                + b"mysql_native_password\x00"
            )
            conn.sendall(self._packet(0, handshake))
            self.received += conn.recv(65536)
            conn.sendall(self._packet(2, b"\xfemysql_clear_password\x00"))
            try:
                while chunk := conn.recv(65536):
                    self.received += chunk
            except OSError:
                pass

    def close(self) -> None:
        self.thread.join(30)
        self.sock.close()


def test_cleartext_password_plugin_is_refused_without_verified_tls() -> None:
    password = "Cl3ar!text-pw"
    server = _FakeServer()
    result = check_account("127.0.0.1", server.port, "dbadmin", password, **FAST)
    server.close()
    assert result.status == "unknown" and result.password_ok is None
    assert result.cause is not None and "cleartext" in result.cause
    assert f"127.0.0.1:{server.port}" in result.cause
    assert password.encode() not in server.received
    assert b"dbadmin" in server.received  # the login did reach the fake server


def test_plain_pymysql_would_send_the_cleartext_password() -> None:
    # Witness that the fake server exercises the risk the refusal guards against.
    password = "Cl3ar!text-pw"
    server = _FakeServer()
    with pytest.raises(pymysql.err.MySQLError):
        pymysql.connect(
            host="127.0.0.1",
            port=server.port,
            user="u",
            password=password,
            connect_timeout=5,
            read_timeout=2,
        )
    server.close()
    assert password.encode() in server.received


# -- scripted servers (MySQL families without a MySQL server) -------------------------------

GRANTS = Path(__file__).parent.parent / "fixtures" / "grants"
Responder = Callable[[tuple[Any, ...] | None], list[tuple[Any, ...]]]


def _lines(name: str) -> list[tuple[Any, ...]]:
    return [(line,) for line in (GRANTS / name).read_text().splitlines()]


def _tsv(name: str) -> list[tuple[Any, ...]]:
    rows = [line.split("\t") for line in (GRANTS / name).read_text().splitlines()[1:]]
    return [(r[0], r[2], r[3]) for r in rows]


class _ScriptedCursor:
    """An unbuffered cursor's surface: description, then rows one by one, then None."""

    def __init__(
        self, script: dict[str, Responder | list[tuple[Any, ...]]], log: list[str]
    ) -> None:
        self.script, self.log = script, log
        self.rows: Iterator[tuple[Any, ...]] = iter(())
        self.description: tuple[tuple[str], ...] | None = None
        self.connection: object = object()

    def execute(self, sql: str, args: tuple[Any, ...] | None = None) -> None:
        self.log.append(sql)
        answer = self.script[sql]
        rows = answer(args) if callable(answer) else answer
        self.description = (("column",),) * _COLUMNS.get(sql, 1)
        self.rows = iter(rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        return next(self.rows, None)

    def close(self) -> None:
        return None


class _ScriptedConnection:
    def __init__(self, script: dict[str, Responder | list[tuple[Any, ...]]]) -> None:
        self.script = script
        self.log: list[str] = []
        self.closed = False

    def cursor(self, cursor_class: object = None) -> _ScriptedCursor:
        return _ScriptedCursor(self.script, self.log)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def scripted(
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., tuple[SqlCheckResult, _ScriptedConnection, dict[str, Any]]]:
    """Run check_account against a scripted connection; return result, connection, connect kwargs."""

    def run(
        script: dict[str, Responder | list[tuple[Any, ...]]], **kwargs: Any
    ) -> tuple[SqlCheckResult, _ScriptedConnection, dict[str, Any]]:
        connection = _ScriptedConnection(script)
        seen: dict[str, Any] = {}

        def connect(**options: Any) -> _ScriptedConnection:
            seen.update(options)
            return connection

        monkeypatch.setattr(pymysql, "connect", connect)
        result = check_account("db.example", 3306, "dbadmin", "Scr1pted!pw", **FAST, **kwargs)
        _assert_clean(result, "Scr1pted!pw", *HASHES_IN_FIXTURES)
        assert connection.closed
        return result, connection, seen

    return run


HASHES_IN_FIXTURES = (
    "6C8989366EAF75BB670AD8EA7A7FC1176A95CEF4",
    "54613909C8E5FFA25D5683AFF958A82BCF216402",
)
WHO = "SELECT VERSION(), CURRENT_USER()"
ROLE = "SELECT CURRENT_ROLE()"
UP = _sql._USER_PRIVILEGES_SQL
#: The columns of each query's answer (SHOW GRANTS and the rest: 1).
_COLUMNS = {WHO: 2, UP: 3}


def test_mysql8_reads_show_grants_using_the_active_roles(scripted: Any) -> None:
    using = "SHOW GRANTS FOR CURRENT_USER() USING `polar_dba`@`%`, `reporting`@`%`"
    result, conn, options = scripted(
        {
            WHO: [("8.0.36", "dbadmin@%")],
            ROLE: [("`polar_dba`@`%`,`reporting`@`%`",)],
            using: _lines("mysql-8.0/role_using.show_grants.txt"),
        }
    )
    assert (result.status, result.server_family, result.sources) == (
        "ok",
        "mysql8",
        ("SHOW GRANTS",),
    )
    assert conn.log == [WHO, ROLE, using]  # USER_PRIVILEGES is not consulted on MySQL 8
    assert result.transport == "cleartext" and result.endpoint == "db.example:3306"
    # Bounded and without a CA bundle: no TLS verification, cleartext plugins refused.
    assert options["connect_timeout"] == options["read_timeout"] == options["write_timeout"] == 5.0
    assert options["password"] == b"Scr1pted!pw" and "ssl_ca" not in options
    assert set(options["auth_plugin_map"]) == {"mysql_clear_password", "dialog"}


def test_mysql8_partial_revoke_is_drift(scripted: Any) -> None:
    result, _, _ = scripted(
        {
            WHO: [("8.0.36-PolarDB", "dbadmin@%")],
            ROLE: [("NONE",)],
            "SHOW GRANTS FOR CURRENT_USER()": _lines("mysql-8.0/partial_revoke.show_grants.txt"),
        }
    )
    assert result.status == "drift" and result.missing_privileges == ("INSERT", "UPDATE")


def test_mysql57_reads_user_privileges_of_the_current_user(scripted: Any) -> None:
    asked: list[Any] = []

    def user_privileges(args: tuple[Any, ...] | None) -> list[tuple[Any, ...]]:
        asked.append(args)
        return _tsv("mysql-5.7/revoked_replication_client.user_privileges.tsv")

    result, conn, _ = scripted({WHO: [("5.7.44-log", "dbadmin@%")], UP: user_privileges})
    assert asked == [("'dbadmin'@'%'",)]
    assert conn.log == [WHO, UP]
    assert (result.status, result.missing_privileges, result.sources) == (
        "drift",
        ("REPLICATION CLIENT",),
        ("USER_PRIVILEGES",),
    )


def test_mysql56_falls_back_to_show_grants_and_drops_the_hash(scripted: Any) -> None:
    result, _, _ = scripted(
        {
            WHO: [("5.6.16-log", "dbadmin@%")],
            UP: [],
            "SHOW GRANTS FOR CURRENT_USER()": _lines("mysql-5.6/missing_three.show_grants.txt"),
        }
    )
    assert result.sources == ("SHOW GRANTS",)
    assert result.missing_privileges == ("CREATE USER", "EVENT", "TRIGGER")


def test_ca_bundle_requires_verified_tls(scripted: Any) -> None:
    _, _, options = scripted(
        {WHO: [("5.7.44", "dbadmin@%")], UP: _tsv("mysql-5.7/full.user_privileges.tsv")},
        ca_bundle="/etc/ssl/polardb-ca.pem",
    )
    assert options["ssl_ca"] == "/etc/ssl/polardb-ca.pem"
    assert options["ssl_verify_cert"] is True and options["ssl_verify_identity"] is True
    assert "auth_plugin_map" not in options


def test_query_errors_are_unknown_and_scrubbed(scripted: Any) -> None:
    def denied(args: tuple[Any, ...] | None) -> list[tuple[Any, ...]]:
        raise pymysql.err.OperationalError(
            1142,
            "denied near 'IDENTIFIED BY PASSWORD '*6C8989366EAF75BB670AD8EA7A7FC1176A95CEF4'' "
            "for Scr1pted!pw",
        )

    result, _, _ = scripted({WHO: [("5.7.44", "dbadmin@%")], UP: denied})
    assert (result.status, result.password_ok) == ("unknown", True)
    assert result.cause is not None and "error 1142" in result.cause
    assert "db.example:3306" in result.cause


def test_unparseable_grants_are_unknown_without_the_text(scripted: Any) -> None:
    line = "GRANT SELECT ON *.* IDENTIFIED BY PASSWORD '*6C8989366EAF75BB670AD8EA7A7FC1176A95CEF4'"
    result, _, _ = scripted(
        {
            WHO: [("8.0.36", "dbadmin@%")],
            ROLE: [("NONE",)],
            "SHOW GRANTS FOR CURRENT_USER()": [(line,)],
        }
    )
    assert (result.status, result.password_ok) == ("unknown", True)
    assert result.cause is not None and "could not be understood" in result.cause


# -- a real MariaDB --------------------------------------------------------------------------


def test_missing_mariadb_skips_locally_and_fails_on_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(emulator_harness, "find_mariadbd", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="mariadbd not found"):
        start_mariadb(tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        start_mariadb(tmp_path)


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    """One throwaway MariaDB for the session, stopped at teardown."""
    server = start_mariadb(tmp_path_factory.mktemp("mariadb"))
    try:
        yield server
    finally:
        server.stop()


_names = itertools.count(1)
ALL_DOCUMENTED = ", ".join(DOCUMENTED_PRIVILEGES)


@dataclass(frozen=True)
class Account:
    """A test account on the throwaway MariaDB."""

    user: str
    password: str

    @property
    def secrets(self) -> tuple[str, ...]:
        """The password and its hash: neither may appear in any result or log."""
        return (self.password, _native_hash(self.password), _native_hash(self.password)[1:])


@pytest.fixture
def account(mariadb: MariaDB) -> Callable[..., Account]:
    """Factory: ``account(*statements)`` creates a user (``{u}`` in statements is the account)."""

    def make(*statements: str) -> Account:
        user = f"sqlchk{next(_names)}"
        password = "Dr1ft!" + secrets.token_urlsafe(12)
        name = f"'{user}'@'%'"
        mariadb.admin(
            ("CREATE USER %s@%s IDENTIFIED BY %s", (user, "%", password)),
            *(s.format(u=name) for s in statements),
        )
        return Account(user, password)

    return make


@pytest.fixture
def privileged(account: Callable[..., Account]) -> Account:
    """An account with the documented set WITH GRANT OPTION."""
    return account(f"GRANT {ALL_DOCUMENTED} ON *.* TO {{u}} WITH GRANT OPTION")


def _check(
    mariadb: MariaDB,
    acct: Account,
    password: str | None = None,
    host: str = "127.0.0.1",
    **kwargs: Any,
) -> SqlCheckResult:
    result = check_account(
        host, mariadb.port, acct.user, password or acct.password, **FAST, **kwargs
    )
    _assert_clean(result, *acct.secrets, *([password] if password else []))
    return result


def test_documented_set_with_grant_option_is_ok(mariadb: MariaDB, privileged: Account) -> None:
    result = _check(mariadb, privileged)
    assert (result.status, result.privileges_ok, result.password_ok) == ("ok", True, True)
    assert result.missing_privileges == () and result.cause is None
    assert result.server_family == "mariadb" and result.sources == ("USER_PRIVILEGES",)
    # The server offers TLS and no CA bundle is configured: encrypted, not verified.
    assert result.transport == "unverified-tls"


def test_revoked_privilege_is_drift_naming_it(mariadb: MariaDB, privileged: Account) -> None:
    mariadb.admin(f"REVOKE RELOAD ON *.* FROM '{privileged.user}'@'%'")
    result = _check(mariadb, privileged)
    assert (result.status, result.privileges_ok, result.password_ok) == ("drift", False, True)
    assert result.missing_privileges == ("RELOAD",)


def test_revoked_grant_option_is_drift(mariadb: MariaDB, privileged: Account) -> None:
    mariadb.admin(f"REVOKE GRANT OPTION ON *.* FROM '{privileged.user}'@'%'")
    result = _check(mariadb, privileged)
    assert result.status == "drift" and result.missing_privileges == ("GRANT OPTION",)


def test_several_revoked_are_sorted(mariadb: MariaDB, privileged: Account) -> None:
    mariadb.admin(f"REVOKE SHOW VIEW, CREATE USER, ALTER ON *.* FROM '{privileged.user}'@'%'")
    assert _check(mariadb, privileged).missing_privileges == ("ALTER", "CREATE USER", "SHOW VIEW")


def test_extra_privileges_are_not_drift(mariadb: MariaDB, privileged: Account) -> None:
    mariadb.admin(f"GRANT SUPER, FILE, SHUTDOWN, SHOW DATABASES ON *.* TO '{privileged.user}'@'%'")
    assert _check(mariadb, privileged).status == "ok"


def test_alias_spellings_are_ok(mariadb: MariaDB, account: Callable[..., Account]) -> None:
    aliased = ALL_DOCUMENTED.replace("REPLICATION SLAVE", "REPLICATION REPLICA").replace(
        "REPLICATION CLIENT", "BINLOG MONITOR"
    )
    acct = account(f"GRANT {aliased} ON *.* TO {{u}} WITH GRANT OPTION")
    assert _check(mariadb, acct).status == "ok"


def test_all_privileges_without_grant_option(
    mariadb: MariaDB, account: Callable[..., Account]
) -> None:
    acct = account("GRANT ALL PRIVILEGES ON *.* TO {u}")
    result = _check(mariadb, acct)
    assert result.status == "drift" and result.missing_privileges == ("GRANT OPTION",)


def test_default_role_privileges_count(mariadb: MariaDB, account: Callable[..., Account]) -> None:
    role = f"sqlchk_role{next(_names)}"
    mariadb.admin(
        f"CREATE ROLE {role}",
        f"GRANT RELOAD, PROCESS, EVENT ON *.* TO {role} WITH GRANT OPTION",
    )
    rest = ", ".join(p for p in DOCUMENTED_PRIVILEGES if p not in ("RELOAD", "PROCESS", "EVENT"))
    acct = account(f"GRANT {rest} ON *.* TO {{u}}", f"GRANT {role} TO {{u}}")
    # Granted but not active at login: its privileges are not the account's.
    not_default = _check(mariadb, acct)
    assert not_default.status == "drift"
    assert not_default.missing_privileges == ("EVENT", "GRANT OPTION", "PROCESS", "RELOAD")
    mariadb.admin(f"SET DEFAULT ROLE {role} FOR '{acct.user}'@'%'")
    result = _check(mariadb, acct)
    assert result.status == "ok" and result.sources == ("USER_PRIVILEGES", "SHOW GRANTS")


def test_wrong_password_is_password_not_ok(mariadb: MariaDB, privileged: Account) -> None:
    wrong = "Wr0ng!" + secrets.token_urlsafe(8)
    result = _check(mariadb, privileged, password=wrong)
    assert (result.status, result.password_ok, result.privileges_ok) == ("unknown", False, None)
    assert result.cause is not None and "1045" in result.cause
    assert f"127.0.0.1:{mariadb.port}" in result.cause


def test_expired_password_still_logs_in(mariadb: MariaDB, privileged: Account) -> None:
    mariadb.admin(f"ALTER USER '{privileged.user}'@'%' PASSWORD EXPIRE")
    result = _check(mariadb, privileged)
    assert (result.status, result.password_ok) == ("unknown", True)
    assert result.cause is not None and "expired" in result.cause


def test_locked_account_is_unknown(mariadb: MariaDB, privileged: Account) -> None:
    mariadb.admin(f"ALTER USER '{privileged.user}'@'%' ACCOUNT LOCK")
    result = _check(mariadb, privileged)
    assert (result.status, result.password_ok) == ("unknown", None)
    assert result.cause is not None and "locked" in result.cause


def test_tls_verified_with_the_ca(mariadb: MariaDB, privileged: Account) -> None:
    result = _check(mariadb, privileged, host="localhost", ca_bundle=mariadb.ca_file)
    assert result.status == "ok" and result.transport == "verified-tls"


def test_tls_with_a_wrong_ca_is_unknown(mariadb: MariaDB, privileged: Account) -> None:
    result = _check(mariadb, privileged, host="localhost", ca_bundle=mariadb.wrong_ca_file)
    assert (result.status, result.password_ok) == ("unknown", None)
    assert result.cause is not None
    assert f"localhost:{mariadb.port}" in result.cause
    assert "TLS certificate" in result.cause and "could not be verified" in result.cause


def test_tls_host_name_mismatch(mariadb: MariaDB, privileged: Account) -> None:
    # The certificate names "localhost"; 127.0.0.1 is not in it.
    mismatch = _check(mariadb, privileged, ca_bundle=mariadb.ca_file)
    assert mismatch.status == "unknown" and mismatch.cause is not None
    assert "could not be verified" in mismatch.cause
    relaxed = _check(mariadb, privileged, ca_bundle=mariadb.ca_file, verify_hostname=False)
    assert relaxed.status == "ok" and relaxed.transport == "verified-tls"


def test_missing_ca_bundle_file_is_unknown(
    mariadb: MariaDB, privileged: Account, tmp_path: Path
) -> None:
    missing = str(tmp_path / "nope.pem")
    result = _check(mariadb, privileged, ca_bundle=missing)
    assert result.status == "unknown" and result.cause is not None
    assert "CA bundle" in result.cause and "nope.pem" in result.cause


def test_show_grants_fallback_and_secrets_never_reach_results_or_logs(
    mariadb: MariaDB,
    privileged: Account,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng!" + secrets.token_urlsafe(8)
    mariadb.admin(f"REVOKE RELOAD ON *.* FROM '{privileged.user}'@'%'")
    # Witness: MariaDB's SHOW GRANTS output carries the password hash.
    grants = mariadb.admin(f"SHOW GRANTS FOR '{privileged.user}'@'%'")
    assert any(_native_hash(privileged.password) in row[0] for row in grants)
    results = [
        _check(mariadb, privileged),
        _check(mariadb, privileged, password=wrong),
        _check(mariadb, privileged, host="localhost", ca_bundle=mariadb.wrong_ca_file),
        _check(mariadb, privileged, host="localhost", ca_bundle=mariadb.ca_file),
    ]
    # No USER_PRIVILEGES row for the grantee: the check falls back to SHOW GRANTS.
    monkeypatch.setattr(_sql, "_USER_PRIVILEGES_SQL", _sql._USER_PRIVILEGES_SQL + " AND 1 = 0")
    fallback = _check(mariadb, privileged)
    assert fallback.sources == ("SHOW GRANTS",)
    assert fallback.status == "drift" and fallback.missing_privileges == ("RELOAD",)
    results.append(fallback)
    texts = [caplog.text, *(repr(r) for r in results)]
    for secret in (*privileged.secrets, wrong, _native_hash(wrong)):
        for text in texts:
            assert secret not in text
    assert "SQL check of" in caplog.text  # the check does log, without secrets


# -- the provider's check, end to end against the TLS MariaDB -------------------------------


def test_provider_refresh_verifies_the_sql_endpoint_with_the_configured_ca(
    mariadb: MariaDB, emu: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """``polardbReset:sqlCaBundle`` reaches the SQL login: verified TLS, drift recorded."""
    import json

    from pulumi.dynamic import ConfigureRequest
    from pulumi.dynamic.config import Config

    from pulumi_polardb_reset import PrivilegedAccountResetProvider
    from pulumi_polardb_reset.core import _fingerprint
    from pulumi_polardb_reset.core import _props as p

    password = "Adm1n!pass"  # the emulator's seed password of dbadmin
    mariadb.admin(
        ("CREATE OR REPLACE USER 'dbadmin'@'%%' IDENTIFIED BY %s", (password,)),
        f"GRANT {ALL_DOCUMENTED} ON *.* TO 'dbadmin'@'%' WITH GRANT OPTION",
    )
    outputs = {
        p.DB_CLUSTER_ID: "pc-mysql00000001",
        p.ACCOUNT_NAME: "dbadmin",
        p.TIMEOUT_SECONDS: 30,
        p.PASSWORD_FINGERPRINT: _fingerprint.fingerprint(password),
        p.CHECK_PRIVILEGES: True,
        p.SQL_ENDPOINT: f"localhost:{mariadb.port}",  # the name the certificate carries
        p.SQL_CHECK_PASSWORD: password,
    }

    def refresh(ca_file: str) -> dict[str, Any]:
        config = {
            "alicloud:accessKey": "LTAI5tEmulatorKey01",
            "alicloud:secretKey": "emulator-secret-01",
            "alicloud:region": "cn-hangzhou",
            "alicloud:endpoints": json.dumps([{"polardb": emu.base_url}]),
            "polardbReset:sqlCaBundle": ca_file,
        }
        provider = PrivilegedAccountResetProvider()
        provider.configure(ConfigureRequest(Config(config, "polardb-reset")))
        outs = provider.read("pc-mysql00000001:dbadmin", dict(outputs)).outs
        assert outs is not None
        return outs

    caplog.set_level(logging.DEBUG)
    outs = refresh(mariadb.ca_file)
    assert (outs[p.PRIVILEGES_OK], outs[p.PASSWORD_OK]) == (True, True)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []

    mariadb.admin("REVOKE CREATE ROUTINE ON *.* FROM 'dbadmin'@'%'")
    outs = refresh(mariadb.ca_file)
    assert (outs[p.PRIVILEGES_OK], outs[p.MISSING_PRIVILEGES]) == (False, ["CREATE ROUTINE"])

    caplog.clear()
    outs = refresh(mariadb.wrong_ca_file)  # not verifiable: unknown, not drift
    assert (outs[p.PRIVILEGES_OK], outs[p.PASSWORD_OK]) == (None, None)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert f"localhost:{mariadb.port}" in warning and "could not be verified" in warning
    for secret in (password, _native_hash(password), _native_hash(password)[1:]):
        assert secret not in caplog.text
