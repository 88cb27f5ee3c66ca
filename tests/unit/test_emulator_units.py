"""Unit tests of the emulator's verifier, seed loader and domain rules (no HTTP)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeClock
from emulator_harness import DEFAULT_SEED, sign_v3

from polardb_emulator import ApiError, Model, SeedError, parse_seed
from polardb_emulator._admin import is_loopback
from polardb_emulator._auth import (
    MAX_SKEW_SECONDS,
    NonceCache,
    SignedRequest,
    Verifier,
    canonical_query,
    percent_encode,
    signature_v1,
    signature_v3,
    string_to_sign_v1,
    string_to_sign_v3,
)
from polardb_emulator._exceptions import AuthError
from polardb_emulator._faults import parse_fault
from polardb_emulator._requestlog import RequestLog, redact
from polardb_emulator._seed import AccessKey, load_seed
from polardb_emulator._state import StateError
from polardb_emulator.polardb.backend import InMemoryAccountBackend, InMemoryDatabases
from polardb_emulator.polardb.passwords import hash_password, verify_password
from polardb_emulator.polardb.rules import account_name_problem, password_problem
from polardb_emulator.polardb.service import TRANSITIONAL_STATUS

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z
NOW_ISO = "2023-11-14T22:13:20Z"


# --- golden vectors from Alibaba Cloud's documentation --------------------------


def test_v3_golden_vector_from_alibaba_docs() -> None:
    """The worked example of "Request syntax and signature method V3" (help.aliyun.com)."""
    headers = {
        "host": ["ecs.cn-shanghai.aliyuncs.com"],
        "x-acs-action": ["RunInstances"],
        "x-acs-content-sha256": [EMPTY_SHA256],
        "x-acs-date": ["2023-10-26T10:22:32Z"],
        "x-acs-signature-nonce": ["3156853299f313e23d1673dc12e1703d"],
        "x-acs-version": ["2014-05-26"],
    }
    query = [
        ("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"),
        ("RegionId", "cn-shanghai"),
    ]
    from polardb_emulator._auth import canonical_request_v3

    canonical = canonical_request_v3("POST", "/", query, headers, list(headers), EMPTY_SHA256)
    to_sign = string_to_sign_v3(canonical)
    assert to_sign == (
        "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
    )
    assert (
        signature_v3("YourAccessKeySecret", to_sign)
        == "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    )


def test_v1_golden_vector_from_alibaba_docs() -> None:
    """The DescribeRegions example of the ECS RPC signature page (GET, testsecret)."""
    params = {
        "Timestamp": "2016-02-23T12:46:24Z",
        "Format": "XML",
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "Version": "2014-05-26",
        "SignatureVersion": "1.0",
    }
    to_sign = string_to_sign_v1("GET", list(params.items()))
    assert signature_v1("testsecret", to_sign) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_percent_encoding_is_rfc3986() -> None:
    assert percent_encode("a b*c~d+e/f") == "a%20b%2Ac~d%2Be%2Ff"
    assert canonical_query([("b", "2"), ("a", "x y"), ("c", "")]) == "a=x%20y&b=2&c="


# --- the V3 verifier --------------------------------------------------------------

KEYS = (
    AccessKey("AK1", "secret-1"),
    AccessKey("STS.AK2", "secret-2", "token-2"),
)


def _v3_request(
    *,
    key: str = "AK1",
    secret: str = "secret-1",  # noqa: S107
    date: str = NOW_ISO,
    nonce: str = "n-1",
    query: dict[str, str] | None = None,
    extra: dict[str, str] | None = None,
) -> SignedRequest:
    q = query if query is not None else {"DBClusterId": "pc-abc", "AccountName": "dbadmin"}
    headers = {
        "host": "127.0.0.1:1234",
        "x-acs-action": "ResetAccount",
        "x-acs-version": "2017-08-01",
        "x-acs-date": date,
        "x-acs-signature-nonce": nonce,
        **(extra or {}),
    }
    signed = sign_v3(secret, key, q, headers)
    return SignedRequest("POST", "/", list(q.items()), {k: [v] for k, v in signed.items()})


def _verifier(clock: FakeClock | None = None) -> Verifier:
    return Verifier(KEYS, clock=clock or FakeClock(NOW))


def _code(fn: Any) -> str:
    with pytest.raises(AuthError) as info:
        fn()
    return info.value.code


def test_v3_accepts_a_good_signature() -> None:
    identity = _verifier().verify(_v3_request())
    assert (identity.access_key_id, identity.scheme) == ("AK1", "v3")


def test_v3_rejects_wrong_secret_unknown_key_and_tampering() -> None:
    v = _verifier()
    assert _code(lambda: v.verify(_v3_request(secret="nope"))) == "SignatureDoesNotMatch"
    assert _code(lambda: v.verify(_v3_request(key="AKX"))) == "InvalidAccessKeyId.NotFound"
    good = _v3_request(nonce="n-2")
    tampered_query = SignedRequest(
        "POST", "/", [("DBClusterId", "pc-other"), ("AccountName", "dbadmin")], good.headers
    )
    assert _code(lambda: v.verify(tampered_query)) == "SignatureDoesNotMatch"
    headers = dict(good.headers) | {"x-acs-action": ["DeleteAccount"]}
    tampered_header = SignedRequest("POST", "/", good.query, headers)
    assert _code(lambda: v.verify(tampered_header)) == "SignatureDoesNotMatch"


def test_v3_checks_body_hash_and_required_headers() -> None:
    v = _verifier()
    good = _v3_request(nonce="n-3")
    with_body = SignedRequest("POST", "/", good.query, good.headers, b"x=1")
    # A body needs a signed content-type, and must match x-acs-content-sha256.
    assert _code(lambda: v.verify(with_body)) == "IncompleteSignature"
    headers = {k: v for k, v in good.headers.items() if k != "x-acs-signature-nonce"}
    assert _code(lambda: v.verify(SignedRequest("POST", "/", good.query, headers))) == (
        "IncompleteSignature"
    )


def test_v3_rejects_skew_over_15_minutes_and_replays() -> None:
    clock = FakeClock(NOW)
    v = _verifier(clock)
    old = _v3_request(date="2023-11-14T21:58:19Z", nonce="n-old")  # 15 min 1 s earlier
    assert _code(lambda: v.verify(old)) == "InvalidTimeStamp.Expired"
    ok = _v3_request(date="2023-11-14T21:58:21Z", nonce="n-edge")
    v.verify(ok)
    assert _code(lambda: v.verify(ok)) == "SignatureNonceUsed"
    bad = _v3_request(date="yesterday", nonce="n-x")
    assert _code(lambda: v.verify(bad)) == "InvalidTimeStamp.Format"


def test_v3_sts_token_must_match() -> None:
    v = _verifier()
    sts = {"x-acs-accesskey-id": "STS.AK2", "x-acs-security-token": "token-2"}
    assert v.verify(_v3_request(key="STS.AK2", secret="secret-2", extra=sts, nonce="s1"))
    wrong = sts | {"x-acs-security-token": "other"}
    assert (
        _code(
            lambda: v.verify(_v3_request(key="STS.AK2", secret="secret-2", extra=wrong, nonce="s2"))
        )
        == "InvalidSecurityToken.MismatchWithAccessKey"
    )
    assert (
        _code(lambda: v.verify(_v3_request(key="STS.AK2", secret="secret-2", nonce="s3")))
        == "InvalidSecurityToken.Malformed"
    )


def test_f5_cache_pressure_cannot_make_a_replay_pass() -> None:
    """Issue 13 #5: the nonce cache (shared, oldest evicted) forgot nonces still inside the
    replay window: after enough other signed requests, a captured request replayed. Here the
    cache holds 300 (the emulator's default is 100,000 per key)."""
    clock = FakeClock(NOW)
    keys = (*KEYS, AccessKey("AK3", "secret-3"))
    v = Verifier(keys, clock=clock, nonces=NonceCache(max_entries=300))
    captured = _v3_request(nonce="captured")
    v.verify(captured)
    clock.now += 74
    stamp = "2023-11-14T22:14:34Z"
    # Other key holders' traffic (400 requests) cannot flush it ...
    sts = {"x-acs-accesskey-id": "STS.AK2", "x-acs-security-token": "token-2"}
    for n in range(200):
        v.verify(
            _v3_request(key="STS.AK2", secret="secret-2", extra=sts, date=stamp, nonce=f"o{n}")
        )
        v.verify(_v3_request(key="AK3", secret="secret-3", date=stamp, nonce=f"o{n}"))
    assert _code(lambda: v.verify(captured)) == "SignatureNonceUsed"
    # ... nor the key's own: once its cache is full, new nonces wait (a clear error).
    accepted = 0
    with pytest.raises(ApiError) as full:
        for n in range(400):
            v.verify(_v3_request(date=stamp, nonce=f"mine-{n}"))
            accepted += 1
    assert accepted == 299 and full.value.code == "Throttling.User"
    assert "replay window" in full.value.message
    assert _code(lambda: v.verify(captured)) == "SignatureNonceUsed"
    # Once the captured timestamp has left the window, its nonce may go: the timestamp
    # check refuses the replay by itself, and the key has room again.
    clock.now = NOW + MAX_SKEW_SECONDS + 1
    assert _code(lambda: v.verify(captured)) == "InvalidTimeStamp.Expired"
    v.verify(_v3_request(date="2023-11-14T22:28:21Z", nonce="after"))


def test_nonce_cache_defaults_hold_200000_requests_of_other_keys() -> None:
    cache = NonceCache()
    assert cache.add("AK1", "captured", expires=NOW + 900, now=NOW) == "ok"
    for n in range(200_000):
        cache.add(f"AK{n % 7 + 2}", f"n{n}", expires=NOW + 900, now=NOW + 74)
    assert cache.add("AK1", "captured", expires=NOW + 900, now=NOW + 74) == "replay"
    assert cache.add("AK1", "x" * 10, expires=NOW + 900, now=NOW + 901) == "ok"
    assert cache.add("AK1", "captured", expires=NOW + 1800, now=NOW + 901) == "ok"  # expired


# --- V1 -------------------------------------------------------------------------


def _v1_request(params: dict[str, str], secret: str = "secret-1") -> SignedRequest:  # noqa: S107
    signature = signature_v1(secret, string_to_sign_v1("POST", list(params.items())))
    return SignedRequest("POST", "/", [*params.items(), ("Signature", signature)], {})


V1_BASE = {
    "Action": "DescribeAccounts",
    "Format": "json",
    "Version": "2017-08-01",
    "Timestamp": NOW_ISO,
    "SignatureNonce": "v1-1",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureVersion": "1.0",
    "AccessKeyId": "AK1",
    "DBClusterId": "pc-abc",
}


def test_v1_accepts_and_rejects() -> None:
    v = _verifier()
    assert v.verify(_v1_request(V1_BASE)).scheme == "v1"
    assert _code(lambda: v.verify(_v1_request(V1_BASE))) == "SignatureNonceUsed"
    assert _code(lambda: v.verify(_v1_request(V1_BASE | {"SignatureNonce": "v"}, "x"))) == (
        "SignatureDoesNotMatch"
    )
    md5 = V1_BASE | {"SignatureNonce": "v2", "SignatureMethod": "HMAC-MD5"}
    assert _code(lambda: v.verify(_v1_request(md5))) == "UnsupportedSignatureAlgorithm"
    sts = V1_BASE | {"SignatureNonce": "v3", "AccessKeyId": "STS.AK2", "SecurityToken": "token-2"}
    assert v.verify(_v1_request(sts, "secret-2")).access_key_id == "STS.AK2"
    missing = {k: v for k, v in V1_BASE.items() if k != "Timestamp"}
    assert _code(lambda: v.verify(_v1_request(missing))) == "IncompleteSignature"


def test_v1_signature_covers_the_form_body() -> None:
    v = _verifier()
    params = V1_BASE | {"SignatureNonce": "v1-form"}
    signed = _v1_request(params | {"AccountName": "dbadmin"})
    in_query = [(k, val) for k, val in signed.query if k != "AccountName"]
    split = SignedRequest("POST", "/", in_query, {}, b"x", [("AccountName", "dbadmin")])
    assert v.verify(split).scheme == "v1"
    extra = SignedRequest("POST", "/", signed.query, {}, b"x", [("DBClusterId", "pc-other")])
    assert _code(lambda: v.verify(extra)) == "SignatureDoesNotMatch"


def test_unsigned_request_is_incomplete() -> None:
    assert _code(lambda: _verifier().verify(SignedRequest("POST", "/", [], {}))) == (
        "IncompleteSignature"
    )


# --- passwords, policies, seed -------------------------------------------------


def test_password_hashing() -> None:
    encoded = hash_password("Adm1n!pass")
    assert "Adm1n!pass" not in encoded
    assert encoded != hash_password("Adm1n!pass")  # salted
    assert verify_password("Adm1n!pass", encoded)
    assert not verify_password("Adm1n!pasS", encoded)
    assert not verify_password("x", "garbage")


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Aa1!aaaa", True),
        ("aaaa1111!", True),
        ("Aa1!aaa", False),  # 7 chars
        ("A" * 30 + "a1!", False),  # 33 chars
        ("aaaaaaaa1", False),  # two classes
        ("Aa1aaaa~", False),  # ~ is not an allowed special character
    ],
)
def test_password_policy(password: str, ok: bool) -> None:
    assert (password_problem(password) is None) is ok
    problem = password_problem(password)
    assert problem is None or password not in problem


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("ab", True),
        ("a_1", True),
        ("a", False),
        ("1ab", False),
        ("ab_", False),
        ("Ab", False),
        ("a" * 17, False),
        ("root", False),
        ("admin", False),
    ],
)
def test_account_name_policy(name: str, ok: bool) -> None:
    assert (account_name_problem(name) is None) is ok


