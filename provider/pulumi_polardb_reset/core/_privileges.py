"""Permission drift of the privileged account (pure: parsing and comparison, no I/O).

PolarDB documents the privileged account's global privileges as the 23 privileges of
:data:`DOCUMENTED_PRIVILEGES` on ``*.*`` plus ``GRANT OPTION``. Drift means that one of them
is no longer effectively held; extra privileges are not drift (subset semantics).

What "effectively held" means: the privileges the account has on ``*.*`` in a session
opened with its password, that is with its *default* roles active (MySQL 8 also activates
mandatory roles, or every granted role with ``activate_all_roles_on_login``; MariaDB
activates the default role). ``CURRENT_ROLE()`` right after login names exactly those roles,
so it is the ground truth for roles on both MySQL 8 and MariaDB.

Authoritative source per server family (see :func:`authoritative_source`):

* **MySQL 5.6/5.7** (``mysql5``): ``information_schema.USER_PRIVILEGES``. There are no roles,
  no partial revokes and no dynamic privileges, so its rows for ``CURRENT_USER()`` are the
  whole story, in structured form and without the password hash (which MySQL 5.6's
  ``SHOW GRANTS`` prints). ``SHOW GRANTS FOR CURRENT_USER()`` is the fallback when no row
  matches the grantee.
* **MariaDB 10.x** (``mariadb``): ``USER_PRIVILEGES`` for the user's own grants; it never lists
  role privileges, so when privileges look missing and a role is active, the grants of
  ``SHOW GRANTS FOR CURRENT_ROLE`` (which include nested roles) are added. MariaDB has no
  partial revokes, so grants only add up. Reading the role's grants rather than the session's
  ``SHOW GRANTS`` keeps the user's line, which carries ``IDENTIFIED BY PASSWORD '*...'``, off
  the wire; ``SHOW GRANTS`` is the fallback when no row matches the grantee.
* **MySQL 8.0+** (``mysql8``): ``SHOW GRANTS FOR CURRENT_USER() USING <CURRENT_ROLE()>``.
  ``USER_PRIVILEGES`` shows neither the privileges of roles nor partial revokes
  (``REVOKE ... ON db.* FROM`` restrictions live outside the privilege columns), so it would
  call a role-based account drifted and a partially revoked one healthy. MySQL 8 prints no
  password hash in ``SHOW GRANTS``.

Normalisation: names are upper-cased with single spaces; ``REPLICATION REPLICA`` (MariaDB
10.5.1+, MySQL 8.0.22+ syntax) counts as ``REPLICATION SLAVE``; ``BINLOG MONITOR`` (the name
MariaDB 10.5.2+ shows for ``REPLICATION CLIENT``) counts as ``REPLICATION CLIENT``;
``ALL [PRIVILEGES]`` on ``*.*`` holds every documented privilege (but not ``GRANT OPTION``).
A partial revoke of a documented privilege (or of ``GRANT OPTION``) is drift: the account
no longer holds it on ``*.*``.

Secrets: a ``SHOW GRANTS`` line can carry a password hash (``IDENTIFIED BY PASSWORD '*...'``,
``IDENTIFIED VIA plugin USING '...'``). The parser keeps nothing after the grantee but the
``WITH ... GRANT OPTION`` flag, and its errors name only the line number, never its text.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

ServerFamily = Literal["mysql5", "mysql8", "mariadb"]
Source = Literal["USER_PRIVILEGES", "SHOW GRANTS"]

DOCUMENTED_PRIVILEGES: Final[tuple[str, ...]] = (
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "RELOAD",
    "PROCESS",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "LOCK TABLES",
    "EXECUTE",
    "TRIGGER",
    "CREATE TEMPORARY TABLES",
    "REPLICATION SLAVE",
    "REPLICATION CLIENT",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "CREATE USER",
    "EVENT",
)
"""The privileged account's documented global privileges (on ``*.*``), in documentation order."""

GRANT_OPTION: Final = "GRANT OPTION"
ALL_PRIVILEGES: Final = "ALL PRIVILEGES"

