"""Checks of the privileged account over the cluster's SQL endpoint: the only module that talks SQL.

:func:`check_account` logs in as the account (which answers "does the managed password
still log in?") and compares the account's effective global privileges with the documented
set (:mod:`._privileges` decides what is authoritative per server family). PyMySQL is
imported lazily, inside the check, like the Alibaba Cloud SDK in ``_client``.

Failure is not drift: an unreachable endpoint, a timeout, a TLS failure or unreadable grants
give ``status="unknown"`` with a ``cause`` naming the endpoint (never the password). Causes
are written here from error numbers and socket errors; the server's own text is included
only for unclassified errors, after scrubbing the password and anything hash-like.

Bounded reads: a privileged account's grants are a few dozen short rows, and the endpoint is
not trusted to be a MySQL server. Answers are streamed (an unbuffered cursor), each query's
rows are capped at :data:`MAX_ROWS`, and the whole session reads at most :data:`MAX_BYTES`
from the socket. An answer of the wrong shape (column count, row count) or size is dropped
at once, connection closed without reading the rest, and the check is ``unknown`` with one
line naming the endpoint, like a timeout.

Transport: with ``ca_bundle`` the session requires TLS and verifies the certificate (and
the host name unless ``verify_hostname=False``). Without it, PyMySQL's default applies: TLS
when the server offers it, unverified, else cleartext; the caller should warn once when
``ca_bundle is None and not is_loopback_host(host)``. On such unverified sessions this module
refuses the ``mysql_clear_password`` and ``dialog`` plugins, which would send the password
itself rather than a scramble.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import socket
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal

from ..core._privileges import (
    DOCUMENTED_PRIVILEGES,
    GlobalGrants,
    GrantParseError,
    ServerFamily,
    Source,
    check_privileges,
    global_grants_from_show_grants,
    global_grants_from_user_privileges,
    missing_privileges,
    parse_current_roles,
    server_family,
    show_grants_statement,
    split_current_user,
)
from ..core._scrub import scrub_text

log = logging.getLogger("pulumi_polardb_reset")

Status = Literal["ok", "drift", "unknown"]
Transport = Literal["verified-tls", "unverified-tls", "cleartext"]

_USER_PRIVILEGES_SQL: Final = (
    "SELECT GRANTEE, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES "
    "WHERE GRANTEE = %s"
)
# Server error numbers (MySQL and MariaDB) and client error numbers (PyMySQL, libmysql).
_ACCESS_DENIED: Final = frozenset({1045, 1698})
_PASSWORD_EXPIRED: Final = frozenset({1820, 1862})
_ACCOUNT_LOCKED: Final = frozenset({3118, 4151})
_SECURE_TRANSPORT_REQUIRED: Final = 3159
_CR_CONN_HOST_ERROR: Final = 2003
_CR_SERVER_GONE: Final = 2006
_CR_SERVER_LOST: Final = 2013
_CR_SSL_CONNECTION_ERROR: Final = 2026

#: Rows one query may answer with: SHOW GRANTS of an account with grants on many databases
#: stays far below; USER_PRIVILEGES has one row per global privilege.
MAX_ROWS: Final = 5_000
#: Bytes one check reads from the server (handshake included): about a thousand times what a
#: real answer takes, and small enough to keep a hostile answer from growing the provider.
MAX_BYTES: Final = 4 * 1024 * 1024


@dataclass(frozen=True)
class SqlCheckResult:
    """What the SQL endpoint said about the account; never holds the password or a hash.

    ``status`` is ``ok`` (every documented privilege and ``GRANT OPTION`` held), ``drift``
    (``missing_privileges`` says what is missing, sorted) or ``unknown`` (``cause`` says why:
    unreachable, timeout, TLS, login refused, unreadable grants). ``password_ok`` is True
    when the login succeeded (or the server accepted the password but requires a change),
    False when the server refused it (error 1045), None when it could not be tried.
    ``transport`` is how the session ran, None without a session.
    """

    status: Status
    endpoint: str
    password_ok: bool | None
    missing_privileges: tuple[str, ...] = ()
    cause: str | None = None
    server_family: ServerFamily | None = None
    sources: tuple[Source, ...] = ()
    transport: Transport | None = None

    @property
    def privileges_ok(self) -> bool | None:
        """True for ``ok``, False for ``drift``, None when the privileges were not checked."""
        return None if self.status == "unknown" else self.status == "ok"


def format_endpoint(host: str, port: int) -> str:
    """``host:port``, with brackets around an IPv6 address."""
    bare = host.strip("[]")
    return f"[{bare}]:{port}" if ":" in bare else f"{host}:{port}"


def check_account(
    host: str,
    port: int,
    user: str,
    password: str,
    *,
    connect_timeout: float,
    read_timeout: float,
    ca_bundle: str | None = None,
    verify_hostname: bool = True,
    required: Iterable[str] = DOCUMENTED_PRIVILEGES,
    deadline: float | None = None,
) -> SqlCheckResult:
    """Log in to ``host:port`` as ``user`` and check its global privileges against ``required``.

    Never raises for server, network or TLS trouble: those are ``status="unknown"`` results.
    ``connect_timeout`` bounds the TCP connect, ``read_timeout`` each read and write; the
    whole check (name resolution included, which no socket timeout covers) runs in a
    worker thread bounded by ``deadline`` seconds (default ``connect_timeout +
    2 * read_timeout``). Raises ValueError only for invalid arguments.
    """
    if not 0 < port < 65536:
        raise ValueError("port must be between 1 and 65535")
    if connect_timeout <= 0 or read_timeout <= 0:
        raise ValueError("connect_timeout and read_timeout must be positive")
    endpoint = format_endpoint(host, port)
    budget = deadline if deadline is not None else connect_timeout + 2 * read_timeout
    required = tuple(required)
    secrets = (password,)
    outcome: list[SqlCheckResult] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            outcome.append(
                _check(
                    host,
                    port,
                    user,
                    password,
                    endpoint=endpoint,
                    connect_timeout=connect_timeout,
                    read_timeout=read_timeout,
                    ca_bundle=ca_bundle,
                    verify_hostname=verify_hostname,
                    required=required,
                )
            )
        except BaseException as exc:  # a bug: re-raised below, in the caller's thread
            failure.append(exc)

    # A daemon thread, so that a resolver stuck past the deadline cannot hold the caller;
    # it ends on its own socket timeouts and closes its connection.
    worker = threading.Thread(target=work, name=f"sql-check {endpoint}", daemon=True)
    worker.start()
    worker.join(budget)
    if failure:
        # Only the type: an unexpected exception's text is not known to be free of secrets.
        raise RuntimeError(f"SQL check failed unexpectedly ({type(failure[0]).__name__})") from None
    if not outcome:
        result = _unknown(
            endpoint,
            f"the SQL endpoint {endpoint} did not complete the check within {budget:g}s "
            "(name resolution, connect and queries)",
        )
    else:
        result = outcome[0]
    if result.cause:
        result = dataclasses.replace(result, cause=scrub(result.cause, secrets))
    log.debug(
        "SQL check of '%s' at %s: %s%s",
        user,
        endpoint,
        result.status,
        f" ({result.cause})" if result.cause else "",
    )
    return result


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` scrubbed (:func:`~..core._scrub.scrub_text`); secrets shorter than 3 characters,
    which would match words of a server's message, are left alone."""
    return scrub_text(text, secrets, min_length=3)