def _seed_with(**changes: Any) -> dict[str, Any]:
    import copy

    data: dict[str, Any] = copy.deepcopy(DEFAULT_SEED)
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["clusters"][0]["accounts"][1].update(type="Admin"),
            "clusters[0].accounts[1].type: must be one of Normal, Super, ReadOnly",
        ),
        (lambda d: d.update(extra=1), "extra: unknown key"),
        (lambda d: d["clusters"][1].update(id="PC-1"), "clusters[1].id:"),
        (
            lambda d: d["clusters"][0]["accounts"][0].update(password="short"),
            "clusters[0].accounts[0].password:",
        ),
        (lambda d: d["settings"].update(task_seconds="x"), "settings.task_seconds:"),
        (
            lambda d: d["settings"].update(backend="mysql"),
            "settings.backend: must be one of memory, mariadb",
        ),
        (
            lambda d: d["clusters"][0]["accounts"][1].update(type="Super"),
            "clusters[0].accounts[1].type: a MySQL cluster can have at most one Super",
        ),
        (lambda d: d.pop("access_keys"), "access_keys: is required"),
    ],
)
def test_seed_errors_name_the_key(mutate: Any, message: str) -> None:
    data = _seed_with()
    mutate(data)
    with pytest.raises(SeedError) as info:
        parse_seed(data)
    assert str(info.value).startswith(message)
    assert "short" not in str(info.value)


