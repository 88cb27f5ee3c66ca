"""Unit tests of the privilege comparison (pure): real and documented grant outputs, aliases, hypothesis."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import documented
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_polardb_reset.core._privileges import (
    GRANT_OPTION,
    SCHEMA_LEVEL_PRIVILEGES,
    Account,
    GlobalGrants,
    GrantParseError,
    authoritative_source,
    check_privileges,
    global_grants_from_show_grants,
    global_grants_from_user_privileges,
    missing_privileges,
    normalize_privilege,
    parse_current_roles,
    parse_grant_line,
    server_family,
    show_grants_statement,
    split_current_user,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "grants"
CASES: list[dict[str, Any]] = json.loads((FIXTURES / "cases.json").read_text())["cases"]
# The oracle: the documentation's list written out (tests/documented.py), not the provider's.
EVERYTHING = tuple(sorted((*documented.DOCUMENTED_PRIVILEGES, documented.GRANT_OPTION)))
# Quoted values after IDENTIFIED ... / USING in the fixtures: password hashes.
HASHES = sorted(
    {
        m.group(1)
        for path in FIXTURES.rglob("*.txt")
        for m in re.finditer(r"(?:PASSWORD|USING) '([^']+)'", path.read_text())
    }
)


def _grants(path: Path) -> GlobalGrants:
    if path.suffix == ".tsv":
        lines = path.read_text().splitlines()
        assert lines[0].split("\t") == [
            "GRANTEE",
            "TABLE_CATALOG",
            "PRIVILEGE_TYPE",
            "IS_GRANTABLE",
        ]
        rows = [line.split("\t") for line in lines[1:] if line]
        return global_grants_from_user_privileges((r[0], r[2], r[3]) for r in rows)
    return global_grants_from_show_grants(path.read_text().splitlines())


# -- fixtures --------------------------------------------------------------------------------


def test_fixtures_cover_each_server_family() -> None:
    families = {case["file"].split("/")[0] for case in CASES}
    assert {"mysql-5.7", "mysql-8.0", "mariadb-10.11"} <= families
    assert len(HASHES) >= 3  # MariaDB native, ed25519, MySQL 5.6
    assert sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.t[xs][tv]")) == sorted(
        case["file"] for case in CASES
    )


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_fixture_reports_exactly_the_missing_privileges(case: dict[str, Any]) -> None:
    expected = EVERYTHING if case["missing"] == ["*"] else tuple(case["missing"])
    grants = _grants(FIXTURES / case["file"])
    check = check_privileges(grants)
    assert check.missing == expected
    assert check.ok is (expected == ())
    assert list(check.missing) == sorted(check.missing)


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_no_hash_survives_parsing(case: dict[str, Any]) -> None:
    path = FIXTURES / case["file"]
    grants = _grants(path)
    seen = [repr(grants), repr(check_privileges(grants)), str(grants.roles)]
    if path.suffix == ".txt":
        seen += [repr(parse_grant_line(line)) for line in path.read_text().splitlines()]
    for text in seen:
        for secret in HASHES:
            assert secret not in text


def test_mariadb_default_role_needs_the_role_grants() -> None:
    own = _grants(FIXTURES / "mariadb-10.11/default_role.user_privileges.tsv")
    role = _grants(FIXTURES / "mariadb-10.11/default_role.role_grants.txt")
    assert missing_privileges(own) == EVERYTHING
    combined = own.union(role)
    assert missing_privileges(combined) == ()
    assert combined.sources == ("USER_PRIVILEGES", "SHOW GRANTS")
    assert Account("fx_inner") in combined.roles


def test_mysql8_user_privileges_is_blind_to_partial_revokes_and_roles() -> None:
    # Why SHOW GRANTS ... USING is authoritative on MySQL 8.
    blind = _grants(FIXTURES / "mysql-8.0/partial_revoke.user_privileges.tsv")
    truth = _grants(FIXTURES / "mysql-8.0/partial_revoke.show_grants.txt")
    assert missing_privileges(blind) == ()
    assert missing_privileges(truth) == ("INSERT", "UPDATE")
    assert truth.restricted == {"INSERT", "UPDATE"}
    assert authoritative_source("mysql8") == "SHOW GRANTS"
    assert authoritative_source("mariadb") == authoritative_source("mysql5") == "USER_PRIVILEGES"


# -- parser ----------------------------------------------------------------------------------


def test_parse_mariadb_line_discards_the_password_clause() -> None:
    line = (
        "GRANT RELOAD, BINLOG MONITOR ON *.* TO `dba`@`10.%` IDENTIFIED VIA "
        "mysql_native_password USING '*0A807F06EDC78A54C8551F87AD7B1C4FC4AB5F0A' OR unix_socket "
        "REQUIRE SSL WITH GRANT OPTION MAX_QUERIES_PER_HOUR 10"
    )
    parsed = parse_grant_line(line)
    assert parsed is not None
    assert parsed.kind == "privileges" and parsed.is_global and parsed.grant_option
    assert parsed.grantee == Account("dba", "10.%")
    assert parsed.privileges == {"RELOAD", "REPLICATION CLIENT"}
    assert "0A807F06" not in repr(parsed)


def test_quoted_text_in_the_password_clause_cannot_fake_grant_option() -> None:
    line = "GRANT SELECT ON *.* TO `u`@`%` IDENTIFIED VIA pam USING 'WITH GRANT OPTION'"
    parsed = parse_grant_line(line)
    assert parsed is not None and not parsed.grant_option


@pytest.mark.parametrize(
    ("line", "kind", "target", "privileges"),
    [
        (
            "GRANT SELECT (`Host`, `User`), INSERT ON `mysql`.`user` TO `u`@`%`",
            "privileges",
            "`mysql`.`user`",
            {"SELECT", "INSERT"},
        ),
        (
            "GRANT SELECT (Host, User) ON `mysql`.`user` TO 'u'@'%'",
            "privileges",
            "`mysql`.`user`",
            {"SELECT"},
        ),
        (
            "GRANT EXECUTE ON PROCEDURE `db`.`p1` TO 'u'@'%'",
            "privileges",
            "PROCEDURE `db`.`p1`",
            {"EXECUTE"},
        ),
        (
            "GRANT PROXY ON ``@`` TO `root`@`localhost` WITH GRANT OPTION",
            "privileges",
            "``@``",
            {"PROXY"},
        ),
        (
            "GRANT PROXY ON ''@'%' TO 'root'@'localhost' WITH GRANT OPTION",
            "privileges",
            "''@'%'",
            {"PROXY"},
        ),
        ("GRANT SELECT ON `db2`.* TO PUBLIC", "privileges", "`db2`.*", {"SELECT"}),
        ("GRANT ALL ON `we``ird`.* TO `u`@`%`", "privileges", "`we``ird`.*", {"ALL PRIVILEGES"}),
        (
            "REVOKE INSERT, UPDATE ON `mysql`.* FROM `u`@`%`",
            "revoke",
            "`mysql`.*",
            {"INSERT", "UPDATE"},
        ),
        ("grant select on *.* to 'u'@'%'", "privileges", "*.*", {"SELECT"}),
    ],
)
def test_parse_grant_line_shapes(line: str, kind: str, target: str, privileges: set[str]) -> None:
    parsed = parse_grant_line(line)
    assert parsed is not None
    assert (parsed.kind, parsed.target, set(parsed.privileges)) == (kind, target, privileges)


def test_parse_role_grants() -> None:
    mysql = parse_grant_line(
        "GRANT `polar_dba`@`%`,`r``2`@`localhost` TO `dbadmin`@`%` WITH ADMIN OPTION"
    )
    assert mysql is not None and mysql.kind == "roles"
    assert mysql.roles == (Account("polar_dba", "%"), Account("r`2", "localhost"))
    assert not mysql.grant_option
    mariadb = parse_grant_line("GRANT `r1` TO `dbadmin`@`%`")
    assert mariadb is not None and mariadb.roles == (Account("r1"),)
    nested = parse_grant_line("GRANT `r2` TO `r1`")
    assert nested is not None and nested.grantee == Account("r1")


@pytest.mark.parametrize("line", ["", "   ", "SET DEFAULT ROLE `r1` FOR `u`@`%`", "Grants for u@%"])
def test_lines_that_grant_nothing_are_skipped(line: str) -> None:
    assert parse_grant_line(line) is None


@pytest.mark.parametrize(
    "line",
    [
        "GRANT SELECT ON *.* IDENTIFIED BY PASSWORD '*0A807F06EDC78A54C8551F87AD7B1C4FC4AB5F0A'",
        "GRANT SELECT, 'x*0A807F06EDC78A54C8551F87AD7B1C4FC4AB5F0A' ON *.* TO `u`@`%`",
        "REVOKE SELECT FROM `u`@`%` '*0A807F06EDC78A54C8551F87AD7B1C4FC4AB5F0A'",
        "GRANT SELECT ON TO",
        "GRANT SELECT ON *.* TO @ '*0A807F06EDC78A54C8551F87AD7B1C4FC4AB5F0A'",
    ],
)
def test_parse_errors_never_quote_the_line(line: str) -> None:
    with pytest.raises(GrantParseError) as caught:
        global_grants_from_show_grants(["GRANT USAGE ON *.* TO `u`@`%`", line])
    text = f"{caught.value} {caught.value!r} {caught.value.args}"
    assert "0A807F06" not in text and "line 2" in text
    assert caught.value.__cause__ is None


# -- aggregation and comparison ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("replication  replica", "REPLICATION SLAVE"),
        ("BINLOG MONITOR", "REPLICATION CLIENT"),
        ("REPLICATION CLIENT", "REPLICATION CLIENT"),
        ("REPLICA MONITOR", "SLAVE MONITOR"),
        ("all", "ALL PRIVILEGES"),
        ("lock\ttables", "LOCK TABLES"),
        ("binlog_admin", "BINLOG_ADMIN"),
    ],
)
def test_normalize_privilege(spelling: str, canonical: str) -> None:
    assert normalize_privilege(spelling) == canonical


def test_required_names_may_use_aliases() -> None:
    grants = global_grants_from_show_grants(["GRANT REPLICATION CLIENT ON *.* TO `u`@`%`"])
    assert missing_privileges(grants, ["BINLOG MONITOR"], require_grant_option=False) == ()
    assert missing_privileges(grants, ["REPLICATION REPLICA"], require_grant_option=False) == (
        "REPLICATION SLAVE",
    )


def test_user_privileges_filters_the_grantee_and_reads_bytes() -> None:
    rows = [
        (b"'dbadmin'@'%'", b"SELECT", b"YES"),
        ("'other'@'%'", "RELOAD", "YES"),
        ("'dbadmin'@'%'", "BINLOG MONITOR", "YES"),
    ]
    grants = global_grants_from_user_privileges(rows, grantee=Account("dbadmin", "%"))
    assert grants.privileges == {"SELECT", "REPLICATION CLIENT"} and grants.rows == 2
    assert grants.grant_option
    nobody = global_grants_from_user_privileges(rows, grantee=Account("nobody", "%"))
    assert nobody.rows == 0
    with pytest.raises(GrantParseError):
        global_grants_from_user_privileges([("'dbadmin'@'%'", "SELECT")])


def test_grant_option_from_usage_only_line() -> None:
    grants = global_grants_from_show_grants(["GRANT USAGE ON *.* TO `u`@`%` WITH GRANT OPTION"])
    assert grants.grant_option
    rows = [("'u'@'%'", "USAGE", "YES")]
    assert global_grants_from_user_privileges(rows).grant_option


def test_partial_revoke_of_grant_option_is_drift() -> None:
    lines = [
        f"GRANT {', '.join(documented.DOCUMENTED_PRIVILEGES)} ON *.* TO `u`@`%` WITH GRANT OPTION",
        "REVOKE GRANT OPTION ON `mysql`.* FROM `u`@`%`",
    ]
    assert missing_privileges(global_grants_from_show_grants(lines)) == (GRANT_OPTION,)


def test_schema_level_grants_do_not_count_globally() -> None:
    lines = ["GRANT ALL PRIVILEGES ON `db1`.* TO `u`@`%` WITH GRANT OPTION"]
    assert missing_privileges(global_grants_from_show_grants(lines)) == EVERYTHING


# -- server family and statements ------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "family"),
    [
        ("10.11.19-MariaDB-0+deb12u1", "mariadb"),
        ("5.5.5-10.6.12-MariaDB-log", "mariadb"),
        ("8.0.36", "mysql8"),
        ("8.0.13-PolarDB", "mysql8"),
        ("9.1.0", "mysql8"),
        ("5.7.44-log", "mysql5"),
        ("5.6.16-log", "mysql5"),
        ("garbage", "mysql5"),
    ],
)
def test_server_family(version: str, family: str) -> None:
    assert server_family(version) == family


def test_current_user_and_roles() -> None:
    assert split_current_user("dbadmin@%") == Account("dbadmin", "%")
    assert split_current_user("we@ird@10.0.0.%") == Account("we@ird", "10.0.0.%")
    assert split_current_user("we'ird@h").grantee_literal == "'we'ird'@'h'"
    assert parse_current_roles("NONE") == parse_current_roles(None) == parse_current_roles("") == ()
    assert parse_current_roles(b"`r1`@`%`,`r2`@`localhost`") == (
        Account("r1", "%"),
        Account("r2", "localhost"),
    )
    assert parse_current_roles("r1") == (Account("r1"),)


def test_show_grants_statement_quotes_roles() -> None:
    roles = (Account("r1", "%"), Account("a`b", "h"))
    assert show_grants_statement("mysql8", roles) == (
        "SHOW GRANTS FOR CURRENT_USER() USING `r1`@`%`, `a``b`@`h`"
    )
    assert show_grants_statement("mysql8") == "SHOW GRANTS FOR CURRENT_USER()"
    assert show_grants_statement("mysql5") == "SHOW GRANTS FOR CURRENT_USER()"
    assert show_grants_statement("mariadb") == "SHOW GRANTS"


# -- properties ------------------------------------------------------------------------------

ALIASES = {"REPLICATION SLAVE": "REPLICATION REPLICA", "REPLICATION CLIENT": "BINLOG MONITOR"}
EXTRAS = ["SUPER", "FILE", "SHUTDOWN", "SHOW DATABASES", "CREATE TABLESPACE", "BINLOG ADMIN"]
STYLES = ["mysql5", "mysql8", "mariadb"]
SECRET_CHARS = "ABCDEFabcdef0123456789+/=*$!@#%^&()_-"


def _account(style: str) -> str:
    return "'dbadmin'@'%'" if style == "mysql5" else "`dbadmin`@`%`"


def _show_grants(
    held: list[str], grant_option: bool, style: str, aliased: bool, secret: str
) -> list[str]:
    names = [ALIASES.get(n, n) if aliased else n for n in held] or ["USAGE"]
    tail = f" IDENTIFIED BY PASSWORD '{secret}'" if style != "mysql8" else ""
    tail += " WITH GRANT OPTION" if grant_option else ""
    lines = [f"GRANT {', '.join(names)} ON *.* TO {_account(style)}{tail}"]
    if style == "mysql8":
        lines.append(f"GRANT BACKUP_ADMIN,XA_RECOVER_ADMIN ON *.* TO {_account(style)}")
    lines.append(f"GRANT ALL PRIVILEGES ON `app`.* TO {_account(style)} WITH GRANT OPTION")
    return lines


@given(
    removed=st.sets(st.sampled_from(documented.DOCUMENTED_PRIVILEGES)),
    extras=st.sets(st.sampled_from(EXTRAS)),
    grant_option=st.booleans(),
    style=st.sampled_from(STYLES),
    aliased=st.booleans(),
    secret=st.text(alphabet=SECRET_CHARS, min_size=20, max_size=50),
    order=st.randoms(use_true_random=False),
)
def test_any_removed_subset_is_reported_exactly(
    removed: set[str],
    extras: set[str],
    grant_option: bool,
    style: str,
    aliased: bool,
    secret: str,
    order: Any,
) -> None:
    held = [n for n in documented.DOCUMENTED_PRIVILEGES if n not in removed] + sorted(extras)
    order.shuffle(held)
    expected = sorted(removed | (set() if grant_option else {GRANT_OPTION}))

    grants = global_grants_from_show_grants(
        _show_grants(held, grant_option, style, aliased, secret)
    )
    assert missing_privileges(grants) == tuple(expected)
    assert secret not in repr(grants) and secret not in repr(check_privileges(grants))

    rows = [
        ("'dbadmin'@'%'", ALIASES.get(n, n) if aliased else n, "YES" if grant_option else "NO")
        for n in held
    ]
    rows += [
        ("'someone'@'%'", n, "YES") for n in documented.DOCUMENTED_PRIVILEGES
    ]  # another account
    from_rows = global_grants_from_user_privileges(rows, grantee=Account("dbadmin", "%"))
    if held:
        assert missing_privileges(from_rows) == tuple(expected)


@given(
    revoked=st.sets(st.sampled_from(sorted(SCHEMA_LEVEL_PRIVILEGES)), min_size=1),
    schema=st.text(alphabet="abcxyz_`", min_size=1, max_size=8),
)
def test_partial_revokes_are_reported_exactly(revoked: set[str], schema: str) -> None:
    quoted = "`" + schema.replace("`", "``") + "`"
    lines = [
        f"GRANT {', '.join(documented.DOCUMENTED_PRIVILEGES)} ON *.* TO `dbadmin`@`%` WITH GRANT OPTION",
        f"REVOKE {', '.join(sorted(revoked))} ON {quoted}.* FROM `dbadmin`@`%`",
    ]
    assert missing_privileges(global_grants_from_show_grants(lines)) == tuple(sorted(revoked))


@given(secret=st.text(alphabet=SECRET_CHARS, min_size=12, max_size=60))
def test_parser_keeps_nothing_of_the_identified_clause(secret: str) -> None:
    for clause in (
        f"IDENTIFIED BY PASSWORD '{secret}'",
        f"IDENTIFIED VIA ed25519 USING '{secret}'",
    ):
        line = f"GRANT SELECT ON *.* TO `u`@`%` {clause} WITH GRANT OPTION"
        parsed = parse_grant_line(line)
        assert parsed is not None and parsed.grant_option
        assert secret not in repr(parsed)


# -- static or dynamic: the fixed list of static privileges (issue 24, item 13) ----------------


@pytest.mark.parametrize(
    "line",
    [
        # MySQL 8 prints static privileges on one line, dynamic ones on another.
        "GRANT SHUTDOWN, FILE, SUPER, SHOW DATABASES, CREATE ROLE, DROP ROLE ON *.* TO `u`@`%` WITH GRANT OPTION",
        "GRANT PROXY ON ''@'' TO 'u'@'%' WITH GRANT OPTION",
        # MariaDB (no dynamic privileges): an underscore inside a static name.
        "GRANT READ_ONLY ADMIN ON *.* TO `u`@`%` WITH GRANT OPTION",
    ],
)
def test_with_grant_option_on_static_privileges_is_the_grant_option(line: str) -> None:
    grants = global_grants_from_show_grants([line])
    assert grants.grant_option == ("*.*" in line)


@pytest.mark.parametrize("name", ["AUDITOR", "BINLOG_ADMIN", "SYSTEM_USER", "FIREWALLUSER"])
def test_with_grant_option_on_a_dynamic_privilege_alone_is_not_the_grant_option(
    name: str,
) -> None:
    # Any identifier that is not a static privilege is dynamic, underscore or not.
    lines = [
        f"GRANT {', '.join(documented.DOCUMENTED_PRIVILEGES)} ON *.* TO `dbadmin`@`%`",
        f"GRANT {name} ON *.* TO `dbadmin`@`%` WITH GRANT OPTION",
    ]
    grants = global_grants_from_show_grants(lines)
    assert not grants.grant_option and name in grants.privileges
    assert missing_privileges(grants) == (GRANT_OPTION,)
    rows = [("'dbadmin'@'%'", p, "NO") for p in documented.DOCUMENTED_PRIVILEGES]
    rows.append(("'dbadmin'@'%'", name, "YES"))
    assert not global_grants_from_user_privileges(rows).grant_option