# Privileges that exist at schema level too, so a partial revoke (REVOKE ... ON db.*) can
# restrict them; "REVOKE ALL ON db.*" restricts exactly these.
SCHEMA_LEVEL_PRIVILEGES: Final[frozenset[str]] = frozenset(
    {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "CREATE",
        "DROP",
        "REFERENCES",
        "INDEX",
        "ALTER",
        "LOCK TABLES",
        "EXECUTE",
        "TRIGGER",
        "CREATE TEMPORARY TABLES",
        "CREATE VIEW",
        "SHOW VIEW",
        "CREATE ROUTINE",
        "ALTER ROUTINE",
        "EVENT",
    }
)

_ALIASES: Final[dict[str, str]] = {
    "ALL": ALL_PRIVILEGES,
    "REPLICATION REPLICA": "REPLICATION SLAVE",
    "BINLOG MONITOR": "REPLICATION CLIENT",
    "REPLICA MONITOR": "SLAVE MONITOR",
}


def normalize_privilege(name: str) -> str:
    """Return the canonical spelling of a privilege name: upper case, single spaces, aliases folded."""
    text = " ".join(name.split()).upper()
    return _ALIASES.get(text, text)


#: The static privileges, as ``SHOW GRANTS`` and ``USER_PRIVILEGES`` name them (normalised):
#: MySQL 8.0's "Static Privilege Descriptions" (the same names as 5.6 and 5.7 have), and
#: MariaDB's privileges, all static (MariaDB has no dynamic privileges; its names of two or
#: more words are static by syntax too). Every other global privilege of MySQL 8 is dynamic:
#: registered by the server or by a component or plugin under any identifier, with or
#: without an underscore, and its ``WITH GRANT OPTION`` is that privilege's own.
STATIC_PRIVILEGES: Final[frozenset[str]] = frozenset(
    {
        # MySQL 8.0 (and 5.6/5.7), in the manual's order.
        ALL_PRIVILEGES,
        "ALTER",
        "ALTER ROUTINE",
        "CREATE",
        "CREATE ROLE",
        "CREATE ROUTINE",
        "CREATE TABLESPACE",
        "CREATE TEMPORARY TABLES",
        "CREATE USER",
        "CREATE VIEW",
        "DELETE",
        "DROP",
        "DROP ROLE",
        "EVENT",
        "EXECUTE",
        "FILE",
        GRANT_OPTION,
        "INDEX",
        "INSERT",
        "LOCK TABLES",
        "PROCESS",
        "PROXY",
        "REFERENCES",
        "RELOAD",
        "REPLICATION CLIENT",
        "REPLICATION SLAVE",
        "SELECT",
        "SHOW DATABASES",
        "SHOW VIEW",
        "SHUTDOWN",
        "SUPER",
        "TRIGGER",
        "UPDATE",
        "USAGE",
        # MariaDB 10.3-11.x (aliases folded by normalize_privilege).
        "BINLOG ADMIN",
        "BINLOG REPLAY",
        "CONNECTION ADMIN",
        "DELETE HISTORY",
        "FEDERATED ADMIN",
        "READ_ONLY ADMIN",
        "REPLICATION MASTER ADMIN",
        "REPLICATION SLAVE ADMIN",
        "SET USER",
        "SHOW CREATE ROUTINE",
        "SLAVE MONITOR",
    }
)


def _is_dynamic(name: str) -> bool:
    # A normalised name that is not one of the fixed static privileges. A dynamic
    # privilege is one identifier, so a name of several words is never dynamic (a static
    # privilege of a MariaDB newer than this list, say).
    return name not in STATIC_PRIVILEGES and " " not in name


class GrantParseError(ValueError):
    """A grant line could not be understood. The message never quotes the line (it may hold a hash)."""


