"""One implementation of each rule: the secret scrubber, the error location, the timestamp."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

import pulumi_polardb_reset
from pulumi_polardb_reset.cloud._client import PolarDBClient
from pulumi_polardb_reset.cloud._settings import ConnectionSettings, StaticCredentials
from pulumi_polardb_reset.core import _scrub, _time
from pulumi_polardb_reset.core._errors import WHERE_PATTERN, where
from pulumi_polardb_reset.drift import _sql

PACKAGE = Path(pulumi_polardb_reset.__file__).parent
#: Every layer of the package: the core, the cloud and drift layers, and the engines.
LAYERS = ("core", "cloud", "drift", "lifecycle", "dynamic", "native", "cli")
#: The layers that may not URL-encode for themselves (the command line signs DingTalk URLs).
SCRUBBING_LAYERS = ("core", "cloud", "drift", "lifecycle", "dynamic", "native")


def _sources(layers: tuple[str, ...] = LAYERS) -> dict[str, str]:
    return {
        str(path.relative_to(PACKAGE)): path.read_text()
        for layer in layers
        for path in sorted((PACKAGE / layer).glob("*.py"))
    }


@pytest.mark.parametrize(
    ("needle", "home", "layers"),
    [
        ('"%Y-%m-%dT%H:%M:%SZ"', "core/_time.py", LAYERS),
        (".strftime(", "core/_time.py", LAYERS),
        ("on PolarDB cluster '{cluster}'", "core/_errors.py", LAYERS),
        ("on PolarDB cluster '([^']+)'", "core/_errors.py", LAYERS),
        ("[0-9A-Fa-f]{40}", "core/_scrub.py", LAYERS),
        ("\\?[^\\s", "core/_scrub.py", LAYERS),
        ("quote_plus(", "core/_scrub.py", SCRUBBING_LAYERS),
    ],
)
def test_each_rule_is_written_once(needle: str, home: str, layers: tuple[str, ...]) -> None:
    found = [name for name, text in _sources(layers).items() if needle in text]
    assert found == [home]


SECRET = "Adm1n!pass+/="


def test_the_client_and_the_sql_check_scrub_with_the_one_scrubber() -> None:
    text = (
        f"POST https://polardb.example/?AccountPassword={SECRET} failed; "
        f"IDENTIFIED BY 'x{SECRET}' hash *0A42012C3C0573F9D5B4F8DFD5221AA28D1F97E4 "
        "Adm1n%21pass%2B%2F%3D"
    )
    expected = _scrub.scrub_text(text, [SECRET])
    for secret in (SECRET, "Adm1n%21pass", "0A42012C3C05", "AccountPassword="):
        assert secret not in expected
    settings = ConnectionSettings("cn-hangzhou", StaticCredentials("LTAI5tKey", "key-secret"))
    client = PolarDBClient(settings, extra_secrets=(SECRET,))
    assert client._scrub(text) == expected
    assert _sql.scrub(text, [SECRET]) == expected
    # A short secret would match words of a SQL server's message: the check leaves it alone.
    assert _sql.scrub("near 'ab'", ["ab"]) == "near 'ab'"
    assert _scrub.scrub_text("near 'ab'", ["ab"]) == "near '***'"


def test_one_location_phrase_and_one_timestamp_format() -> None:
    phrase = where("pc-abc123", "dbadmin")
    assert phrase == "account 'dbadmin' on PolarDB cluster 'pc-abc123'"
    match = WHERE_PATTERN.search(f"privileges of {phrase} not checked")
    assert match is not None and match.groups() == ("dbadmin", "pc-abc123")
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert _time.format_utc(moment) == "2026-01-01T19:04:05Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", _time.utc_now())
