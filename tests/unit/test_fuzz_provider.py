"""Fuzzing the provider's engine-facing pure methods with hypothesis (issue 12, item 3).

Properties, for arbitrary property maps of any JSON type (with the engine's secret wrapper
dicts, the preview-time unknown sentinel, keys the provider does not know, and values close
to valid ones):

* ``check``: never raises; at most one ``CheckFailure`` per property, each with a reason;
  every property that cannot be valid (an unknown key, a required input that is missing, a
  list or a map where a scalar belongs) has one; an unknown value never fails; no reason
  shows the value of a secret input (or a password); the inputs it returns keep every key,
  and normalising them again changes nothing.
* ``diff``: never raises, whatever the old outputs (a hand-edited or corrupted state) and
  the new inputs; replaces only ``db_cluster_id``/``account_name``; deterministic.

Every failing example the fuzzer found is kept as an ``@example`` of its property:

* ``check`` with ``timeout_seconds`` infinite (or NaN) raised ``OverflowError`` while
  normalising the inputs (now only a whole number is converted; check reports the rest);
* ``check`` quoted the value of a secret input in its failure's reason (now ``[secret]``);
* ``diff`` of a state whose password fingerprint or stored login is not a string raised
  ``AttributeError`` (now it never matches, so the provider resets; scrypt parameters
  beyond what the provider writes are refused too, a crafted ``p`` cost a minute per diff);
* ``diff`` of recorded drift whose ``missing_privileges`` is not a list raised ``TypeError``.

Found in review and kept as properties: patterns ending in ``$`` accepted a trailing newline.

Runs are bounded for CI (about 15 s). ``PROVIDER_FUZZ_PROFILE=long`` runs 50 times as many
examples per property (about 5 minutes on 2 cores), for example::

    PROVIDER_FUZZ_PROFILE=long .venv/bin/python -m pytest tests/unit/test_fuzz_provider.py
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pulumi.dynamic import CheckResult, DiffResult

from pulumi_polardb_reset import PrivilegedAccountResetProvider
from pulumi_polardb_reset.core import _convert as c
from pulumi_polardb_reset.core import _fingerprint
from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.core._convert import normalize_inputs

PROFILE: Final = os.environ.get("PROVIDER_FUZZ_PROFILE", "ci")
if PROFILE not in ("ci", "long"):
    raise RuntimeError(f"PROVIDER_FUZZ_PROFILE must be ci or long, not {PROFILE!r}")
_SCALE: Final = 50 if PROFILE == "long" else 1


def fuzz(examples: int) -> settings:
    """Hypothesis settings of one property: ``examples`` in CI, 50 times that when long.

    The rest is the suite's profile (tests/conftest.py): no deadline, since scrypt
    fingerprints take tens of milliseconds on a loaded machine.
    """
    return settings(
        max_examples=examples * _SCALE,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


SIG_KEY: Final = p.SIG_KEY
SECRET_SIG: Final = p.SECRET_SIG
REQUIRED: Final = (p.DB_CLUSTER_ID, p.ACCOUNT_NAME)
#: A marker no validator message contains, to spot an echoed secret.
MARKER: Final = "Qz7Mark"


def secret(value: Any) -> dict[str, Any]:
    """``value`` as the engine wraps a secret."""
    return {SIG_KEY: SECRET_SIG, "value": value}


# -- strategies --------------------------------------------------------------------------

#: Values close to valid ones, so the fuzzer reaches past the first type check.
PLAUSIBLE: Final = (
    "pc-abc123",
    "pc-abc123\n",
    "PC-ABC123",
    "dbadmin",
    "dbadmin\n",
    "root",
    "N3w!Passw0rd",
    "N3w!Passw0rd\n",
    "cn-hangzhou",
    "cn-hangzhou\n",
    "polardb.aliyuncs.com",
    "http://127.0.0.1:18080",
    "http://10.0.0.5:8080",
    "https://[::1]:443/",
    "http://[::ffff:127.0.0.1]:1",
    "127.0.0.1:3306",
    "[::1]:3306",
    "host:0",
    "host:99999",
    "1",
    "1.0",
    "",
    " ",
    p.UNKNOWN,
)
SCALARS: Final = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-2, max_value=2 * p.MAX_TIMEOUT_SECONDS)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(PLAUSIBLE)
)
JSON: Final = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
VALUES: Final = (
    JSON
    | JSON.map(secret)
    | st.just(secret(p.UNKNOWN))
    | st.just({SIG_KEY: SECRET_SIG})  # a wrapper without its value
    | st.just({SIG_KEY: "not-the-signature", "value": "x"})
)
KEYS: Final = st.sampled_from([*p.INPUTS, *p.OUTPUTS, "__provider", "__meta"]) | st.text(
    max_size=12
)
PROPERTY_MAPS: Final = st.dictionaries(KEYS, VALUES, max_size=12)


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).decode()


#: Stored fingerprints: real ones, near misses, absurd scrypt parameters, not strings at all.
FINGERPRINTS: Final = st.one_of(
    st.just(_fingerprint.fingerprint("N3w!Passw0rd", salt=b"0123456789abcdef")),
    st.builds(
        lambda n, r, p_, salt, digest: f"scrypt${n}${r}${p_}${salt}${digest}",
        st.sampled_from(["16384", "0", "1", "3", "-1", "2", str(2**70), "1e3", "٣", ""]),
        st.sampled_from(["8", "0", "1", "-1", str(2**40), "x"]),
        st.sampled_from(["1", "0", "-1", "1000000000", str(2**64), "x"]),
        st.sampled_from(["", "MDEyMzQ1Njc4OWFiY2RlZg==", "%%%", "a"]),
        st.sampled_from(["", "AAAA", "%%%", _b64(b"x" * 32)]),
    ),
    st.text(max_size=30),
    JSON,
)


class _Absent:
    """Marks an output left out of the old state."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