@dataclass(frozen=True)
class Account:
    """A user or role: ``host`` is None for a MariaDB role (or ``PUBLIC``)."""

    user: str
    host: str | None = None

    @property
    def grantee_literal(self) -> str:
        """The account as ``information_schema.*_PRIVILEGES.GRANTEE`` spells it: ``'user'@'host'``."""
        return f"'{self.user}'" if self.host is None else f"'{self.user}'@'{self.host}'"

    def quoted(self) -> str:
        """The account as an SQL identifier: ```user`@`host``` with backticks doubled."""
        name = _quote_identifier(self.user)
        return name if self.host is None else f"{name}@{_quote_identifier(self.host)}"

    def __str__(self) -> str:
        return self.user if self.host is None else f"{self.user}@{self.host}"


def _quote_identifier(text: str) -> str:
    return "`" + text.replace("`", "``") + "`"


@dataclass(frozen=True)
class GrantLine:
    """One parsed ``GRANT``/``REVOKE`` line of ``SHOW GRANTS`` (password clauses discarded).

    ``kind`` is ``privileges`` (``GRANT <privileges> ON <target> TO``), ``roles``
    (``GRANT <roles> TO``) or ``revoke`` (a MySQL 8 partial revoke,
    ``REVOKE <privileges> ON <schema> FROM``). ``grant_option`` is ``WITH GRANT OPTION`` on a
    grant, or ``GRANT OPTION`` named in a revoke.
    """

    kind: Literal["privileges", "roles", "revoke"]
    grantee: Account
    privileges: frozenset[str] = frozenset()
    target: str = ""
    grant_option: bool = False
    roles: tuple[Account, ...] = ()

    @property
    def is_global(self) -> bool:
        """Tell whether the line is about ``*.*``."""
        return self.target == "*.*"


# -- SHOW GRANTS tokenizer ------------------------------------------------------------------

_TOKEN: Final = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<ident>`(?:[^`]|``)*`)
    | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
    | (?P<word>[A-Za-z0-9_$]+)
    | (?P<symbol>[,().@*])
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str  # unquoted value for ident/string; the raw character(s) otherwise

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words

    def is_symbol(self, symbol: str) -> bool:
        return self.kind == "symbol" and self.text == symbol

    def render(self) -> str:
        if self.kind == "ident":
            return _quote_identifier(self.text)
        if self.kind == "string":
            return "'" + self.text.replace("'", "''") + "'"
        return self.text


def _tokenize(line: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(line):
        kind = match.lastgroup or "other"
        raw = match.group()
        if kind == "space":
            continue
        if kind == "ident":
            raw = raw[1:-1].replace("``", "`")
        elif kind == "string":
            quote = raw[0]
            raw = raw[1:-1].replace(quote * 2, quote)
        tokens.append(_Token(kind, raw))
    return tokens