def test_seed_loads_yaml_and_json(tmp_path: Path) -> None:
    import json

    path = tmp_path / "seed.json"
    path.write_text(json.dumps(DEFAULT_SEED))
    seed = load_seed(path)
    assert seed.clusters[0].id == "pc-mysql00000001"
    (tmp_path / "bad.yaml").write_text("a: [")
    with pytest.raises(SeedError):
        load_seed(tmp_path / "bad.yaml")


# --- domain rules -----------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> Any:
    return parse_seed(DEFAULT_SEED)


def _model(seed: Any, clock: FakeClock, **kw: Any) -> Model:
    return Model(seed, clock=clock, **kw)


def _api_code(fn: Any) -> tuple[str, int]:
    with pytest.raises(ApiError) as info:
        fn()
    return info.value.code, info.value.status


def test_reset_account_task_lifecycle(seed: Any) -> None:
    clock = FakeClock(NOW)
    model = _model(seed, clock)
    cluster = model.clusters["pc-mysql00000001"]
    account = cluster.accounts["dbadmin"]
    database = cluster.database
    assert isinstance(database, InMemoryAccountBackend)
    model.admin.patch_account(
        "pc-mysql00000001", "dbadmin", {"privileges_revoked": True, "lock_state": "Lock"}
    )
    assert database.describe("dbadmin") == {"privileges_revoked": True}
    model.service.reset_account("pc-mysql00000001", "dbadmin", "N3w!passw0rd")
    assert account.status == TRANSITIONAL_STATUS
    assert database.describe("dbadmin") == {"privileges_revoked": False}
    assert account.lock_state == "Lock"  # a reset does not unlock
    assert model.admin.verify_password("pc-mysql00000001", "dbadmin", "N3w!passw0rd")
    # The quota (1) is in use until the task ends.
    assert _api_code(lambda: model.service.reset_account("pc-mysql00000001", "dbadmin", None)) == (
        "ConcurrentTaskExceeded",
        403,
    )
    clock.now += 0.29
    model.scheduler.tick()
    assert account.status == TRANSITIONAL_STATUS
    clock.now += 0.02
    model.scheduler.tick()
    assert account.status == "Available"
    model.service.reset_account("pc-mysql00000001", "dbadmin", None)