# -- the check (runs in the worker thread) ---------------------------------------------------


class _CleartextRefusedError(Exception):
    """The server asked for the password itself over a session that is not verified TLS."""


class _RefuseCleartextPlugin:
    """PyMySQL auth plugin handler that refuses to run (constructed when the server asks for it)."""

    def __init__(self, connection: object) -> None:
        raise _CleartextRefusedError


def _check(
    host: str,
    port: int,
    user: str,
    password: str,
    *,
    endpoint: str,
    connect_timeout: float,
    read_timeout: float,
    ca_bundle: str | None,
    verify_hostname: bool,
    required: tuple[str, ...],
) -> SqlCheckResult:
    import pymysql  # type: ignore[import-untyped]

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "user": user,
        # Bytes: PyMySQL would encode a str as latin-1; servers see what clients send, UTF-8.
        "password": password.encode("utf-8"),
        "connect_timeout": connect_timeout,
        "read_timeout": read_timeout,
        "write_timeout": read_timeout,
        "charset": "utf8mb4",
        "autocommit": True,
        "local_infile": False,
        "program_name": "pulumi-polardb-reset",
    }
    if ca_bundle:
        options.update(ssl_ca=ca_bundle, ssl_verify_cert=True, ssl_verify_identity=verify_hostname)
    else:
        options["auth_plugin_map"] = {
            "mysql_clear_password": _RefuseCleartextPlugin,
            "dialog": _RefuseCleartextPlugin,
        }
    try:
        connection = _bounded_connection_class(pymysql)(**options)
    except _BadAnswerError as exc:
        return _unknown(endpoint, _bad_answer(endpoint, "the login", exc))
    except _CleartextRefusedError:
        return _unknown(
            endpoint,
            f"the SQL endpoint {endpoint} asked for the password of '{user}' in cleartext "
            "(mysql_clear_password or dialog plugin) over a connection that is not verified "
            "TLS; refused. Configure a CA bundle for the SQL endpoint.",
        )
    except pymysql.err.MySQLError as exc:
        return _login_failure(exc, endpoint, user, connect_timeout, read_timeout, ca_bundle)
    except OSError as exc:
        # Raised before any connection (connect() wraps its own OSErrors): the TLS context,
        # that is an unreadable or invalid CA bundle.
        what = f"the CA bundle {ca_bundle!r}" if ca_bundle else "the TLS context"
        return _unknown(
            endpoint, f"{what} for the SQL endpoint {endpoint} cannot be used ({_os_reason(exc)})"
        )

    transport = _transport(connection, ca_bundle)
    try:
        family, grants = _read_grants(connection, required)
    except _BadAnswerError as exc:
        return _unknown(
            endpoint,
            _bad_answer(endpoint, f"the query of the grants of '{user}'", exc),
            password_ok=True,
            transport=transport,
        )
    except pymysql.err.InternalError:
        # PyMySQL's word for packets out of sequence: the answer does not follow the protocol.
        return _unknown(
            endpoint,
            _bad_answer(
                endpoint,
                f"the query of the grants of '{user}'",
                _BadAnswerError("packets out of the MySQL protocol's sequence"),
            ),
            password_ok=True,
            transport=transport,
        )
    except GrantParseError as exc:
        return _unknown(
            endpoint,
            f"the grants of '{user}' on {endpoint} could not be understood: {exc}",
            password_ok=True,
            transport=transport,
        )
    except pymysql.err.MySQLError as exc:
        code = _errno(exc)
        # MariaDB (and MySQL with disconnect_on_expired_password=OFF) lets an expired
        # password log in to a sandbox where every query fails with 1820.
        cause = (
            _expired(user, endpoint, code)
            if code in _PASSWORD_EXPIRED
            else f"reading the privileges of '{user}' on {endpoint} failed: {_mysql_reason(exc)}"
        )
        return _unknown(endpoint, cause, password_ok=True, transport=transport)
    finally:
        with contextlib.suppress(Exception):  # already closed after a lost connection
            connection.close()

    check = check_privileges(grants, required)
    return SqlCheckResult(
        status="ok" if check.ok else "drift",
        endpoint=endpoint,
        password_ok=True,
        missing_privileges=check.missing,
        server_family=family,
        sources=check.sources,
        transport=transport,
    )


