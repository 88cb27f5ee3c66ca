"""End to end: pipelines without long-lived keys, with the real CLI and the emulator playing STS.

Nothing but an OIDC token file and Alibaba's three variables (``ALIBABA_CLOUD_ROLE_ARN``,
``ALIBABA_CLOUD_OIDC_PROVIDER_ARN``, ``ALIBABA_CLOUD_OIDC_TOKEN_FILE``) reaches the dynamic
resource, the native plugin (a YAML program) and ``polardb-reset``; no AccessKey exists in
the stack config or the environment. The emulator's request log witnesses that every PolarDB
call was signed with the role's STS credentials, that a preview or a no-op up asks STS for
nothing, and that a session expiring in the middle of an update is renewed without failing the
reset. Refused tokens fail in one line naming why; the token is never written anywhere.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pymysql  # type: ignore[import-untyped]
import pytest
from emulator_harness import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    CI_ROLE,
    CI_SUBJECT,
    GITHUB_PROVIDER,
    EmulatorProcess,
    keyless_seed,
)
from native_harness import ACCOUNT, CLUSTER, MANAGED_PASSWORD, SEED_PASSWORD, install_plugin
from pulumi_harness import REPO, PulumiProject, pulumi_bin, run_cli

from polardb_emulator.testing import OidcIssuer

pytestmark = pytest.mark.e2e

ROLE = CI_ROLE
PROVIDER = GITHUB_PROVIDER
SUBJECT = CI_SUBJECT
ISSUER = OidcIssuer()
DRIFT_CLUSTER = "pc-keyless000001"
SECRET = f"polardb/{DRIFT_CLUSTER}/{ACCOUNT}"
FIRST_PASSWORD = "Kms!Managed-First1"
ROTATED_PASSWORD = "Kms!Managed-Rotated2"
MARIADB_SEED: dict[str, Any] = {
    # The seed's own key exists only so the emulator starts: nothing below uses it.
    "access_keys": [{"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET}],
    "settings": {
        "task_seconds": 0.3,
        "concurrent_tasks_per_cluster": 1,
        "kms_region": "cn-hangzhou",
    },
    "secrets": [{"name": SECRET, "value": FIRST_PASSWORD, "version_id": "v1"}],
    "clusters": [
        {
            "id": cluster,
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "accounts": [{"name": ACCOUNT, "type": "Super", "password": SEED_PASSWORD}],
        }
        for cluster in (CLUSTER, DRIFT_CLUSTER)
    ],
    **keyless_seed(ISSUER, json.loads((REPO / "docs" / "ram-policy-kms.json").read_text())),
}
# The shipped least-privilege policy (PolarDB and KMS) names the demo's clusters and secrets:
# the role gets it for ours.
for _statement in MARIADB_SEED["roles"][0]["policy"]["Statement"]:
    if any("dbcluster/" in r for r in _statement["Resource"]):
        _statement["Resource"] = [
            f"acs:polardb:*:*:dbcluster/{c}" for c in (CLUSTER, DRIFT_CLUSTER)
        ]
    else:
        _statement["Resource"] = [f"acs:kms:*:*:secret/{SECRET}"]


@pytest.fixture(scope="module")
def bin_dir() -> str:
    return pulumi_bin()


def keyless(proj: PulumiProject, tmp_path: Path, token: str) -> Path:
    """The pipeline's environment: the token in a file and Alibaba's three variables."""
    path = tmp_path / "oidc-token"
    path.write_text(token)
    proj.env.update(
        {
            "ALIBABA_CLOUD_ROLE_ARN": ROLE,
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER,
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(path),
        }
    )
    return path


def signers(emu: EmulatorProcess) -> set[str]:
    """Who signed the PolarDB calls of the request log (STS sessions are ``STS.*``)."""
    return {
        "STS" if str(r["access_key_id"]).startswith("STS.") else str(r["access_key_id"])
        for r in emu.requests()
        if r["action"] != "AssumeRoleWithOIDC"
    }


def sql_login_works(emu: EmulatorProcess, password: str) -> bool:
    """Whether the managed account logs in to the drift cluster with ``password``."""
    login = emu.sql_login(DRIFT_CLUSTER)
    try:
        pymysql.connect(
            host=login["host"], port=login["port"], user=ACCOUNT, password=password
        ).close()
    except pymysql.err.OperationalError:
        return False
    return True


def assert_token_unwritten(proj: PulumiProject, emu: EmulatorProcess, token: str) -> None:
    for where, text in {**proj.written(), "emulator stderr": emu.stderr_text()}.items():
        if where.endswith("oidc-token"):
            continue
        assert token not in text, f"the OIDC token was written to {where}"
    assert token not in json.dumps(emu.requests())


@pytest.fixture
def yaml_project(tmp_path: Path, bin_dir: str, maria: EmulatorProcess) -> PulumiProject:
    """examples/native-yaml, configured with endpoints only: no AccessKey anywhere."""
    proj = PulumiProject(REPO / "examples" / "native-yaml", tmp_path, bin_dir=bin_dir)
    install_plugin(proj)
    proj.write_config(
        {
            "polardb-account:region": "cn-hangzhou",
            "polardb-account:endpoint": maria.base_url,
            "polardb-account:stsEndpoint": maria.base_url,
            "clusterId": CLUSTER,
            "accountName": ACCOUNT,
        }
    )
    proj.set_secret("accountPassword", MANAGED_PASSWORD)
    return proj


def test_yaml_program_with_only_an_oidc_token(
    maria: EmulatorProcess, yaml_project: PulumiProject, tmp_path: Path
) -> None:
    proj = yaml_project
    token = ISSUER.token(sub=SUBJECT, expires_in=3600)
    keyless(proj, tmp_path, token)
    assert proj.preview() == {"create": 2}
    assert maria.requests() == []  # a preview asks neither STS nor PolarDB
    assert proj.up() == {"create": 2}
    assert len(maria.resets()) == 1
    assert signers(maria) == {"STS"}
    assert len(maria.requests("AssumeRoleWithOIDC")) == 1  # one session for the whole run
    maria.clear_requests()
    assert proj.up() == {"same": 2}
    assert maria.requests() == []  # a no-op up: no STS call either
    assert_token_unwritten(proj, maria, token)


def test_a_session_expiring_in_the_middle_of_an_update_is_renewed(
    maria: EmulatorProcess, yaml_project: PulumiProject, tmp_path: Path
) -> None:
    proj = yaml_project
    keyless(proj, tmp_path, ISSUER.token(sub=SUBJECT, expires_in=3600))
    proj.up()
    maria.clear_requests()
    proj.set_config("resetNonce", "2")
    update: subprocess.Popen[str] | None = None
    try:
        with maria.tasks_held():
            update = subprocess.Popen(
                ["pulumi", "up", "--yes", "--skip-preview", "--non-interactive"],
                cwd=proj.dir,
                env=proj.environ(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            # The reset is accepted and its task held: the provider now polls for its end.
            maria.wait_for(lambda: bool(maria.resets()), timeout=300, what="the ResetAccount call")
            assert maria.expire_sts_sessions() >= 1  # this run's (and the first up's)
    finally:
        # Tasks released: the update ends by itself and stops its plugin, pass or fail.
        output = update.communicate(timeout=600)[0] if update is not None else ""
    assert update is not None
    assert update.returncode == 0, output
    assert len(maria.resets()) == 1
    assert len(maria.requests("AssumeRoleWithOIDC")) >= 2
    refused = [r for r in maria.requests() if r.get("code") == "InvalidSecurityToken.Expired"]
    assert refused, "the session never expired under the update"
    assert signers(maria) == {"STS"}


@pytest.mark.parametrize(
    ("make_token", "why"),
    [
        (
            lambda: ISSUER.token(sub=SUBJECT, expires_in=-300),
            "AuthenticationFail.OIDCToken.Expired",
        ),
        (lambda: ISSUER.token(sub=SUBJECT, aud="another-audience"), "AudienceNotMatch"),
        (lambda: OidcIssuer().token(sub=SUBJECT), "InvalidSignature"),
    ],
    ids=["expired", "audience", "other-key"],
)
def test_a_refused_token_fails_the_update_in_one_line(
    maria: EmulatorProcess,
    yaml_project: PulumiProject,
    tmp_path: Path,
    make_token: Any,
    why: str,
) -> None:
    proj = yaml_project
    token = make_token()
    keyless(proj, tmp_path, token)
    output = proj.fail("up")
    lines = [line for line in output.splitlines() if why in line]
    assert lines, output
    assert f"STS refused AssumeRoleWithOIDC for {ROLE}" in lines[0]
    assert "Traceback" not in output
    assert maria.resets() == []
    assert {r["action"] for r in maria.requests()} == {"AssumeRoleWithOIDC"}
    assert_token_unwritten(proj, maria, token)


def test_the_pipeline_with_only_an_oidc_token_and_a_kms_secret(
    maria: EmulatorProcess, bin_dir: str, tmp_path: Path
) -> None:
    """The drift-remediation example as its workflow runs it: OIDC instead of an AccessKey,
    the password in KMS; a rotation is drift that detect reports and remediate applies."""
    proj = PulumiProject(REPO / "examples" / "drift-remediation", tmp_path, bin_dir=bin_dir)
    target = {
        "name": "orders",
        "dbClusterId": DRIFT_CLUSTER,
        "accountName": ACCOUNT,
        "accountPasswordSecret": SECRET,
    }
    proj.write_config(
        {
            "alicloud:region": "cn-hangzhou",
            # pulumi-alicloud's endpoints list: PolarDB, STS and KMS all on the emulator.
            "alicloud:endpoints": json.dumps(
                [{"polardb": maria.base_url, "sts": maria.base_url, "kms": maria.base_url}]
            ),
            "polardb-drift:targets": [target],
        }
    )
    token = ISSUER.token(sub=SUBJECT, expires_in=3600)
    keyless(proj, tmp_path, token)

    proj.up()
    assert len(maria.resets()) == 1
    assert signers(maria) == {"STS"}
    assert sql_login_works(maria, FIRST_PASSWORD)
    maria.clear_requests()

    healthy = run_cli(proj, "detect", "--stack", proj.stack_name, "--json")
    assert healthy.returncode == 0, proj.log[-1]
    assert [t["verdict"] for t in json.loads(healthy.stdout)["targets"]] == ["ok"]
    assert maria.writes() == []

    maria.rotate_secret(SECRET, ROTATED_PASSWORD)
    drift = run_cli(proj, "detect", "--stack", proj.stack_name, "--json")
    assert drift.returncode not in (0, 1, 2), drift.stdout + drift.stderr  # the drift status
    (found,) = json.loads(drift.stdout)["targets"]
    assert "rotated" in json.dumps(found), found
    assert maria.writes() == []

    fixed = run_cli(proj, "remediate", "--stack", proj.stack_name, "--only-drifted")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert len(maria.resets()) == 1
    assert sql_login_works(maria, ROTATED_PASSWORD)
    assert signers(maria) == {"STS"}
    again = run_cli(proj, "detect", "--stack", proj.stack_name, "--json")
    assert again.returncode == 0, again.stdout + again.stderr

    for where, text in {**proj.written(), "emulator stderr": maria.stderr_text()}.items():
        for value in (FIRST_PASSWORD, ROTATED_PASSWORD):
            assert value not in text, f"a KMS secret value was written to {where}"
    assert_token_unwritten(proj, maria, token)
