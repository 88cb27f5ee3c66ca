"""RAM policies in the emulator (issue 12, item 1): parsing, matching, and the real SDK
getting ``403 Forbidden.RAM`` for what a key's policy does not allow.

Units: the wildcard matcher (against a regular-expression reference, with hypothesis),
policy validation, Deny-wins evaluation, resource ARNs, the seed. Contract: real SDK
calls (V3 and V1) with keys holding policies, the admin API that swaps them, and
``POST /reset`` giving the seed's back.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_polardb20170801 import models
from alibabacloud_tea_openapi.exceptions import ClientException
from emulator_harness import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    DEFAULT_SEED,
    EmulatorError,
    EmulatorProcess,
    SdkClientFactory,
)
from hypothesis import given
from hypothesis import strategies as st

from polardb_emulator._ram import (
    DEFAULT_ACCOUNT_ID,
    MAX_DOCUMENT_CHARS,
    PolicyError,
    matches,
    parse_policy,
)
from polardb_emulator._seed import SeedError, parse_seed
from polardb_emulator.polardb.responses import resource_arn

MYSQL, MYSQL2 = "pc-mysql00000001", "pc-mysql00000002"
ACCOUNT = "1234567890123456"
READER_ID, READER_SECRET = "LTAI5tRamReader0001", "ram-reader-secret"
DENIED_ID, DENIED_SECRET = "LTAI5tRamDenied0001", "ram-denied-secret"


def arn(cluster: str, region: str = "cn-hangzhou", account: str = ACCOUNT) -> str:
    return f"acs:polardb:{region}:{account}:dbcluster/{cluster}"


#: Describe* on the first cluster, ResetAccount nowhere.
READER_POLICY: dict[str, Any] = {
    "Version": "1",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "polardb:Describe*",
            "Resource": f"acs:polardb:*:*:dbcluster/{MYSQL}",
        }
    ],
}
#: Everything, except ResetAccount anywhere (Deny wins over the Allow).
DENIED_POLICY: dict[str, Any] = {
    "Version": "1",
    "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "polardb:ResetAccount", "Resource": "acs:polardb:*:*:*"},
    ],
}


# --- the wildcard matcher --------------------------------------------------------------


def reference_match(pattern: str, text: str) -> bool:
    """The same semantics as a regular expression (fine for the short inputs used here)."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, text, re.DOTALL) is not None


@given(
    st.text(alphabet="ab*:/", max_size=12),
    st.text(alphabet="ab:/", max_size=12),
)
def test_matcher_agrees_with_a_regex_reference(pattern: str, text: str) -> None:
    assert matches(pattern, text) == reference_match(pattern, text)


def test_matcher_examples_and_case() -> None:
    assert matches("polardb:Describe*", "polardb:DescribeAccounts")
    assert not matches("polardb:Describe*", "polardb:ResetAccount")
    assert matches("*", "")
    assert matches("acs:polardb:*:*:dbcluster/pc-*", arn(MYSQL))
    assert matches("acs:*", arn(MYSQL))  # '*' crosses ':' and '/'
    assert not matches("acs:polardb:*:*:dbcluster/pc-mysql00000001", arn(MYSQL2))
    assert matches("POLARDB:resetaccount", "polardb:ResetAccount", ignore_case=True)
    assert not matches("acs:polardb:*:*:dbcluster/PC-MYSQL00000001", arn(MYSQL))


def test_matcher_stays_fast_on_patterns_full_of_stars() -> None:
    # A regular expression of this shape backtracks exponentially; the matcher does not.
    pattern = "a*" * 3000 + "b"
    assert not matches(pattern, "a" * 3000)