class _BadAnswerError(Exception):
    """An answer no MySQL server gives to the query (columns, rows or size); the text says how."""


def _bounded_connection_class(pymysql: Any) -> Any:
    """PyMySQL's Connection, reading at most :data:`MAX_BYTES` from the server.

    PyMySQL reads a whole packet (up to 16 MiB, and a row may span several) before any
    row cap could see it, so the cap is on the socket reads themselves: the one place that
    bounds a hostile answer's memory whatever its shape.
    """
    base = pymysql.connect  # the Connection class (a stand-in in some tests)
    if not isinstance(base, type) or not callable(getattr(base, "_read_bytes", None)):
        return base

    class BoundedConnection(base):  # type: ignore[misc, valid-type]
        bytes_read = 0

        def _read_bytes(self, num_bytes: int) -> bytes:
            self.bytes_read += num_bytes
            if self.bytes_read > MAX_BYTES:
                raise _BadAnswerError(f"more than {MAX_BYTES // 1024} KiB")
            data: bytes = super()._read_bytes(num_bytes)
            return data

    return BoundedConnection


def _bad_answer(endpoint: str, what: str, exc: _BadAnswerError) -> str:
    return (
        f"the SQL endpoint {endpoint} answered {what} with {exc}, which no MySQL server "
        "sends; answer dropped, privileges not checked"
    )