#: Booleans more often than chance, so the drift branches are reached.
FLAGS: Final = st.sampled_from([False, True, None]) | VALUES
#: The outputs diff reads, each one absent or of any kind (the rest of the state is
#: PROPERTY_MAPS); ABSENT entries are dropped by the test.
OLD_OUTPUTS: Final = st.fixed_dictionaries(
    {
        name: st.just(ABSENT) | values
        for name, values in (
            (p.DB_CLUSTER_ID, VALUES),
            (p.ACCOUNT_NAME, VALUES),
            (p.RESET_NONCE, VALUES),
            (p.PASSWORD_FINGERPRINT, FINGERPRINTS | FINGERPRINTS.map(secret)),
            (p.PRIVILEGES_OK, FLAGS),
            (p.MISSING_PRIVILEGES, VALUES),
            (p.PASSWORD_OK, FLAGS),
            (p.CHECK_PRIVILEGES, FLAGS),
            (p.SQL_ENDPOINT, VALUES),
            (p.SQL_CHECK_PASSWORD, VALUES),
        )
    }
)


# -- check ----------------------------------------------------------------------------------


def _check(news: dict[str, Any]) -> CheckResult:
    result = PrivilegedAccountResetProvider().check({}, news)
    assert isinstance(result, CheckResult)
    return result


def _cannot_be_valid(name: str, value: Any) -> bool:
    """Tell whether input ``name`` with (unwrapped) ``value`` can only be a failure."""
    if c.is_unknown(value):
        return False
    if value is None:
        return name in REQUIRED
    return isinstance(value, list | dict)


@fuzz(1000)
@given(PROPERTY_MAPS)
# Found by the fuzzer (long profile): normalising an infinite timeout raised OverflowError.
@example({p.DB_CLUSTER_ID: secret(p.UNKNOWN), p.TIMEOUT_SECONDS: math.inf})
# Its siblings: NaN (ValueError), and the same wrapped as a secret.
@example({p.TIMEOUT_SECONDS: math.nan})
@example({p.TIMEOUT_SECONDS: secret(-math.inf)})
def test_check_reports_each_bad_property_and_never_raises(news: dict[str, Any]) -> None:
    result = _check(news)
    failures = result.failures or []
    named = [f.property for f in failures]
    assert len(named) == len(set(named)), named  # one failure per property
    assert all(isinstance(f.reason, str) and f.reason for f in failures)
    for name in p.INPUTS:
        value = c.plain(news.get(name))
        if c.is_unknown(value):
            assert name not in named  # unknown at preview: known later, checked then
        elif _cannot_be_valid(name, value):
            assert name in named, (name, value)
    for key in news:
        if key not in p.INPUTS and not key.startswith("__"):
            assert key in named  # not an input: one failure naming it
    assert set(named) <= {*p.INPUTS, *news}
    # The engine gets every key back, and normalising again is a no-op.
    inputs = result.inputs or {}
    assert set(news) <= set(inputs)
    assert _same(normalize_inputs(inputs), inputs)


def _same(a: Any, b: Any) -> bool:
    # NaN is not equal to itself; JSON text (with NaN spelled out) compares it as a value.
    return json.dumps(a, sort_keys=True, default=repr) == json.dumps(
        b, sort_keys=True, default=repr
    )


