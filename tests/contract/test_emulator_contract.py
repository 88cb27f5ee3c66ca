"""Contract tests: the real PolarDB SDK against the emulator over HTTP."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from alibabacloud_polardb20170801 import models as m
from alibabacloud_tea_openapi.exceptions import (
    ClientException,
    ServerException,
    ThrottlingException,
)
from alibabacloud_tea_openapi.utils import Utils
from darabonba.exceptions import UnretryableException
from emulator_harness import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    API_VERSION,
    STS_KEY_ID,
    STS_KEY_SECRET,
    STS_TOKEN,
    EmulatorError,
    EmulatorProcess,
    SdkClientFactory,
    raw_post,
    sign_v3,
)

MYSQL = "pc-mysql00000001"
MYSQL2 = "pc-mysql00000002"
PGSQL = "pc-pgsql00000001"
MAINT = "pc-maint0000001"
NEW_PASSWORD = "R3set!Pass99"


def _reset(client: Any, cluster: str = MYSQL, name: str = "dbadmin", pw: str | None = None) -> Any:
    return client.reset_account(
        m.ResetAccountRequest(dbcluster_id=cluster, account_name=name, account_password=pw)
    )


def _error(fn: Callable[[], Any]) -> Any:
    with pytest.raises((ClientException, ServerException)) as info:
        fn()
    return info.value


def _accounts(client: Any, cluster: str = MYSQL, **kw: Any) -> dict[str, Any]:
    request = m.DescribeAccountsRequest(dbcluster_id=cluster, **kw)
    return {a.account_name: a for a in client.describe_accounts(request).body.accounts}


def _wait_available(client: Any, cluster: str, name: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _accounts(client, cluster)[name].account_status == "Available":
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} never became Available")


# --- every action, both signature schemes, STS -------------------------------------


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3", "v1"])
def test_reset_account_sets_password_and_goes_through_a_task(
    emu: EmulatorProcess, sdk_client: SdkClientFactory, algorithm: str | None
) -> None:
    client = sdk_client(signature_algorithm=algorithm)
    emu.patch_account(MYSQL, "dbadmin", privileges_revoked=True, lock_state="Lock")
    with emu.tasks_held():
        response = _reset(client, pw=NEW_PASSWORD)
        assert response.status_code == 200 and response.body.request_id
        during = _accounts(client)["dbadmin"]
        assert during.account_status == "Creating"
        assert emu.state()["tasks"][0]["action"] == "ResetAccount"
    assert _accounts(client)["dbadmin"].account_status == "Available"
    after = emu.account(MYSQL, "dbadmin")
    assert after is not None
    assert after["privileges_revoked"] is False and after["lock_state"] == "Lock"
    assert emu.verify_password(MYSQL, "dbadmin", NEW_PASSWORD)
    assert not emu.verify_password(MYSQL, "dbadmin", "Adm1n!pass")
    [entry] = emu.requests("ResetAccount")
    assert entry["signature"] == ("v1" if algorithm else "v3")
    assert entry["params"]["AccountPassword"] == "***REDACTED***"
    assert (entry["status"], entry["code"], entry["access_key_id"]) == (200, None, ACCESS_KEY_ID)


def test_reset_without_password_keeps_it(
    emu: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    _reset(sdk_client())
    assert emu.verify_password(MYSQL, "dbadmin", "Adm1n!pass")


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3", "v1"])
def test_sts_credentials(
    emu: EmulatorProcess, sdk_client: SdkClientFactory, algorithm: str | None
) -> None:
    client = sdk_client(
        access_key_id=STS_KEY_ID,
        access_key_secret=STS_KEY_SECRET,
        security_token=STS_TOKEN,
        signature_algorithm=algorithm,
    )
    assert "dbadmin" in _accounts(client)
    assert emu.requests()[-1]["access_key_id"] == STS_KEY_ID
    assert emu.requests()[-1]["params"].get("SecurityToken") in (None, "***REDACTED***")
    bad = sdk_client(
        access_key_id=STS_KEY_ID,
        access_key_secret=STS_KEY_SECRET,
        security_token="wrong-token",
        signature_algorithm=algorithm,
    )
    err = _error(lambda: _accounts(bad))
    assert err.code == "InvalidSecurityToken.MismatchWithAccessKey"
    missing = sdk_client(
        access_key_id=STS_KEY_ID, access_key_secret=STS_KEY_SECRET, signature_algorithm=algorithm
    )
    assert _error(lambda: _accounts(missing)).code == "InvalidSecurityToken.Malformed"


def test_describe_accounts_paging_and_filter(sdk_client: SdkClientFactory) -> None:
    client = sdk_client()
    body = client.describe_accounts(
        m.DescribeAccountsRequest(dbcluster_id=MYSQL, page_size=50, page_number=1)
    ).body
    assert (body.page_number, body.page_record_count) == (1, 2)
    account = body.accounts[0]
    assert (account.account_name, account.account_type, account.account_lock_state) == (
        "dbadmin",
        "Super",
        "UnLock",
    )
    assert account.database_privileges == []
    assert list(_accounts(client, account_name="app_rw")) == ["app_rw"]
    page2 = client.describe_accounts(
        m.DescribeAccountsRequest(dbcluster_id=MYSQL, page_size=30, page_number=2)
    ).body
    assert page2.page_record_count == 0
    for kwargs, code in (
        ({"page_size": 20}, "InvalidPageSize.Malformed"),
        ({"page_number": 0}, "InvalidPageNumber.Malformed"),
    ):
        err = _error(
            lambda kwargs=kwargs: client.describe_accounts(  # type: ignore[misc]
                m.DescribeAccountsRequest(dbcluster_id=MYSQL, **kwargs)
            )
        )
        assert (err.code, err.status_code) == (code, 400)


def test_describe_cluster_attribute_and_clusters(sdk_client: SdkClientFactory) -> None:
    client = sdk_client()
    attr = client.describe_dbcluster_attribute(
        m.DescribeDBClusterAttributeRequest(dbcluster_id=PGSQL)
    ).body
    assert (attr.dbcluster_id, attr.dbtype, attr.dbcluster_status, attr.region_id) == (
        PGSQL,
        "PostgreSQL",
        "Running",
        "cn-hangzhou",
    )
    assert attr.engine == "POLARDB" and attr.zone_ids and attr.vpcid and attr.deletion_lock == 0
    assert attr.dbnodes[0].dbnode_role == "Writer"
    listed = client.describe_dbclusters(m.DescribeDBClustersRequest(region_id="cn-hangzhou")).body
    ids = [c.dbcluster_id for c in listed.items.dbcluster]
    assert ids == [MYSQL, MYSQL2, PGSQL, MAINT] and listed.total_record_count == 4
    some = client.describe_dbclusters(
        m.DescribeDBClustersRequest(region_id="cn-hangzhou", dbcluster_ids=f"{MAINT},{PGSQL}")
    ).body
    assert {c.dbcluster_id: c.dbcluster_status for c in some.items.dbcluster} == {
        PGSQL: "Running",
        MAINT: "Maintaining",
    }
    other = client.describe_dbclusters(m.DescribeDBClustersRequest(region_id="cn-beijing")).body
    assert other.items.dbcluster == [] and other.total_record_count == 0
    err = _error(lambda: client.describe_dbclusters(m.DescribeDBClustersRequest()))
    assert (err.code, err.status_code) == ("MissingParameter", 400)
    err = _error(
        lambda: client.describe_dbcluster_attribute(
            m.DescribeDBClusterAttributeRequest(dbcluster_id="bad id")
        )
    )
    assert (err.code, err.status_code) == ("InvalidDBClusterId.Malformed", 400)
    err = _error(
        lambda: client.describe_dbcluster_attribute(
            m.DescribeDBClusterAttributeRequest(dbcluster_id="pc-missing000001")
        )
    )
    assert (err.code, err.status_code) == ("InvalidDBCluster.NotFound", 404)


def test_create_modify_delete_account(emu: EmulatorProcess, sdk_client: SdkClientFactory) -> None:
    client = sdk_client()
    emu.hold_tasks()
    client.create_account(
        m.CreateAccountRequest(
            dbcluster_id=MYSQL,
            account_name="reporter",
            account_password="Rep0rt!ng",
            account_type="Normal",
            account_description="reports",
            dbname="sales",
            account_privilege="ReadOnly",
        )
    )
    created = _accounts(client)["reporter"]
    assert created.account_status == "Creating" and created.account_description == "reports"
    assert created.database_privileges[0].dbname == "sales"
    assert emu.release_tasks() == 1
    assert _accounts(client)["reporter"].account_status == "Available"
    client.modify_account_password(
        m.ModifyAccountPasswordRequest(
            dbcluster_id=MYSQL, account_name="reporter", new_account_password="N3w#report"
        )
    )
    assert emu.verify_password(MYSQL, "reporter", "N3w#report")
    _wait_available(client, MYSQL, "reporter")
    with emu.tasks_held():
        client.delete_account(m.DeleteAccountRequest(dbcluster_id=MYSQL, account_name="reporter"))
        assert _accounts(client)["reporter"].account_status == "Deleting"
    assert "reporter" not in _accounts(client)
    params = emu.requests("ModifyAccountPassword")[0]["params"]
    assert params["NewAccountPassword"] == "***REDACTED***"


def test_create_account_omitted_type_means_super(
    emu: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    client = sdk_client()
    err = _error(
        lambda: client.create_account(
            m.CreateAccountRequest(
                dbcluster_id=MYSQL, account_name="boss", account_password="B0ss!aaaa"
            )
        )
    )
    assert (err.code, err.status_code) == ("InvalidAccountType.Malformed", 400)
    emu.delete_account(MYSQL, "dbadmin")
    client.create_account(
        m.CreateAccountRequest(
            dbcluster_id=MYSQL, account_name="boss", account_password="B0ss!aaaa"
        )
    )
    assert _accounts(client)["boss"].account_type == "Super"


# --- documented errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cluster", "name", "password", "code", "status"),
    [
        (MYSQL, "app_rw", None, "InvalidAccountName.Malformed", 400),  # not the Super account
        (MYSQL, "Bad-Name", None, "InvalidAccountName.Malformed", 400),
        (MYSQL, "ghost", None, "InvalidAccountName.NotFound", 404),
        (MYSQL, "dbadmin", "weakpass", "InvalidAccountPassword.Malformed", 400),
        (PGSQL, "pgadmin", None, "OperationDenied.DBType", 400),
        (MAINT, "dbadmin", None, "OperationDenied.DBClusterStatus", 400),
        ("pc-unknown00001", "dbadmin", None, "InvalidDBCluster.NotFound", 404),
        ("rm-bp1xyz", "dbadmin", None, "InvalidDBClusterId.Malformed", 404),
    ],
)
def test_reset_account_errors(
    sdk_client: SdkClientFactory,
    cluster: str,
    name: str,
    password: str | None,
    code: str,
    status: int,
) -> None:
    err = _error(lambda: _reset(sdk_client(), cluster, name, password))
    assert isinstance(err, ClientException)
    assert (err.code, err.status_code) == (code, status)
    assert err.request_id and err.data["Message"]
    if password:
        assert password not in str(err.data)


def test_released_cluster_is_invalid_cluster_id_not_found(
    emu: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    emu.patch_cluster(MYSQL2, status="Deleted")
    err = _error(lambda: _reset(sdk_client(), MYSQL2, "polar_super"))
    assert (err.code, err.status_code) == ("InvalidDBClusterId.NotFound", 404)


def test_other_action_errors(sdk_client: SdkClientFactory) -> None:
    client = sdk_client()
    cases: list[tuple[Callable[[], Any], str, int]] = [
        (
            lambda: client.create_account(
                m.CreateAccountRequest(
                    dbcluster_id=MYSQL,
                    account_name="app_rw",
                    account_password="Aa1!aaaa",
                    account_type="Normal",
                )
            ),
            "InvalidAccountName.Duplicate",
            400,
        ),
        (
            lambda: client.create_account(
                m.CreateAccountRequest(
                    dbcluster_id=MYSQL,
                    account_name="root",
                    account_password="Aa1!aaaa",
                    account_type="Normal",
                )
            ),
            "InvalidAccountName.Malformed",
            400,
        ),
        (
            lambda: client.create_account(
                m.CreateAccountRequest(
                    dbcluster_id=MYSQL,
                    account_name="x_user",
                    account_password="Aa1!aaaa",
                    account_type="Owner",
                )
            ),
            "InvalidAccountType.Malformed",
            400,
        ),
        (
            lambda: client.create_account(
                m.CreateAccountRequest(
                    dbcluster_id=MYSQL,
                    account_name="x_user",
                    account_password="aaaaaaaa",
                    account_type="Normal",
                )
            ),
            "InvalidAccountPassword.Malformed",
            400,
        ),
        (
            lambda: client.modify_account_password(
                m.ModifyAccountPasswordRequest(
                    dbcluster_id=MYSQL, account_name="app_rw", new_account_password="short"
                )
            ),
            "InvalidAccountPassword.Malformed",
            400,
        ),
        (
            lambda: client.delete_account(
                m.DeleteAccountRequest(dbcluster_id="pc-nothere00001", account_name="app_rw")
            ),
            "InvalidDBCluster.NotFound",
            404,
        ),
        (
            lambda: client.describe_accounts(m.DescribeAccountsRequest(dbcluster_id="pc_bad")),
            "InvalidDBClusterId.Malformed",
            404,
        ),
        (
            lambda: client.delete_account(m.DeleteAccountRequest(dbcluster_id=MYSQL)),
            "MissingParameter",
            400,
        ),
    ]
    for call, code, status in cases:
        err = _error(call)
        assert (err.code, err.status_code) == (code, status), code


def test_unknown_action_and_wrong_version(
    emu: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    client = sdk_client()
    from alibabacloud_tea_openapi import utils_models
    from darabonba.runtime import RuntimeOptions

    params = utils_models.Params(
        action="DescribeNothing",
        version=API_VERSION,
        protocol="HTTP",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    request = utils_models.OpenApiRequest(query={})
    err = _error(lambda: client.call_api(params, request, RuntimeOptions()))
    assert (err.code, err.status_code) == ("InvalidAction.NotFound", 404)
    params.action, params.version = "DescribeAccounts", "2099-01-01"
    err = _error(lambda: client.call_api(params, request, RuntimeOptions()))
    assert (err.code, err.status_code) == ("InvalidVersion", 400)


# --- authentication rejections ----------------------------------------------------------


def test_unknown_key_and_wrong_secret(emu: EmulatorProcess, sdk_client: SdkClientFactory) -> None:
    err = _error(lambda: _accounts(sdk_client(access_key_id="LTAI5tNobody")))
    assert (err.code, err.status_code) == ("InvalidAccessKeyId.NotFound", 404)
    for algorithm in (None, "v2"):
        bad = sdk_client(access_key_secret="not-the-secret", signature_algorithm=algorithm)
        err = _error(lambda bad=bad: _accounts(bad))  # type: ignore[misc]
        assert (err.code, err.status_code) == ("SignatureDoesNotMatch", 400)
    codes = [e["code"] for e in emu.requests()]
    assert codes == [
        "InvalidAccessKeyId.NotFound",
        "SignatureDoesNotMatch",
        "SignatureDoesNotMatch",
    ]


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3", "v1"])
def test_clock_skew_is_rejected(
    sdk_client: SdkClientFactory, monkeypatch: pytest.MonkeyPatch, algorithm: str | None
) -> None:
    stale = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 16 * 60))
    monkeypatch.setattr(Utils, "get_timestamp", staticmethod(lambda: stale))
    err = _error(lambda: _accounts(sdk_client(signature_algorithm=algorithm)))
    assert (err.code, err.status_code) == ("InvalidTimeStamp.Expired", 400)


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3", "v1"])
def test_reused_nonce_is_rejected(
    sdk_client: SdkClientFactory, monkeypatch: pytest.MonkeyPatch, algorithm: str | None
) -> None:
    nonce = f"fixed-nonce-{algorithm}-{time.time()}"
    monkeypatch.setattr(Utils, "get_nonce", staticmethod(lambda: nonce))
    client = sdk_client(signature_algorithm=algorithm)
    _accounts(client)
    err = _error(lambda: _accounts(client))
    assert (err.code, err.status_code) == ("SignatureNonceUsed", 400)


def _signed_raw(emu: EmulatorProcess, nonce: str) -> tuple[dict[str, str], dict[str, str]]:
    query = {"DBClusterId": MYSQL, "AccountName": "dbadmin"}
    headers = sign_v3(
        ACCESS_KEY_SECRET,
        ACCESS_KEY_ID,
        query,
        {
            "host": emu.endpoint,
            "x-acs-action": "DescribeAccounts",
            "x-acs-version": API_VERSION,
            "x-acs-date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "x-acs-signature-nonce": nonce,
        },
    )
    return query, headers


def test_raw_signed_request_and_tampering(emu: EmulatorProcess) -> None:
    query, headers = _signed_raw(emu, "raw-ok")
    status, body, _ = raw_post(emu.base_url, query, headers)
    assert status == 200 and body["Accounts"][0]["AccountName"] == "dbadmin"
    # Tampered query parameter.
    query, headers = _signed_raw(emu, "raw-q")
    status, body, _ = raw_post(emu.base_url, query | {"AccountName": "app_rw"}, headers)
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    # Tampered signed header.
    query, headers = _signed_raw(emu, "raw-h")
    status, body, _ = raw_post(emu.base_url, query, headers | {"x-acs-action": "DeleteAccount"})
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    # Body that does not match x-acs-content-sha256 (content-type signed).
    query, headers = _signed_raw(emu, "raw-b")
    status, body, _ = raw_post(emu.base_url, query, headers, b"AccountName=app_rw")
    assert status == 400 and body["Code"] in ("IncompleteSignature", "SignatureDoesNotMatch")
    # A required header left out of SignedHeaders.
    query, headers = _signed_raw(emu, "raw-s")
    headers["authorization"] = headers["authorization"].replace("x-acs-date;", "")
    status, body, _ = raw_post(emu.base_url, query, headers)
    assert (status, body["Code"]) == (400, "IncompleteSignature")
    # No signature at all.
    status, body, resp_headers = raw_post(
        emu.base_url, query, {"x-acs-action": "DescribeAccounts", "x-acs-version": API_VERSION}
    )
    assert (status, body["Code"]) == (400, "IncompleteSignature")
    assert resp_headers["Content-Type"].startswith("application/json")
    assert set(body) == {"RequestId", "Code", "Message"}


# --- faults ---------------------------------------------------------------------------------


def test_error_fault_counts_down(emu: EmulatorProcess, sdk_client: SdkClientFactory) -> None:
    client = sdk_client()
    emu.add_fault(action="ResetAccount", code="ConcurrentTaskExceeded", status=403, count=2)
    for _ in range(2):
        err = _error(lambda: _reset(client))
        assert (err.code, err.status_code) == ("ConcurrentTaskExceeded", 403)
    assert emu.faults() == []
    _reset(client)
    assert [e["code"] for e in emu.requests("ResetAccount")] == [
        "ConcurrentTaskExceeded",
        "ConcurrentTaskExceeded",
        None,
    ]


def test_throttling_fault_with_retry_after(
    emu: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    emu.add_fault(
        action="*",
        code="Throttling.User",
        message="Request was denied due to user flow control.",
        retry_after_ms=1500,
    )
    with pytest.raises(ThrottlingException) as info:
        _accounts(sdk_client())
    assert info.value.code == "Throttling.User"
    assert info.value.retry_after == 1500
    assert info.value.status_code == 400


def test_server_error_fault(emu: EmulatorProcess, sdk_client: SdkClientFactory) -> None:
    emu.add_fault(action="ResetAccount", code="ServiceUnavailable", status=503)
    err = _error(lambda: _reset(sdk_client()))
    assert isinstance(err, ServerException)
    assert (err.code, err.status_code) == ("ServiceUnavailable", 503)
    emu.add_fault(action="ResetAccount", code="InternalError")
    err = _error(lambda: _reset(sdk_client()))
    assert isinstance(err, ServerException) and err.status_code == 500


def test_latency_and_drop_faults(emu: EmulatorProcess, sdk_client: SdkClientFactory) -> None:
    client = sdk_client()
    emu.add_fault(action="DescribeAccounts", kind="latency", latency_ms=300)
    started = time.monotonic()
    _accounts(client)
    assert time.monotonic() - started >= 0.3
    emu.add_fault(action="ResetAccount", kind="drop")
    with pytest.raises(UnretryableException):
        _reset(client, pw=NEW_PASSWORD)
    assert emu.requests("ResetAccount")[-1]["code"] == "Fault.ConnectionDropped"
    # Faults apply after authentication: a bad signature is still a signature error.
    emu.add_fault(action="*", code="InternalError")
    err = _error(lambda: _accounts(sdk_client(access_key_secret="wrong")))
    assert err.code == "SignatureDoesNotMatch"
    emu.clear_faults()
    assert emu.faults() == []


def test_fault_validation_is_reported(emu: EmulatorProcess) -> None:
    with pytest.raises(EmulatorError, match="400"):
        emu.add_fault(action="ResetAccount", kind="explode")


# --- concurrency, drift, async SDK ------------------------------------------------------------


def test_two_racing_resets_one_gets_concurrent_task_exceeded(
    emu: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    clients = [sdk_client(), sdk_client()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(client: Any) -> None:
        barrier.wait()
        try:
            _reset(client, pw=NEW_PASSWORD)
            outcomes.append("ok")
        except ClientException as exc:
            outcomes.append(f"{exc.code}/{exc.status_code}")

    # Held, the winner's task cannot end before the loser arrives, however slow the machine.
    with emu.tasks_held():
        threads = [threading.Thread(target=run, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes) == ["ConcurrentTaskExceeded/403", "ok"]
        assert len(emu.state()["tasks"]) == 1


def test_held_tasks_wait_for_release(emu: EmulatorProcess, sdk_client: SdkClientFactory) -> None:
    client = sdk_client()
    emu.hold_tasks()
    assert emu.state()["tasks_held"] is True
    _reset(client)
    _reset(client, MYSQL2, "polar_super")
    # Far past task_seconds: still in flight while held.
    emu.wait_for(lambda: emu.state()["tasks"][0]["remaining_seconds"] == 0, what="deadline")
    assert {
        a.account_status
        for a in (_accounts(client)["dbadmin"], _accounts(client, MYSQL2)["polar_super"])
    } == {"Creating"}
    assert _error(lambda: _reset(client)).code == "ConcurrentTaskExceeded"
    assert emu.release_tasks() == 2
    state = emu.state()
    assert state["tasks"] == [] and state["tasks_held"] is False
    _reset(client)  # the quota is free again
    emu.reset()
    assert emu.state()["tasks_held"] is False


def test_out_of_band_changes_are_visible(
    emu: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    client = sdk_client()
    emu.patch_account(MYSQL, "app_rw", type="Super", lock_state="Lock")
    account = _accounts(client)["app_rw"]
    assert (account.account_type, account.account_lock_state) == ("Super", "Lock")
    emu.patch_account(MYSQL, "app_rw", password="Ch4nged!byhand")
    assert emu.verify_password(MYSQL, "app_rw", "Ch4nged!byhand")
    emu.delete_account(MYSQL, "app_rw")
    assert "app_rw" not in _accounts(client)
    emu.patch_cluster(MYSQL, status="Maintaining")
    assert _error(lambda: _reset(client)).code == "OperationDenied.DBClusterStatus"
    emu.add_cluster(
        id="pc-added00000001",
        region="cn-hangzhou",
        db_type="MySQL",
        accounts=[{"name": "root_x", "type": "Super", "password": "R00t!xxxx"}],
    )
    _reset(client, "pc-added00000001", "root_x")
    with pytest.raises(EmulatorError, match="404"):
        emu.delete_account(MYSQL, "ghost")
    emu.reset()
    assert set(_accounts(client)) == {"dbadmin", "app_rw"}


def test_describe_endpoints_placeholder_with_the_memory_backend(
    emu: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    client = sdk_client()
    body = client.describe_dbcluster_endpoints(
        m.DescribeDBClusterEndpointsRequest(dbcluster_id=MYSQL)
    ).body
    assert body.request_id
    assert [(i.endpoint_type, i.dbendpoint_id) for i in body.items] == [
        ("Cluster", "pe-mysql00000001rw"),
        ("Primary", "pe-mysql00000001pri"),
    ]
    address = body.items[0].address_items[0]
    assert (address.connection_string, address.ipaddress, address.port, address.net_type) == (
        "pc-mysql00000001.emulator.invalid",
        "192.0.2.1",
        "3306",
        "Private",
    )
    pg = client.describe_dbcluster_endpoints(
        m.DescribeDBClusterEndpointsRequest(dbcluster_id=PGSQL, dbendpoint_id="pe-pgsql00000001pri")
    ).body
    assert [(i.endpoint_type, i.address_items[0].port) for i in pg.items] == [("Primary", "5432")]
    err = _error(
        lambda: client.describe_dbcluster_endpoints(
            m.DescribeDBClusterEndpointsRequest(dbcluster_id="pc-missing000001")
        )
    )
    assert (err.code, err.status_code) == ("InvalidDBCluster.NotFound", 404)


def test_sql_login_needs_the_mariadb_backend(emu: EmulatorProcess) -> None:
    with pytest.raises(EmulatorError, match=r"400 .*start the emulator with --backend mariadb"):
        emu.sql_login(MYSQL)
    with pytest.raises(EmulatorError, match="404"):
        emu.sql_login("pc-nothere00001")


def test_async_sdk_path(emu: EmulatorProcess, sdk_client: SdkClientFactory) -> None:
    client = sdk_client()

    async def go() -> Any:
        return await client.reset_account_async(
            m.ResetAccountRequest(
                dbcluster_id=MYSQL2, account_name="polar_super", account_password=NEW_PASSWORD
            )
        )

    response = asyncio.run(go())
    assert response.body.request_id
    assert emu.verify_password(MYSQL2, "polar_super", NEW_PASSWORD)

    async def bad() -> Any:
        return await client.reset_account_async(
            m.ResetAccountRequest(dbcluster_id=PGSQL, account_name="pgadmin")
        )

    with pytest.raises(ClientException) as info:
        asyncio.run(bad())
    assert info.value.code == "OperationDenied.DBType"