def _rows(
    cursor: Any,
    statement: str,
    args: tuple[Any, ...] | None = None,
    *,
    columns: int,
    max_rows: int = MAX_ROWS,
) -> list[tuple[Any, ...]]:
    """Run ``statement``; its rows, each of ``columns`` values, at most ``max_rows`` of them.

    Streams (the cursor is unbuffered) and stops at the first row too many: the caller
    drops the connection rather than read the rest.
    """
    cursor.execute(statement, args)
    width = len(cursor.description or ())
    if width != columns:
        raise _BadAnswerError(f"{width} column(s) where {columns} were expected")
    rows: list[tuple[Any, ...]] = []
    while (row := cursor.fetchone()) is not None:
        if len(rows) == max_rows:
            raise _BadAnswerError(f"more than {max_rows} row(s)")
        rows.append(tuple(row))
    return rows


def _one_row(cursor: Any, statement: str, *, columns: int) -> tuple[Any, ...]:
    rows = _rows(cursor, statement, columns=columns, max_rows=1)
    if not rows:
        raise _BadAnswerError("no row where one was expected")
    return rows[0]


def _read_grants(connection: Any, required: tuple[str, ...]) -> tuple[ServerFamily, GlobalGrants]:
    """Read the session's effective global grants from the family's authoritative source."""
    import pymysql.cursors  # type: ignore[import-untyped]

    cursor = connection.cursor(pymysql.cursors.SSCursor)
    try:
        family, grants = _read_grants_with(cursor, required)
    except BaseException:
        # Drop the connection, not the cursor: closing an unbuffered cursor (or collecting its
        # result) reads the rest of its answer, however long. COM_QUIT is a write; the
        # socket is closed after it.
        with contextlib.suppress(Exception):
            connection.close()
        cursor.connection = None
        result = getattr(connection, "_result", None)
        if result is not None and getattr(result, "unbuffered_active", False):
            result.unbuffered_active = False
        raise
    cursor.close()
    return family, grants


def _read_grants_with(cursor: Any, required: tuple[str, ...]) -> tuple[ServerFamily, GlobalGrants]:
    version, current_user = _one_row(cursor, "SELECT VERSION(), CURRENT_USER()", columns=2)
    family = server_family(_text(version))
    account = split_current_user(_text(current_user))
    if family == "mysql8":
        roles = parse_current_roles(_one_row(cursor, "SELECT CURRENT_ROLE()", columns=1)[0])
        return family, _show_grants(cursor, show_grants_statement(family, roles))
    rows = _rows(cursor, _USER_PRIVILEGES_SQL, (account.grantee_literal,), columns=3)
    grants = global_grants_from_user_privileges(rows, grantee=account)
    if grants.rows == 0:
        # No row for the grantee (unexpected spelling, restricted view): fall back.
        return family, _show_grants(cursor, show_grants_statement(family))
    # USER_PRIVILEGES never shows role privileges; roles only add (no partial revokes).
    if (
        family == "mariadb"
        and missing_privileges(grants, required)
        and _one_row(cursor, "SELECT CURRENT_ROLE()", columns=1)[0] is not None
    ):
        grants = grants.union(_show_grants(cursor, "SHOW GRANTS FOR CURRENT_ROLE"))
    return family, grants


def _show_grants(cursor: Any, statement: str) -> GlobalGrants:
    # The rows may carry a password hash (MariaDB, MySQL 5.6): parsed here and dropped.
    return global_grants_from_show_grants(
        _text(row[0]) for row in _rows(cursor, statement, columns=1)
    )


def _transport(connection: Any, ca_bundle: str | None) -> Transport:
    # The client's own socket is the truth (a proxy could answer Ssl_cipher for its backend).
    if not isinstance(getattr(connection, "_sock", None), ssl.SSLSocket):
        return "cleartext"
    return "verified-tls" if ca_bundle else "unverified-tls"