# --- policy documents -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ([], ""),
        ({"Statement": []}, "Version"),
        ({"Version": 1, "Statement": [{}]}, "Version"),
        ({"Version": "1"}, "Statement"),
        ({"Version": "1", "Statement": []}, "Statement"),
        ({"Version": "1", "Statement": [], "Id": "x"}, "Id"),
        ({"Version": "1", "Statement": ["x"]}, "Statement[0]"),
        ({"Version": "1", "Statement": [{"Effect": "Maybe"}]}, "Statement[0].Effect"),
        (
            {"Version": "1", "Statement": [{"Effect": "Allow", "Resource": "*"}]},
            "Statement[0].Action",
        ),
        (
            {
                "Version": "1",
                "Statement": [
                    {"Effect": "Allow", "Action": "*", "NotAction": "*", "Resource": "*"}
                ],
            },
            "Statement[0].Action",
        ),
        (
            {"Version": "1", "Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]},
            "Statement[0].Action",
        ),
        (
            {
                "Version": "1",
                "Statement": [{"Effect": "Allow", "Action": "ResetAccount", "Resource": "*"}],
            },
            "Statement[0].Action[0]",
        ),
        (
            {
                "Version": "1",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": ["*", 3]}],
            },
            "Statement[0].Resource[1]",
        ),
        (
            {
                "Version": "1",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "dbcluster/pc-a"}],
            },
            "Statement[0].Resource[0]",
        ),
        (
            {
                "Version": "1",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "*",
                        "Resource": "*",
                        "Condition": {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
                    }
                ],
            },
            "Statement[0].Condition",
        ),
        (
            {
                "Version": "1",
                "Statement": [{"Effect": "Allow", "Action": "polardb:" + "x" * MAX_DOCUMENT_CHARS}],
            },
            "",
        ),
    ],
)
def test_policy_errors_name_the_element(document: Any, path: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(document)
    assert caught.value.path == path, caught.value


def test_deny_wins_then_allow_then_implicit_deny() -> None:
    policy = parse_policy(DENIED_POLICY)
    assert policy.decide("polardb:DescribeAccounts", arn(MYSQL)) == "Allow"
    assert policy.decide("polardb:ResetAccount", arn(MYSQL)) == "ExplicitDeny"
    reader = parse_policy(READER_POLICY)
    assert reader.decide("polardb:DescribeAccounts", arn(MYSQL)) == "Allow"
    assert reader.decide("polardb:DescribeAccounts", arn(MYSQL2)) == "ImplicitDeny"
    assert reader.decide("polardb:ResetAccount", arn(MYSQL)) == "ImplicitDeny"


def test_not_action_and_not_resource() -> None:
    policy = parse_policy(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "NotAction": ["polardb:Delete*", "polardb:Create*"],
                    "NotResource": f"acs:polardb:*:*:dbcluster/{MYSQL2}",
                }
            ],
        }
    )
    assert policy.decide("polardb:ResetAccount", arn(MYSQL)) == "Allow"
    assert policy.decide("polardb:DeleteAccount", arn(MYSQL)) == "ImplicitDeny"
    assert policy.decide("polardb:ResetAccount", arn(MYSQL2)) == "ImplicitDeny"


def test_resource_arns() -> None:
    def region_of(cluster: str) -> str:
        return {MYSQL: "cn-beijing"}.get(cluster, "")

    def resource(action: str, **params: str) -> str:
        return resource_arn(action, params, account_id=ACCOUNT, region_of=region_of)

    assert resource("ResetAccount", DBClusterId=MYSQL) == arn(MYSQL, "cn-beijing")
    # Unknown cluster: the request's RegionId, else an empty region (only '*' matches it).
    assert resource("DescribeAccounts", DBClusterId="pc-gone", RegionId="cn-hangzhou") == arn(
        "pc-gone"
    )
    assert resource("DescribeAccounts", DBClusterId="pc-gone") == arn("pc-gone", "")
    assert resource("DescribeDBClusters", RegionId="cn-hangzhou") == arn("*")