def test_reset_account_rules(seed: Any) -> None:
    model = _model(seed, FakeClock(NOW))
    reset = model.service.reset_account
    assert _api_code(lambda: reset("pc-pgsql00000001", "pgadmin", None)) == (
        "OperationDenied.DBType",
        400,
    )
    assert _api_code(lambda: reset("pc-mysql00000001", "app_rw", None)) == (
        "InvalidAccountName.Malformed",
        400,
    )
    assert _api_code(lambda: reset("pc-maint0000001", "dbadmin", None)) == (
        "OperationDenied.DBClusterStatus",
        400,
    )
    assert _api_code(lambda: reset("pc-nope0000001", "dbadmin", None)) == (
        "InvalidDBCluster.NotFound",
        404,
    )
    assert _api_code(lambda: reset("rm-123", "dbadmin", None)) == (
        "InvalidDBClusterId.Malformed",
        404,
    )
    assert _api_code(lambda: reset("pc-mysql00000001", "Bad-Name", None)) == (
        "InvalidAccountName.Malformed",
        400,
    )
    assert _api_code(lambda: reset("pc-mysql00000001", "ghost", None)) == (
        "InvalidAccountName.NotFound",
        404,
    )
    code, _ = _api_code(lambda: reset("pc-mysql00000001", "dbadmin", "weakpass"))
    assert code == "InvalidAccountPassword.Malformed"
    model.clusters["pc-mysql00000002"].status = "Deleted"
    assert _api_code(lambda: reset("pc-mysql00000002", "polar_super", None)) == (
        "InvalidDBClusterId.NotFound",
        404,
    )


