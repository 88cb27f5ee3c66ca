"""Short-lived credentials end to end in one process: the provider's settings resolver and STS
credentials provider, the real STS and PolarDB SDKs over HTTP, the emulator playing STS.

What a keyless pipeline relies on: an OIDC token file and three environment variables are
enough; the issued credentials are what RAM checks (the role's policy, not the caller's);
expired sessions are renewed in the middle of a run; a bad token is refused in one line
naming why; neither the token nor the issued secret reaches the emulator's output or the
request log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from emulator_harness import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    ACCOUNT_ID,
    CI_ROLE,
    CI_SUBJECT,
    DEFAULT_SEED,
    GITHUB_PROVIDER,
    keyless_seed,
)

from polardb_emulator.testing import EmulatorProcess, OidcIssuer
from pulumi_polardb_reset.cloud import _settings
from pulumi_polardb_reset.cloud._client import PolarDBClient
from pulumi_polardb_reset.core._errors import ApiError, ConfigurationError

ACCOUNT = ACCOUNT_ID
CLUSTER = "pc-mysql00000001"
ROLE = CI_ROLE
PROVIDER = GITHUB_PROVIDER
SUBJECT = CI_SUBJECT
ASSUMER_ID, ASSUMER_SECRET = "LTAI5tRoleAssumer01", "role-assumer-secret"
ISSUER = OidcIssuer()
READ_ONLY = {
    "Version": "1",
    "Statement": [{"Effect": "Allow", "Action": "polardb:Describe*", "Resource": "*"}],
}
SEED: dict[str, Any] = {
    **DEFAULT_SEED,
    "access_keys": [
        *DEFAULT_SEED["access_keys"],
        {
            "id": ASSUMER_ID,
            "secret": ASSUMER_SECRET,
            "policy": {
                "Version": "1",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE}],
            },
        },
    ],
    **keyless_seed(ISSUER, READ_ONLY, trust_account=True),
}


def token_file(tmp_path: Path, token: str) -> Path:
    path = tmp_path / "oidc-token"
    path.write_text(token)
    return path


def oidc_client(seeded: EmulatorProcess, token_path: Path) -> PolarDBClient:
    """A client configured as a keyless pipeline is: nothing but the OIDC variables (and the
    emulator's endpoints, where Alibaba's chain would go to the internet)."""
    env = {
        "ALIBABA_CLOUD_REGION": "cn-hangzhou",
        "ALIBABA_CLOUD_ROLE_ARN": ROLE,
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER,
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token_path),
        "ALIBABA_CLOUD_ENDPOINT_POLARDB": f"{seeded.protocol}://{seeded.endpoint}",
        "ALIBABA_CLOUD_ENDPOINT_STS": f"{seeded.protocol}://{seeded.endpoint}",
    }
    return PolarDBClient(_settings.resolve({}, {}, env))


def test_an_oidc_token_alone_reads_the_cluster_with_the_roles_credentials(
    seeded: EmulatorProcess, tmp_path: Path
) -> None:
    token = ISSUER.token(sub=SUBJECT)
    client = oidc_client(seeded, token_file(tmp_path, token))
    accounts = client.describe_accounts(CLUSTER)
    assert {a.name for a in accounts} == {"dbadmin", "app_rw"}
    (assumed,) = seeded.requests("AssumeRoleWithOIDC")
    assert assumed["status"] == 200
    assert assumed["params"]["OIDCToken"] == "***REDACTED***"
    (described,) = seeded.requests("DescribeAccounts")
    assert described["access_key_id"].startswith("STS.")
    output = seeded.stderr_text() + str(seeded.requests())
    assert token not in output


def test_the_role_policy_is_what_ram_enforces(seeded: EmulatorProcess, tmp_path: Path) -> None:
    client = oidc_client(seeded, token_file(tmp_path, ISSUER.token(sub=SUBJECT)))
    with pytest.raises(ApiError) as caught:
        client.reset_account(CLUSTER, "dbadmin", None)
    assert caught.value.failure.code == "Forbidden.RAM"
    assert "polardb:ResetAccount" in caught.value.failure.message


def test_expired_sessions_are_renewed_in_the_middle_of_a_run(
    seeded: EmulatorProcess, tmp_path: Path
) -> None:
    client = oidc_client(seeded, token_file(tmp_path, ISSUER.token(sub=SUBJECT)))
    client.describe_cluster(CLUSTER)
    assert seeded.expire_sts_sessions() == 1
    assert client.describe_cluster(CLUSTER).cluster_id == CLUSTER
    statuses = [(r["action"], r["status"], r.get("code")) for r in seeded.requests()]
    assert statuses == [
        ("AssumeRoleWithOIDC", 200, None),
        ("DescribeDBClusterAttribute", 200, None),
        ("DescribeDBClusterAttribute", 400, "InvalidSecurityToken.Expired"),
        ("AssumeRoleWithOIDC", 200, None),
        ("DescribeDBClusterAttribute", 200, None),
    ]


OTHER_ISSUER = OidcIssuer()


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (ISSUER.token(sub=SUBJECT, expires_in=-120), "AuthenticationFail.OIDCToken.Expired"),
        (ISSUER.token(sub=SUBJECT, aud="someone-else"), "AudienceNotMatch"),
        (OTHER_ISSUER.token(sub=SUBJECT), "InvalidSignature"),
        (ISSUER.token(sub=SUBJECT, issuer="https://evil.example"), "IssuerNotMatch"),
        (ISSUER.token(sub="repo:acme/other:ref:refs/heads/main"), "does not admit this token"),
    ],
    ids=["expired", "audience", "other-key", "issuer", "subject"],
)
def test_a_bad_token_is_refused_in_one_line_naming_why(
    seeded: EmulatorProcess, tmp_path: Path, token: str, why: str
) -> None:
    client = oidc_client(seeded, token_file(tmp_path, token))
    with pytest.raises(ConfigurationError) as caught:
        client.describe_cluster(CLUSTER)
    message = str(caught.value)
    assert why in message
    assert f"STS refused AssumeRoleWithOIDC for {ROLE}" in message
    assert "\n" not in message
    assert token not in message
    assert [r["action"] for r in seeded.requests()] == ["AssumeRoleWithOIDC"]


def test_an_access_key_assumes_a_role_on_top(seeded: EmulatorProcess) -> None:
    env = {
        "ALIBABA_CLOUD_REGION": "cn-hangzhou",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": ASSUMER_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ASSUMER_SECRET,
        "ALIBABA_CLOUD_ROLE_ARN": ROLE,
        "ALIBABA_CLOUD_ENDPOINT_POLARDB": f"{seeded.protocol}://{seeded.endpoint}",
        "ALIBABA_CLOUD_ENDPOINT_STS": f"{seeded.protocol}://{seeded.endpoint}",
    }
    client = PolarDBClient(_settings.resolve({}, {}, env))
    # The assumer's own key may do nothing but assume the role; the role may describe.
    assert client.describe_cluster(CLUSTER).cluster_id == CLUSTER
    (assumed,) = seeded.requests("AssumeRole")
    assert (assumed["access_key_id"], assumed["status"]) == (ASSUMER_ID, 200)
    (described,) = seeded.requests("DescribeDBClusterAttribute")
    assert described["access_key_id"].startswith("STS.")


def test_a_caller_without_sts_permission_is_refused(seeded: EmulatorProcess) -> None:
    env = {
        "ALIBABA_CLOUD_REGION": "cn-hangzhou",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "ALIBABA_CLOUD_ROLE_ARN": f"acs:ram::{ACCOUNT}:role/no-such-role",
        "ALIBABA_CLOUD_ENDPOINT_POLARDB": f"{seeded.protocol}://{seeded.endpoint}",
        "ALIBABA_CLOUD_ENDPOINT_STS": f"{seeded.protocol}://{seeded.endpoint}",
    }
    client = PolarDBClient(_settings.resolve({}, {}, env))
    with pytest.raises(ConfigurationError, match=r"EntityNotExist\.Role"):
        client.describe_cluster(CLUSTER)