def test_seed_keys_carry_policies_and_settings_the_account_id() -> None:
    seed = parse_seed(
        {
            "access_keys": [
                {"id": "a", "secret": "s", "policy": READER_POLICY},
                {"id": "b", "secret": "s"},
            ],
            "settings": {"account_id": 5550001112223334},
        }
    )
    assert seed.access_keys[0].policy is not None and seed.access_keys[1].policy is None
    assert seed.settings.account_id == "5550001112223334"
    assert parse_seed({"access_keys": [{"id": "a", "secret": "s"}]}).settings.account_id == (
        DEFAULT_ACCOUNT_ID
    )
    bad = copy.deepcopy(READER_POLICY)
    bad["Statement"][0]["Effect"] = "allow"
    with pytest.raises(SeedError, match=r"^access_keys\[0\]\.policy\.Statement\[0\]\.Effect: "):
        parse_seed({"access_keys": [{"id": "a", "secret": "s", "policy": bad}]})
    with pytest.raises(SeedError, match=r"^settings\.account_id: "):
        parse_seed({"access_keys": [{"id": "a", "secret": "s"}], "settings": {"account_id": "x"}})


# --- over real HTTP with the real SDK -------------------------------------------------------

RAM_SEED: dict[str, Any] = {
    **copy.deepcopy(DEFAULT_SEED),
    "access_keys": [
        *copy.deepcopy(DEFAULT_SEED["access_keys"]),
        {"id": READER_ID, "secret": READER_SECRET, "policy": READER_POLICY},
        {"id": DENIED_ID, "secret": DENIED_SECRET, "policy": DENIED_POLICY},
    ],
    "settings": {"task_seconds": 0.2, "concurrent_tasks_per_cluster": 1, "account_id": ACCOUNT},
}


@pytest.fixture(scope="module")
def ram_emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(RAM_SEED) as process:
        yield process


@pytest.fixture
def ram(ram_emulator: EmulatorProcess) -> EmulatorProcess:
    ram_emulator.reset()
    return ram_emulator


def client_for(sdk_client: SdkClientFactory, emu: EmulatorProcess, key: str, **config: Any) -> Any:
    secret = {READER_ID: READER_SECRET, DENIED_ID: DENIED_SECRET, ACCESS_KEY_ID: ACCESS_KEY_SECRET}
    return sdk_client(access_key_id=key, access_key_secret=secret[key], target=emu, **config)


def reset(client: Any, cluster: str = MYSQL) -> Any:
    return client.reset_account(
        models.ResetAccountRequest(dbcluster_id=cluster, account_name="dbadmin")
    )


def describe(client: Any, cluster: str = MYSQL) -> Any:
    return client.describe_accounts(models.DescribeAccountsRequest(dbcluster_id=cluster))


def forbidden(call: Any) -> ClientException:
    with pytest.raises(ClientException) as caught:
        call()
    error = caught.value
    assert error.code == "Forbidden.RAM" and error.status_code == 403, error
    return error


@pytest.mark.parametrize("signature", [None, "v2"])
def test_a_policy_allows_what_it_says_and_refuses_the_rest_as_ram_does(
    ram: EmulatorProcess, sdk_client: SdkClientFactory, signature: str | None
) -> None:
    reader = client_for(sdk_client, ram, READER_ID, signature_algorithm=signature)
    assert [a.account_name for a in describe(reader).body.accounts] == ["dbadmin", "app_rw"]

    error = forbidden(lambda: reset(reader))
    resource = arn(MYSQL)
    assert error.message.startswith(
        "code: 403, You are not authorized to do this action. "
        f"Resource: {resource} Action: polardb:ResetAccount"
    ), error.message
    assert error.access_denied_detail == {
        "AuthAction": "polardb:ResetAccount",
        "AuthResource": resource,
        "NoPermissionType": "ImplicitDeny",
        "PolicyType": "AccountLevelIdentityBasedPolicy",
        "AuthPrincipalType": "SubUser",
        "AuthPrincipalOwnerId": ACCOUNT,
        "AuthPrincipalDisplayName": READER_ID,
    }
    # Another cluster is out of the policy's resources, even for Describe*.
    error = forbidden(lambda: describe(reader, MYSQL2))
    assert f"Resource: {arn(MYSQL2)} Action: polardb:DescribeAccounts" in error.message
    # Refused: no task, no change, a 403 in the log with the full (verified) parameters.
    assert ram.account(MYSQL, "dbadmin") is not None
    assert ram.state()["tasks"] == []
    (logged,) = ram.requests("ResetAccount")
    assert logged["status"] == 403 and logged["code"] == "Forbidden.RAM"
    assert logged["access_key_id"] == READER_ID and "params_truncated" not in logged