def test_create_delete_modify_rules(seed: Any) -> None:
    clock = FakeClock(NOW)
    model = _model(seed, clock, task_seconds=0)
    create = model.service.create_account
    assert _api_code(lambda: create("pc-mysql00000001", "second", "Aa1!aaaa", None))[0] == (
        "InvalidAccountType.Malformed"  # omitted type means Super; one Super per MySQL cluster
    )
    assert _api_code(lambda: create("pc-mysql00000001", "root", "Aa1!aaaa", "Normal"))[0] == (
        "InvalidAccountName.Malformed"
    )
    assert _api_code(lambda: create("pc-mysql00000001", "app_rw", "Aa1!aaaa", "Normal"))[0] == (
        "InvalidAccountName.Duplicate"
    )
    assert _api_code(lambda: create("pc-mysql00000001", "ro", "Aa1!aaaa", "ReadOnly"))[0] == (
        "InvalidAccountType.Malformed"
    )
    create("pc-pgsql00000001", "pg2", "Aa1!aaaa", None)  # PostgreSQL: no one-Super rule
    model.scheduler.tick()
    create("pc-mysql00000001", "reader", "Aa1!aaaa", "Normal", db_name="app", privilege="ReadOnly")
    reader = model.clusters["pc-mysql00000001"].accounts["reader"]
    assert reader.database_privileges == [{"DBName": "app", "AccountPrivilege": "ReadOnly"}]
    model.scheduler.tick()
    model.service.delete_account("pc-mysql00000001", "reader")
    assert reader.status == "Deleting"
    # DeleteAccount documents ConcurrentTaskExceeded as 400.
    assert _api_code(lambda: model.service.delete_account("pc-mysql00000001", "app_rw")) == (
        "ConcurrentTaskExceeded",
        400,
    )
    model.scheduler.tick()
    assert "reader" not in model.clusters["pc-mysql00000001"].accounts
    assert not model.admin.verify_password("pc-mysql00000001", "reader", "Aa1!aaaa")
    model.service.modify_account_password("pc-mysql00000001", "app_rw", "Cc3#cccccc")
    assert model.admin.verify_password("pc-mysql00000001", "app_rw", "Cc3#cccccc")


