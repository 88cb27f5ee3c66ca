"""Where short-lived credentials come from: a role on top of an AccessKey, or an OIDC token.

The resolver is pure (config and environment passed in); these tests pin the order a user
reads in docs/credentials.md and the one-line errors of an incomplete setup.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from pulumi_polardb_reset.cloud import _settings
from pulumi_polardb_reset.core._errors import ConfigurationError

REGION = {"alicloud:region": "cn-hangzhou"}
ROLE = "acs:ram::1234567890123456:role/polardb-reset-ci"
PROVIDER = "acs:ram::1234567890123456:oidc-provider/github"
OIDC_ENV = {
    "ALIBABA_CLOUD_ROLE_ARN": ROLE,
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER,
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "/run/token",
}


def resolve(config: Mapping[str, object], env: dict[str, str]) -> _settings.ConnectionSettings:
    return _settings.resolve({}, {**REGION, **config}, env)


def test_the_oidc_environment_alone_gives_an_oidc_role() -> None:
    creds = resolve({}, OIDC_ENV).credentials
    assert isinstance(creds, _settings.RoleCredentials)
    assert (creds.role_arn, creds.oidc_provider_arn, creds.oidc_token_file) == (
        ROLE,
        PROVIDER,
        "/run/token",
    )
    assert creds.base is None
    assert creds.sts == _settings.StsEndpoint("sts.aliyuncs.com", "https")
    assert creds.duration_seconds == 3600


def test_an_access_key_with_a_role_arn_assumes_the_role() -> None:
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIexample",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s3cret-value",
        "ALIBABA_CLOUD_ROLE_ARN": ROLE,
    }
    settings = resolve({}, env)
    creds = settings.credentials
    assert isinstance(creds, _settings.RoleCredentials)
    assert creds.base is not None and creds.base.access_key_id == "LTAIexample"
    assert creds.oidc_token_file is None
    # The base secret is still scrubbed from messages; repr never shows it.
    assert "s3cret-value" in settings.secrets
    assert "s3cret-value" not in repr(settings)


def test_pulumi_alicloud_assume_role_config_is_read() -> None:
    config = {
        "alicloud:accessKey": "LTAIexample",
        "alicloud:secretKey": "s3cret-value",
        "alicloud:assumeRole": json.dumps(
            {"roleArn": ROLE, "sessionName": "deploy", "sessionExpiration": 1800}
        ),
    }
    creds = resolve(config, {}).credentials
    assert isinstance(creds, _settings.RoleCredentials)
    assert (creds.session_name, creds.duration_seconds) == ("deploy", 1800)


def test_an_access_key_without_a_role_stays_static() -> None:
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIexample", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "x"}
    assert isinstance(resolve({}, env).credentials, _settings.StaticCredentials)


@pytest.mark.parametrize(
    ("config", "env", "expected"),
    [
        ({"polardbReset:stsEndpoint": "http://127.0.0.1:9000"}, {}, ("127.0.0.1:9000", "http")),
        (
            {},
            {"ALIBABA_CLOUD_ENDPOINT_STS": "sts-vpc.cn-hangzhou.aliyuncs.com"},
            ("sts-vpc.cn-hangzhou.aliyuncs.com", "https"),
        ),
        (
            {"alicloud:endpoints": json.dumps([{"sts": "https://sts.example.test/"}])},
            {},
            ("sts.example.test", "https"),
        ),
        (
            {},
            {"ALIBABA_CLOUD_STS_REGION": "cn-shanghai"},
            ("sts.cn-shanghai.aliyuncs.com", "https"),
        ),
    ],
)
def test_the_sts_endpoint_comes_from_configuration(
    config: dict[str, object], env: dict[str, str], expected: tuple[str, str]
) -> None:
    creds = resolve(config, {**OIDC_ENV, **env}).credentials
    assert isinstance(creds, _settings.RoleCredentials)
    assert (creds.sts.host, creds.sts.protocol) == expected


def test_plain_http_sts_on_another_machine_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"polardbReset:stsEndpoint"):
        resolve({"polardbReset:stsEndpoint": "http://sts.example.test"}, OIDC_ENV)


@pytest.mark.parametrize(
    ("missing", "needle"),
    [
        ("ALIBABA_CLOUD_ROLE_ARN", "the role ARN (ALIBABA_CLOUD_ROLE_ARN)"),
        ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "the OIDC token file (ALIBABA_CLOUD_OIDC_TOKEN_FILE)"),
        ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "the OIDC provider ARN"),
    ],
)
def test_incomplete_oidc_setup_names_what_is_missing(missing: str, needle: str) -> None:
    env = {k: v for k, v in OIDC_ENV.items() if k != missing}
    with pytest.raises(ConfigurationError) as caught:
        resolve({}, env)
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_session_shorter_than_sts_allows_is_refused() -> None:
    config = {
        "alicloud:assumeRoleWithOidc": {
            "roleArn": ROLE,
            "oidcProviderArn": PROVIDER,
            "oidcTokenFile": "/run/token",
            "sessionExpiration": 60,
        }
    }
    with pytest.raises(ConfigurationError, match="at least 900"):
        resolve(config, {})
