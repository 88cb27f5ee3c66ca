"""The SQL check against hostile MySQL-protocol servers (issue 16, item 9).

A server on ``sql_endpoint`` that answers every query with 300,000 rows of 1 KiB, or with
the expected columns but too many rows or bytes, or with too few: the check is ``unknown``
with one line naming the endpoint, reads only a bounded part of the answer, and the
process grows no more than with a normal check (peak resident memory of a child process
running one check: a figure, not a clock).
"""

from __future__ import annotations

from typing import Any, Final

import pytest
from fake_mysql import (
    HOSTILE_ROWS,
    WHO,
    Answer,
    FakeMySQL,
    Script,
    flood,
    grants_flood,
    normal,
    run_child,
)

from pulumi_polardb_reset.drift._sql import MAX_BYTES, MAX_ROWS, check_account

FAST: Final = {"connect_timeout": 5.0, "read_timeout": 10.0, "deadline": 120.0}
#: The issue's bound: a hostile answer grows the provider at most this much over a normal check.
MEMORY_MARGIN_KIB: Final = 50 * 1024


def who_then(answer: Script) -> Script:
    """The connection's own SET statements answered normally, every other query by ``answer``."""
    return lambda query: normal(query) if query.startswith("SET") else answer(query)


def next_flood(columns: int) -> Script:
    """300,000 rows of 1 KiB in ``columns`` columns, for each query."""
    return flood(columns=columns, rows=HOSTILE_ROWS, row_bytes=1024)


def check(server: FakeMySQL) -> Any:
    return check_account("127.0.0.1", server.port, "fx_full", "H0stile!pw", **FAST)  # type: ignore[arg-type]


def assert_unknown_in_one_line(result: Any, server: FakeMySQL, *needles: str) -> None:
    assert result.status == "unknown", result
    assert result.cause is not None and "\n" not in result.cause
    assert server.endpoint in result.cause
    for needle in needles:
        assert needle in result.cause, result.cause


def test_the_fake_server_answers_a_normal_check() -> None:
    """Witness: the fake speaks enough MySQL for the check to pass on a normal answer."""
    with FakeMySQL(normal) as server:
        result = check(server)
    assert (result.status, result.password_ok, result.server_family) == ("ok", True, "mariadb")


def test_a_flood_of_one_column_rows_is_unknown_in_one_line() -> None:
    """The issue's case: every query answered with 300,000 rows of 1 KiB, one column."""
    with FakeMySQL(flood(columns=1, rows=HOSTILE_ROWS, row_bytes=1024)) as server:
        result = check(server)
    # PyMySQL's own first statement (SET NAMES, part of connecting) meets the flood and
    # reads one packet of it; the check's first query finds the rest out of sequence.
    assert_unknown_in_one_line(result, server, "which no MySQL server sends")
    assert server.bytes_sent < HOSTILE_ROWS * 1024 // 10  # dropped, not read to the end


def test_the_first_query_answered_with_one_column_is_unknown() -> None:
    with FakeMySQL(who_then(next_flood(columns=1))) as server:
        result = check(server)
    assert_unknown_in_one_line(result, server, "1 column(s) where 2 were expected")
    assert result.password_ok is True  # the login went through; the answer did not
    assert server.queries[-1] == WHO


def test_the_first_query_answered_with_many_rows_is_unknown() -> None:
    with FakeMySQL(who_then(next_flood(columns=2))) as server:
        result = check(server)
    assert_unknown_in_one_line(result, server, "more than 1 row(s)")
    assert server.bytes_sent < HOSTILE_ROWS * 1024 // 10


def test_grants_of_the_right_shape_but_too_many_bytes_are_unknown() -> None:
    with FakeMySQL(grants_flood()) as server:
        result = check(server)
    assert_unknown_in_one_line(result, server, f"more than {MAX_BYTES // 1024} KiB")
    assert server.bytes_sent < HOSTILE_ROWS * 1024 // 10


def test_grants_of_the_right_shape_but_too_many_rows_are_unknown() -> None:
    row = (b"'fx_full'@'%'", b"SELECT", b"YES")
    answer = Answer(("GRANTEE", "PRIVILEGE_TYPE", "IS_GRANTABLE"), [row] * (MAX_ROWS + 1))
    with FakeMySQL(lambda q: normal(q) if q == WHO or q.startswith("SET") else answer) as server:
        result = check(server)
    assert_unknown_in_one_line(result, server, f"more than {MAX_ROWS} row(s)")


def test_the_login_query_answered_with_no_row_is_unknown() -> None:
    with FakeMySQL(who_then(lambda q: Answer(("VERSION()", "CURRENT_USER()"), ()))) as server:
        result = check(server)
    assert_unknown_in_one_line(result, server, "no row where one was expected")


# -- memory: peak resident size of a process running one check --------------------------


def peak_memory_of_a_check(script: Script) -> dict[str, Any]:
    """Run one check in a fresh Python process against ``script``; its result and peak RSS."""
    with FakeMySQL(script) as server:
        return run_child(server.port)


@pytest.mark.parametrize(
    "hostile",
    [flood(columns=1, rows=HOSTILE_ROWS, row_bytes=1024), grants_flood()],
    ids=["one-column-flood", "grants-shaped-flood"],
)
def test_a_hostile_answer_costs_no_more_memory_than_a_normal_check(hostile: Script) -> None:
    baseline = peak_memory_of_a_check(normal)
    assert baseline["status"] == "ok"
    figures = peak_memory_of_a_check(hostile)
    assert figures["status"] == "unknown"
    assert figures["max_rss_kib"] - baseline["max_rss_kib"] < MEMORY_MARGIN_KIB, (
        baseline,
        figures,
    )