def test_state_roundtrip_keeps_hashes_only(seed: Any) -> None:
    model = _model(seed, FakeClock(NOW))
    model.service.reset_account("pc-mysql00000001", "dbadmin", "N3w!passw0rd")
    state = model.dump_state()
    assert "N3w!passw0rd" not in str(state)
    other = _model(seed, FakeClock(NOW), state=state)
    assert other.admin.verify_password("pc-mysql00000001", "dbadmin", "N3w!passw0rd")
    assert len(other.scheduler.tasks) == 1


def test_held_tasks_finish_only_when_released(seed: Any) -> None:
    clock = FakeClock(NOW)
    model = _model(seed, clock)
    model.scheduler.hold()
    model.service.reset_account("pc-mysql00000001", "dbadmin", None)
    model.service.delete_account("pc-mysql00000002", "polar_super")
    clock.now += 3600
    assert model.scheduler.due() == [] and not model.scheduler.tick()
    assert model.dump_state()["tasks_held"] is True
    assert model.scheduler.release() == 2
    assert model.clusters["pc-mysql00000001"].accounts["dbadmin"].status == "Available"
    assert "polar_super" not in model.clusters["pc-mysql00000002"].accounts
    assert not model.admin.verify_password("pc-mysql00000002", "polar_super", "Sup3r!pass")


def test_format_1_state_files_still_load(seed: Any) -> None:
    old = _model(seed, FakeClock(NOW))
    state = old.dump_state()
    # Format 1: hashes and the revoked flag inside the accounts, no backend, no database.
    for cluster in state["clusters"]:
        users = cluster.pop("database")["users"]
        for account in cluster["accounts"]:
            account.update(users[account["name"]])
    state.pop("backend")
    state.pop("tasks_held")
    model = _model(seed, FakeClock(NOW), state=state)
    assert model.admin.verify_password("pc-mysql00000001", "dbadmin", "Adm1n!pass")
    assert not model.admin.verify_password("pc-mysql00000001", "dbadmin", "Other!pass1")


def test_state_of_another_backend_is_refused(seed: Any) -> None:
    state = _model(seed, FakeClock(NOW)).dump_state() | {"backend": "mariadb"}
    with pytest.raises(StateError, match="written with --backend mariadb"):
        _model(seed, FakeClock(NOW), state=state)


def test_every_write_goes_through_the_account_backend(seed: Any) -> None:
    """The model keeps no password material: the backend is the only place."""

    calls: list[tuple[str, str]] = []

    class Recording(InMemoryAccountBackend):
        def create_account(self, name: str, *args: Any) -> None:
            calls.append(("create", name))
            super().create_account(name, *args)

        def drop_account(self, name: str) -> None:
            calls.append(("drop", name))
            super().drop_account(name)

        def set_password(self, name: str, credential: str) -> None:
            calls.append(("password", name))
            super().set_password(name, credential)

        def restore_privileges(self, name: str, credential: str | None) -> None:
            calls.append(("restore", name))
            super().restore_privileges(name, credential)

    class Fleet(InMemoryDatabases):
        def open(self, clusters: Any, *, existing: bool) -> dict[str, Any]:
            return {cid: Recording() for cid, _ in clusters}

    clock = FakeClock(NOW)
    model = Model(seed, clock=clock, task_seconds=0, databases=Fleet())
    model.service.reset_account("pc-mysql00000001", "dbadmin", "N3w!passw0rd")
    model.service.modify_account_password("pc-mysql00000002", "polar_super", "N3w!passw0rd")
    model.service.create_account("pc-pgsql00000001", "pg2", "Aa1!aaaa", None)
    model.scheduler.tick()
    model.service.delete_account("pc-mysql00000001", "app_rw")
    model.scheduler.tick()
    model.admin.patch_account("pc-mysql00000002", "polar_super", {"password": "0ut!ofband"})
    model.admin.delete_account_now("pc-mysql00000002", "polar_super")
    assert calls == [
        ("restore", "dbadmin"),
        ("password", "polar_super"),
        ("create", "pg2"),
        ("drop", "app_rw"),
        ("password", "polar_super"),
        ("drop", "polar_super"),
    ]
    assert "N3w!passw0rd" not in str(model.dump_state())