def _split_top_level(tokens: Sequence[_Token]) -> list[list[_Token]]:
    """Split on commas outside parentheses (column lists: ``SELECT (a, b), INSERT``)."""
    items: list[list[_Token]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.is_symbol("("):
            depth += 1
        elif tok.is_symbol(")"):
            depth -= 1
        elif tok.is_symbol(",") and depth == 0:
            items.append([])
            continue
        items[-1].append(tok)
    return items


def _privilege_name(item: Sequence[_Token], number: int) -> str:
    words: list[str] = []
    for tok in item:
        if tok.is_symbol("("):
            break  # a column list follows
        if tok.kind != "word":
            raise GrantParseError(f"grant line {number}: unexpected token in the privilege list")
        words.append(tok.text)
    if not words:
        raise GrantParseError(f"grant line {number}: empty privilege in the privilege list")
    return normalize_privilege(" ".join(words))


def _account_at(tokens: Sequence[_Token], start: int, number: int) -> tuple[Account, int]:
    """Parse ``name[@host]`` at ``tokens[start]``; return it and the index after it."""
    if start >= len(tokens) or tokens[start].kind not in ("ident", "string", "word"):
        raise GrantParseError(f"grant line {number}: expected an account name")
    user = tokens[start].text
    if start + 1 < len(tokens) and tokens[start + 1].is_symbol("@"):
        if start + 2 >= len(tokens) or tokens[start + 2].kind not in ("ident", "string", "word"):
            raise GrantParseError(f"grant line {number}: expected a host after '@'")
        return Account(user, tokens[start + 2].text), start + 3
    return Account(user), start + 1


def parse_grant_line(line: str, *, number: int = 1) -> GrantLine | None:
    """Parse one line of ``SHOW GRANTS`` output.

    Returns None for lines that grant nothing (MariaDB's ``SET DEFAULT ROLE ...``, blanks).
    Understands MySQL 5.6/5.7/8.0 and MariaDB formats: backtick or quote identifiers, column
    lists, ``ON PROCEDURE``/``FUNCTION``/``PROXY`` targets, dynamic privileges, role grants,
    partial revokes, and ``IDENTIFIED ...``/``REQUIRE ...``/``WITH ...`` tails, of which only
    ``GRANT OPTION`` is kept. ``number`` is used in error messages instead of the text.
    """
    tokens = _tokenize(line)
    if not tokens or not tokens[0].is_word("GRANT", "REVOKE"):
        return None
    revoke = tokens[0].is_word("REVOKE")
    to_word = "FROM" if revoke else "TO"
    on_at: int | None = None
    to_at: int | None = None
    depth = 0
    for i in range(1, len(tokens)):
        tok = tokens[i]
        if tok.is_symbol("("):
            depth += 1
        elif tok.is_symbol(")"):
            depth -= 1
        elif depth == 0 and tok.is_word("ON") and on_at is None:
            on_at = i
        elif depth == 0 and tok.is_word(to_word):
            to_at = i
            break
    if to_at is None or (revoke and on_at is None):
        raise GrantParseError(f"grant line {number}: no {to_word} clause")
    grantee, after = _account_at(tokens, to_at + 1, number)

    if on_at is None:  # GRANT role[, role] TO account
        roles = []
        for item in _split_top_level(tokens[1:to_at]):
            role, end = _account_at(item, 0, number)
            if end != len(item):
                raise GrantParseError(f"grant line {number}: unexpected token in the role list")
            roles.append(role)
        return GrantLine(kind="roles", grantee=grantee, roles=tuple(roles))

    names = {_privilege_name(item, number) for item in _split_top_level(tokens[1:on_at])}
    target_tokens = tokens[on_at + 1 : to_at]
    if not target_tokens:
        raise GrantParseError(f"grant line {number}: no target after ON")
    target = ""
    for tok in target_tokens:
        # Words (PROCEDURE, FUNCTION, TABLE) are followed by a space; symbols are not.
        target += tok.render() + (" " if tok.kind == "word" else "")
    grant_option = GRANT_OPTION in names
    names.discard(GRANT_OPTION)
    if not revoke:
        grant_option = _with_grant_option(tokens[after:])
    return GrantLine(
        kind="revoke" if revoke else "privileges",
        grantee=grantee,
        privileges=frozenset(names),
        target=target.strip(),
        grant_option=grant_option,
    )


def _with_grant_option(tail: Sequence[_Token]) -> bool:
    # Only bare words count: quoted strings in IDENTIFIED/REQUIRE clauses are skipped.
    words = [tok.text.upper() for tok in tail if tok.kind == "word"]
    if "WITH" not in words:
        return False
    after_with = words[words.index("WITH") + 1 :]
    return ("GRANT", "OPTION") in itertools.pairwise(after_with)


# -- effective global grants ---------------------------------------------------------------


@dataclass(frozen=True)
class GlobalGrants:
    """What an account holds on ``*.*``, from either source, aliases folded.

    ``privileges`` may include ``ALL PRIVILEGES`` and non-documented names (extras);
    ``restricted`` holds privileges partially revoked on some schema (``GRANT OPTION``
    included when it is restricted); ``roles`` the granted roles named in the output.
    """

    privileges: frozenset[str] = frozenset()
    grant_option: bool = False
    restricted: frozenset[str] = frozenset()
    roles: tuple[Account, ...] = ()
    sources: tuple[Source, ...] = ()
    rows: int = field(default=0, compare=False)

    def union(self, other: GlobalGrants) -> GlobalGrants:
        """Combine two sources (for example the user's grants and its active role's grants)."""
        return GlobalGrants(
            privileges=self.privileges | other.privileges,
            grant_option=self.grant_option or other.grant_option,
            restricted=self.restricted | other.restricted,
            roles=tuple(dict.fromkeys((*self.roles, *other.roles))),
            sources=tuple(dict.fromkeys((*self.sources, *other.sources))),
            rows=self.rows + other.rows,
        )

    def held(self) -> frozenset[str]:
        """The privileges held on every schema: ``ALL PRIVILEGES`` expanded, restrictions removed."""
        names = set(self.privileges)
        if ALL_PRIVILEGES in names:
            names |= set(DOCUMENTED_PRIVILEGES)
        return frozenset(names - self.restricted - {ALL_PRIVILEGES, "USAGE"})


def global_grants_from_show_grants(lines: Iterable[str]) -> GlobalGrants:
    """Aggregate ``SHOW GRANTS`` output (every line applies to the session asked about).

    Global ``GRANT`` lines add privileges; ``WITH GRANT OPTION`` counts unless the line names
    only MySQL 8 dynamic privileges (whose grant option is per privilege). ``REVOKE`` lines
    are partial revokes: their privileges are restricted (``ALL`` restricts every
    schema-level privilege). Raises :class:`GrantParseError` (without the text) on a
    malformed ``GRANT``/``REVOKE`` line.
    """
    privileges: set[str] = set()
    restricted: set[str] = set()
    roles: list[Account] = []
    grant_option = False
    count = 0
    for number, line in enumerate(lines, start=1):
        parsed = parse_grant_line(line, number=number)
        if parsed is None:
            continue
        count += 1
        if parsed.kind == "roles":
            roles += parsed.roles
        elif parsed.kind == "revoke":
            restricted |= parsed.privileges
            if ALL_PRIVILEGES in parsed.privileges:
                restricted |= SCHEMA_LEVEL_PRIVILEGES
            if parsed.grant_option:
                restricted.add(GRANT_OPTION)
        elif parsed.is_global:
            privileges |= parsed.privileges
            static = [p for p in parsed.privileges if not _is_dynamic(p)]
            if parsed.grant_option and (static or not parsed.privileges):
                grant_option = True
    return GlobalGrants(
        privileges=frozenset(privileges),
        grant_option=grant_option,
        restricted=frozenset(restricted),
        roles=tuple(dict.fromkeys(roles)),
        sources=("SHOW GRANTS",),
        rows=count,
    )


def global_grants_from_user_privileges(
    rows: Iterable[Sequence[object]], *, grantee: Account | None = None
) -> GlobalGrants:
    """Aggregate ``information_schema.USER_PRIVILEGES`` rows ``(GRANTEE, PRIVILEGE_TYPE, IS_GRANTABLE)``.

    With ``grantee``, rows of other accounts are ignored (an account with global ``SELECT``
    sees everyone's rows). ``IS_GRANTABLE = 'YES'`` on a static privilege (or on ``USAGE``)
    means ``GRANT OPTION``; on a MySQL 8 dynamic privilege it is that privilege's own option.
    ``GlobalGrants.rows`` counts the matching rows, so 0 means "nothing known".
    """
    privileges: set[str] = set()
    grant_option = False
    count = 0
    for row in rows:
        if len(row) < 3:
            raise GrantParseError(
                "USER_PRIVILEGES row: expected GRANTEE, PRIVILEGE_TYPE, IS_GRANTABLE"
            )
        who, kind, grantable = (_text(value) for value in row[:3])
        if grantee is not None and who != grantee.grantee_literal:
            continue
        count += 1
        name = normalize_privilege(kind)
        privileges.add(name)
        if grantable.strip().upper() == "YES" and not _is_dynamic(name):
            grant_option = True
    privileges.discard("USAGE")
    return GlobalGrants(
        privileges=frozenset(privileges),
        grant_option=grant_option,
        sources=("USER_PRIVILEGES",),
        rows=count,
    )


def _text(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return "" if value is None else str(value)


@dataclass(frozen=True)
class PrivilegeCheck:
    """The outcome of comparing held privileges with the documented set.

    ``missing`` holds sorted documented names, ``GRANT OPTION`` included when lost; empty
    means no drift. ``sources`` says which source(s) decided.
    """

    missing: tuple[str, ...]
    sources: tuple[Source, ...] = ()

    @property
    def ok(self) -> bool:
        """Tell whether every documented privilege (and ``GRANT OPTION``) is held."""
        return not self.missing


def missing_privileges(
    grants: GlobalGrants,
    required: Iterable[str] = DOCUMENTED_PRIVILEGES,
    *,
    require_grant_option: bool = True,
) -> tuple[str, ...]:
    """Return the required privileges not effectively held on ``*.*``, sorted.

    Names in ``required`` are normalised first, so aliases may be used. ``GRANT OPTION`` is
    reported when ``require_grant_option`` and the grant option is lost or partially revoked.
    """
    held = grants.held()
    missing = {name for name in map(normalize_privilege, required) if name not in held}
    if require_grant_option and (not grants.grant_option or GRANT_OPTION in grants.restricted):
        missing.add(GRANT_OPTION)
    return tuple(sorted(missing))


def check_privileges(
    grants: GlobalGrants, required: Iterable[str] = DOCUMENTED_PRIVILEGES
) -> PrivilegeCheck:
    """Compare ``grants`` with the documented set (subset semantics: extras are fine)."""
    return PrivilegeCheck(missing=missing_privileges(grants, required), sources=grants.sources)


# -- server family and statements ----------------------------------------------------------

_VERSION: Final = re.compile(r"^\s*(\d+)\.(\d+)")


def server_family(version: str) -> ServerFamily:
    """Classify ``SELECT VERSION()``: ``mariadb``, ``mysql8`` (8.0 and later) or ``mysql5``.

    An unrecognisable version is treated as ``mysql5``, whose statements work everywhere.
    """
    if "mariadb" in version.lower():
        return "mariadb"
    match = _VERSION.match(version)
    if match and int(match.group(1)) >= 8:
        return "mysql8"
    return "mysql5"


def authoritative_source(family: ServerFamily) -> Source:
    """Which source decides for a server family (the module docstring explains why)."""
    return "SHOW GRANTS" if family == "mysql8" else "USER_PRIVILEGES"


def split_current_user(value: str) -> Account:
    """Split ``CURRENT_USER()`` (``user@host``) at the last ``@`` (user names may hold one)."""
    user, at, host = value.rpartition("@")
    if not at:
        return Account(value, "%")
    return Account(user, host)


def parse_current_roles(value: str | bytes | None) -> tuple[Account, ...]:
    """Parse ``CURRENT_ROLE()``: MySQL's ``NONE`` or ```r1`@`%`,`r2`@`%```, MariaDB's NULL or ``r1``."""
    text = _text(value).strip()
    if not text or text.upper() == "NONE":
        return ()
    tokens = _tokenize(text)
    roles: list[Account] = []
    for item in _split_top_level(tokens):
        role, end = _account_at(item, 0, 1)
        if end != len(item):
            raise GrantParseError("CURRENT_ROLE(): unexpected value")
        roles.append(role)
    return tuple(roles)


def show_grants_statement(family: ServerFamily, roles: Sequence[Account] = ()) -> str:
    """The ``SHOW GRANTS`` statement that lists the session's effective grants.

    MySQL 8 needs ``USING`` with the active roles to fold their privileges in; MySQL 5 has
    no roles; for MariaDB this is the fallback that also carries the user's own line.
    """
    if family == "mysql8" and roles:
        return "SHOW GRANTS FOR CURRENT_USER() USING " + ", ".join(r.quoted() for r in roles)
    if family == "mariadb":
        return "SHOW GRANTS"
    return "SHOW GRANTS FOR CURRENT_USER()"