def test_deny_wins_over_allow_star(ram: EmulatorProcess, sdk_client: SdkClientFactory) -> None:
    denied = client_for(sdk_client, ram, DENIED_ID)
    assert describe(denied, MYSQL2).body.accounts
    error = forbidden(lambda: reset(denied, MYSQL2))
    assert error.access_denied_detail["NoPermissionType"] == "ExplicitDeny"


def test_ram_answers_before_the_service_and_its_faults(
    ram: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    reader = client_for(sdk_client, ram, READER_ID)
    # An unknown cluster is refused by RAM before the service could say it does not exist.
    error = forbidden(lambda: describe(reader, "pc-nothere00001"))
    assert "dbcluster/pc-nothere00001 Action: polardb:DescribeAccounts" in error.message
    ram.add_fault(action="ResetAccount", code="ConcurrentTaskExceeded")
    forbidden(lambda: reset(reader))
    assert len(ram.faults()) == 1  # the fault is still waiting for an allowed call


def test_keys_without_a_policy_have_full_access(
    ram: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    owner = client_for(sdk_client, ram, ACCESS_KEY_ID)
    assert reset(owner).body.request_id
    assert {k["id"]: k["policy"] for k in ram.access_keys()}[ACCESS_KEY_ID] is None


def test_admin_api_swaps_policies_until_reset(
    ram: EmulatorProcess, sdk_client: SdkClientFactory
) -> None:
    reader = client_for(sdk_client, ram, READER_ID)
    forbidden(lambda: reset(reader))

    widened = copy.deepcopy(READER_POLICY)
    widened["Statement"][0]["Action"] = ["polardb:Describe*", "polardb:ResetAccount"]
    ram.set_policy(READER_ID, widened)
    assert reset(reader).body.request_id
    keys = {k["id"]: k for k in ram.access_keys()}
    assert keys[READER_ID]["policy"] == widened and keys[READER_ID]["sts"] is False
    assert "secret" not in str(keys)

    ram.clear_policy(READER_ID)
    assert describe(reader, MYSQL2).body.accounts

    ram.reset()
    forbidden(lambda: reset(reader))  # the seed's policy is back
    assert {k["id"]: k["policy"] for k in ram.access_keys()}[READER_ID] == READER_POLICY


def test_admin_api_refuses_bad_policies_and_unknown_keys(ram: EmulatorProcess) -> None:
    bad = copy.deepcopy(READER_POLICY)
    bad["Statement"][0]["Resource"] = "dbcluster/pc-mysql00000001"
    with pytest.raises(EmulatorError, match=r"400 .*Statement\[0\]\.Resource\[0\]"):
        ram.set_policy(READER_ID, bad)
    with pytest.raises(EmulatorError, match=r"404 .*InvalidAccessKeyId.NotFound"):
        ram.set_policy("LTAI5tNoSuchKey0001", READER_POLICY)
    with pytest.raises(EmulatorError, match="404"):
        ram.clear_policy("LTAI5tNoSuchKey0001")
    # The policy in force did not change.
    assert {k["id"]: k["policy"] for k in ram.access_keys()}[READER_ID] == READER_POLICY