# --- protocol helpers ---------------------------------------------------------------


def test_redaction_and_loopback() -> None:
    params = {"AccountPassword": "x", "NewAccountPassword": "y", "SecurityToken": "t", "A": "b"}
    assert redact(params) == {
        "AccountPassword": "***REDACTED***",
        "NewAccountPassword": "***REDACTED***",
        "SecurityToken": "***REDACTED***",
        "A": "b",
    }
    assert is_loopback("127.0.0.1") and is_loopback("::1")
    assert not is_loopback("10.0.0.2") and not is_loopback(None) and not is_loopback("junk")


def test_request_log_is_bounded_in_entries_bytes_and_parameters() -> None:
    log = RequestLog(lambda: NOW, max_entries=5, max_bytes=4000)
    wide = {f"k{n}": "v" * 5000 for n in range(100)} | {"AccountPassword": "x"}
    log.record(action="A" * 500, params=wide, authenticated=False, status=400)
    [entry] = log.entries()
    assert len(entry["action"]) == 67 and entry["params_truncated"] is True
    assert len(entry["params"]) == 16 and all(len(v) == 67 for v in entry["params"].values())
    log.record(action="B", params=wide, authenticated=True, status=200)
    assert log.size <= 4000 and log.entries() == []  # 64 values of 1 KiB: over the byte cap
    roomy = RequestLog(lambda: NOW)
    roomy.record(action="B", params=wide, authenticated=True, status=200)
    assert len(roomy.entries()[0]["params"]) == 64
    for _ in range(9):
        log.record(action="C", params={"AccountPassword": "x"}, authenticated=True)
    assert len(log) == 5 and log.entries()[0]["params"] == {"AccountPassword": "***REDACTED***"}
    assert log.entries()[-1]["seq"] == 11


def test_fault_spec_validation() -> None:
    fault = parse_fault({"action": "ResetAccount", "code": "Throttling.User", "count": 2}, 1)
    assert (fault.kind, fault.count) == ("error", 2)
    for bad in (
        {"action": "Nope", "code": "X"},
        {"action": "*", "kind": "error"},
        {"action": "*", "kind": "latency"},
        {"action": "*", "kind": "drop", "count": 0},
        {"action": "*", "kind": "drop", "colour": "red"},
    ):
        with pytest.raises(ValueError):
            parse_fault(bad, 1)


def test_model_calls_and_hashing_run_off_the_event_loop(seed: Any) -> None:
    import asyncio
    import threading

    from polardb_emulator import Emulator

    emulator = Emulator(seed)

    async def go() -> tuple[str, str, bool]:
        model_thread = await emulator.run(lambda: threading.current_thread().name)
        prehashed = await emulator.prehash("pc-mysql00000001", "N3w!passw0rd")
        assert prehashed is not None and prehashed.db_type == "MySQL"
        await emulator.run(
            emulator.model.service.reset_account,
            "pc-mysql00000001",
            "dbadmin",
            "N3w!passw0rd",
            prehashed,
        )
        ok = await emulator.run(
            emulator.model.admin.verify_password, "pc-mysql00000001", "dbadmin", "N3w!passw0rd"
        )
        return model_thread, threading.current_thread().name, ok

    try:
        model_thread, loop_thread, ok = asyncio.run(go())
    finally:
        emulator.close()
    assert model_thread.startswith("polardb-model") and model_thread != loop_thread and ok