def _login_failure(
    exc: Any,
    endpoint: str,
    user: str,
    connect_timeout: float,
    read_timeout: float,
    ca_bundle: str | None,
) -> SqlCheckResult:
    code = _errno(exc)
    original = getattr(exc, "original_exception", None)
    if code in _ACCESS_DENIED:
        return _unknown(
            endpoint,
            f"the SQL endpoint {endpoint} refused the login of '{user}' with the managed "
            f"password (access denied, error {code}: wrong password, or no such account for "
            "this client address); privileges not checked",
            password_ok=False,
        )
    if code in _PASSWORD_EXPIRED:
        return _unknown(endpoint, _expired(user, endpoint, code), password_ok=True)
    if code in _ACCOUNT_LOCKED:
        cause = f"the account '{user}' is locked on {endpoint} (error {code})"
    elif code == _SECURE_TRANSPORT_REQUIRED:
        cause = (
            f"the SQL endpoint {endpoint} requires TLS: configure a CA bundle for it (error {code})"
        )
    elif code == _CR_SSL_CONNECTION_ERROR:
        cause = f"the SQL endpoint {endpoint} does not offer TLS, but a CA bundle is configured"
    elif code == _CR_CONN_HOST_ERROR and isinstance(original, OSError):
        cause = _connect_failure(original, endpoint, connect_timeout, ca_bundle)
    elif code in (_CR_SERVER_LOST, _CR_SERVER_GONE):
        timed_out = "timed out" in str(exc.args[1] if len(exc.args) > 1 else "")
        cause = (
            f"the SQL endpoint {endpoint} did not answer within read_timeout={read_timeout:g}s"
            if timed_out
            else f"the SQL endpoint {endpoint} closed the connection during login"
        )
    else:
        cause = f"logging in to {endpoint} as '{user}' failed: {_mysql_reason(exc)}"
    return _unknown(endpoint, cause)


def _expired(user: str, endpoint: str, code: int | None) -> str:
    return (
        f"the password of '{user}' on {endpoint} has expired (error {code}): it still logs in, "
        "but must be changed before the privileges can be read"
    )


def _connect_failure(
    error: OSError, endpoint: str, connect_timeout: float, ca_bundle: str | None
) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return (
            f"the TLS certificate of the SQL endpoint {endpoint} could not be verified with the "
            f"CA bundle {ca_bundle!r} ({error.verify_message or error.reason or 'verification failed'})"
        )
    if isinstance(error, ssl.SSLError):
        return f"the TLS handshake with the SQL endpoint {endpoint} failed ({error.reason or type(error).__name__})"
    if isinstance(error, socket.gaierror):
        return f"the host of the SQL endpoint {endpoint} cannot be resolved ({_os_reason(error)})"
    if isinstance(error, ConnectionRefusedError):
        return f"the SQL endpoint {endpoint} refused the connection (nothing listens there?)"
    if isinstance(error, TimeoutError):
        return f"the SQL endpoint {endpoint} did not accept a connection within connect_timeout={connect_timeout:g}s"
    return f"the SQL endpoint {endpoint} cannot be reached ({_os_reason(error)})"


def _unknown(
    endpoint: str,
    cause: str,
    *,
    password_ok: bool | None = None,
    transport: Transport | None = None,
) -> SqlCheckResult:
    return SqlCheckResult(
        status="unknown",
        endpoint=endpoint,
        password_ok=password_ok,
        cause=cause,
        transport=transport,
    )


def _errno(exc: Any) -> int | None:
    args: tuple[Any, ...] = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def _mysql_reason(exc: Any) -> str:
    """``error N: <server text>``, scrubbed and bounded (the text may echo statements)."""
    code = _errno(exc)
    args: tuple[Any, ...] = getattr(exc, "args", ())
    text = scrub(str(args[1]) if len(args) > 1 else "")[:200]
    label = f"error {code}" if code is not None else type(exc).__name__
    return f"{label}: {text}" if text else label


def _os_reason(error: BaseException) -> str:
    # strerror ("Connection refused", "Name or service not known") never carries secrets.
    reason = getattr(error, "strerror", None)
    return str(reason) if reason else type(error).__name__


def _text(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return "" if value is None else str(value)