@fuzz(300)
@given(
    st.dictionaries(
        st.sampled_from(p.INPUTS), st.tuples(st.text(max_size=20), st.booleans()), min_size=1
    )
)
# Found by the fuzzer: a secret cluster ID was quoted in its failure's reason.
@example({p.DB_CLUSTER_ID: ("", True)})
def test_check_never_shows_a_secret_or_a_password(values: dict[str, tuple[str, bool]]) -> None:
    """Secret inputs (and both passwords, secret or not) never appear in a failure's reason."""
    news: dict[str, Any] = {}
    hidden: list[str] = []
    for index, (name, (text, wrap)) in enumerate(values.items()):
        value = f"{MARKER}{index}_{text}"  # distinct per property
        if wrap or name in (p.ACCOUNT_PASSWORD, p.CHECK_PASSWORD):
            hidden.append(value)
        news[name] = secret(value) if wrap else value
    for failure in _check(news).failures or []:
        for value in hidden:
            assert value not in failure.reason and repr(value) not in failure.reason


@fuzz(200)
@given(
    st.sampled_from(
        [
            (p.DB_CLUSTER_ID, "pc-abc123"),
            (p.ACCOUNT_NAME, "dbadmin"),
            (p.REGION, "cn-hangzhou"),
            (p.ENDPOINT, "polardb.aliyuncs.com"),
            (p.ENDPOINT, "http://127.0.0.1:18080"),
        ]
    ),
    st.sampled_from(["\n", "\r\n", " ", "\t", "\x00", "/\n"]),
)
def test_a_valid_value_with_trailing_junk_is_refused(case: tuple[str, str], junk: str) -> None:
    """Found in review: the patterns ended in ``$``, which also matches before a final newline."""
    name, valid = case
    assert _check({**dict(REQUIRED_VALUES), name: valid}).failures == []
    failures = _check({**dict(REQUIRED_VALUES), name: valid + junk}).failures or []
    assert [f.property for f in failures] == [name]


REQUIRED_VALUES: Final = ((p.DB_CLUSTER_ID, "pc-abc123"), (p.ACCOUNT_NAME, "dbadmin"))


# -- diff -----------------------------------------------------------------------------------


@fuzz(600)
@given(OLD_OUTPUTS, PROPERTY_MAPS, PROPERTY_MAPS)
# Found by the fuzzer: a stored fingerprint that is not a string.
@example({p.PASSWORD_FINGERPRINT: [None], p.SQL_CHECK_PASSWORD: secret(p.UNKNOWN)}, {}, {})
# Found by the fuzzer: recorded drift whose missing privileges are not a list.
@example({p.PRIVILEGES_OK: False, p.MISSING_PRIVILEGES: 1.0}, {}, {})
def test_diff_never_raises(
    outputs: dict[str, Any], rest: dict[str, Any], news: dict[str, Any]
) -> None:
    olds = {**rest, **{k: v for k, v in outputs.items() if v is not ABSENT}}
    prov = PrivilegedAccountResetProvider()
    result = prov.diff("pc-abc123:dbadmin", olds, news)
    assert isinstance(result, DiffResult)
    assert isinstance(result.changes, bool)
    assert set(result.replaces or []) <= set(REQUIRED)
    again = prov.diff("pc-abc123:dbadmin", olds, news)
    assert (again.changes, again.replaces) == (result.changes, result.replaces)


def test_a_costly_fingerprint_is_not_computed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fingerprint naming p=2000 (about a minute of scrypt) never matches, and scrypt is
    never asked to compute it (the witness: every scrypt call, not the time taken)."""
    stored = _fingerprint.fingerprint("N3w!Passw0rd").replace("$16384$8$1$", "$16384$8$2000$")
    real_scrypt = hashlib.scrypt
    calls: list[tuple[int, int, int]] = []

    def spy(password: bytes, *, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
        calls.append((n, r, p))
        return real_scrypt(password, salt=salt, n=n, r=r, p=p, dklen=dklen)

    monkeypatch.setattr(hashlib, "scrypt", spy)
    assert not _fingerprint.matches("N3w!Passw0rd", stored)
    assert calls == []
    # The spy sees the calls a readable fingerprint makes: the check above can fail.
    assert _fingerprint.matches("N3w!Passw0rd", _fingerprint.fingerprint("N3w!Passw0rd"))
    assert calls == [(16384, 8, 1), (16384, 8, 1)]
