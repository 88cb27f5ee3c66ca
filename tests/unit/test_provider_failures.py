"""Failure classification without a server: transport failures retry, bugs surface as bugs.

The SDK is real; its HTTP layer is either pointed at a closed port or patched to fail.
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import pytest
import requests
from conftest import FakeClock
from darabonba.core import DaraCore
from darabonba.exceptions import RetryError, UnretryableException
from darabonba.policy.retry import RetryPolicyContext
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_polardb_reset.cloud._client import AccountInfo, ClusterInfo, PolarDBClient
from pulumi_polardb_reset.cloud._operations import Resetter, Target
from pulumi_polardb_reset.cloud._retry import Deadline
from pulumi_polardb_reset.cloud._settings import ConnectionSettings, StaticCredentials
from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.core._errors import ApiError, ApiFailure, ErrorCode, ResetError
from pulumi_polardb_reset.dynamic import _provider as provider
from pulumi_polardb_reset.lifecycle import _crud

PASSWORD = "S3cret!pass"
SECRET = "the-access-key-secret"
URL = "HTTPConnectionPool(host='h', port=1): Max retries exceeded with url: /?AccountPassword=S3cret%21pass"


@pytest.fixture(autouse=True)
def _no_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")


def client(endpoint: str = "127.0.0.1:1") -> PolarDBClient:
    """A real client (real SDK) for a closed port, scrubbing ``PASSWORD`` and ``SECRET``."""
    settings = ConnectionSettings(
        region="cn-hangzhou",
        credentials=StaticCredentials("LTAI5tUnitTest0001", SECRET),
        endpoint=endpoint,
        protocol="http",
    )
    return PolarDBClient(settings, connect_timeout_ms=500, extra_secrets=(PASSWORD,))


def wrapped_by_sdk(error: Exception) -> UnretryableException:
    """``error`` as the SDK's request loop reports it."""
    return UnretryableException(RetryPolicyContext(retries_attempted=0, exception=error))


def io_failure(error: OSError) -> UnretryableException:
    """A failure of ``session.send`` as the SDK's HTTP layer reports it (``RetryError`` in context)."""
    try:
        try:
            raise error
        except OSError as exc:
            raise RetryError(str(exc))  # noqa: B904 - the SDK's own shape: implicit context
    except RetryError as retry:
        return wrapped_by_sdk(retry)


def raising(error: BaseException) -> Callable[[], NoReturn]:
    """A call that raises ``error``."""

    def call() -> NoReturn:
        raise error

    return call


# -- classification in the client wrapper ----------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        io_failure(requests.ConnectionError(URL)),
        io_failure(requests.exceptions.SSLError(URL)),
        io_failure(requests.exceptions.ReadTimeout(URL)),
        io_failure(requests.exceptions.ChunkedEncodingError(URL)),
        wrapped_by_sdk(ConnectionResetError(104, "Connection reset by peer")),
        wrapped_by_sdk(ssl.SSLError(1, "CERTIFICATE_VERIFY_FAILED")),
        wrapped_by_sdk(TimeoutError("timed out")),
    ],
    ids=["connection", "tls", "read-timeout", "chunked", "reset", "ssl", "socket-timeout"],
)
def test_transport_failures_become_retryable_transport_failures(error: Exception) -> None:
    with pytest.raises(ApiError) as info:
        client()._call(raising(error))
    failure = info.value.failure
    assert failure.transport and failure.retryable and failure.code == "Transport"
    assert PASSWORD not in failure.message and "S3cret%21pass" not in failure.message


def test_a_real_refused_connection_is_a_transport_failure() -> None:
    with pytest.raises(ApiError) as info:
        client().reset_account("pc-abc123", "dbadmin", PASSWORD)
    failure = info.value.failure
    assert failure.transport and "ConnectionError" in failure.message
    assert "S3cret" not in failure.message


@pytest.mark.parametrize(
    "error",
    [
        TypeError("unsupported operand type(s) for +: 'int' and 'str'"),
        wrapped_by_sdk(TypeError("unsupported operand type(s) for +: 'int' and 'str'")),
    ],
    ids=["raw", "wrapped-by-sdk"],
)
def test_a_type_error_propagates_as_itself(error: Exception) -> None:
    with pytest.raises(TypeError, match="unsupported operand") as info:
        client()._call(raising(error))
    assert not isinstance(info.value, ApiError | ResetError)


def test_a_bug_inside_the_sdk_request_loop_is_not_a_network_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real SDK catches everything in its request loop; the bug still surfaces as itself."""
    calls: list[int] = []

    def broken(*args: Any, **kwargs: Any) -> NoReturn:
        calls.append(1)
        raise TypeError("'NoneType' object is not subscriptable")

    # compose_url runs inside the request loop, in the SDK's transport and the provider's.
    monkeypatch.setattr(DaraCore, "compose_url", staticmethod(broken))
    with pytest.raises(TypeError, match="not subscriptable"):
        client().reset_account("pc-abc123", "dbadmin", PASSWORD)
    assert calls == [1]


def test_a_wrong_request_is_a_bug_and_its_message_is_scrubbed() -> None:
    error = io_failure(requests.exceptions.InvalidSchema(f"No connection adapters for {URL}"))
    with pytest.raises(requests.exceptions.InvalidSchema) as info:
        client()._call(raising(error))
    assert "No connection adapters" in str(info.value)
    assert "S3cret" not in str(info.value) and "AccountPassword" not in str(info.value)


def test_an_answer_that_is_not_json_is_a_retryable_invalid_response() -> None:
    try:
        try:
            raise ValueError("Expecting value: line 1 column 1 (char 0)")
        except ValueError:
            raise RuntimeError(  # noqa: B904 - the SDK's own shape
                'Failed to parse the value as json format, Value: "<html>502 Bad Gateway</html>".'
            )
    except RuntimeError as exc:
        error = wrapped_by_sdk(exc)
    with pytest.raises(ApiError) as info:
        client()._call(raising(error))
    failure = info.value.failure
    assert (failure.code, failure.transport, failure.retryable) == ("InvalidResponse", False, True)
    assert "502 Bad Gateway" in failure.message


def test_missing_ca_bundle_is_a_configuration_error(tmp_path: Any) -> None:
    settings = ConnectionSettings(
        region="cn-hangzhou",
        credentials=StaticCredentials("LTAI5tUnitTest0001", SECRET),
        endpoint="127.0.0.1:1",
        ca_file=os.fspath(tmp_path / "missing.pem"),
    )
    with pytest.raises(ResetError, match=r"missing\.pem") as info:
        PolarDBClient(settings)
    assert info.value.code == ErrorCode.INVALID_CONFIGURATION


# -- through the reset workflow and the provider ---------------------------------------------


class FakeClient:
    """Stands in for :class:`PolarDBClient`; ``reset_account`` fails with ``error``."""

    endpoint = "http://fake"

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.resets = 0

    def describe_cluster(self, cluster_id: str) -> ClusterInfo:
        return ClusterInfo(cluster_id, "Running", "MySQL", "cn-hangzhou")

    def describe_accounts(
        self, cluster_id: str, account_name: str | None = None
    ) -> list[AccountInfo]:
        return [AccountInfo("dbadmin", "Available", "Super", "UnLock")]

    def reset_account(self, cluster_id: str, account_name: str, password: str | None) -> str:
        self.resets += 1
        raise self.error


def resetter(fake: FakeClient, clock: FakeClock, timeout: float) -> Resetter:
    """A Resetter for pc-abc123/dbadmin on ``fake``, with a deadline on ``clock``."""
    target = Target("pc-abc123", "dbadmin", "cn-hangzhou", timeout)
    deadline = Deadline(timeout, clock=clock, sleep=clock.sleep)
    return Resetter(fake, target, deadline=deadline)  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", [3, 10, 30, 900])
def test_giving_up_states_the_timeout_and_the_real_elapsed_time(timeout: int) -> None:
    clock = FakeClock()
    fake = FakeClient(ApiError(ApiFailure("ConcurrentTaskExceeded", "busy", status=403)))
    with pytest.raises(ResetError) as info:
        resetter(fake, clock, timeout).run(None)
    assert info.value.code == ErrorCode.CLUSTER_BUSY
    assert info.value.api_code == "ConcurrentTaskExceeded"
    assert f"Gave up after timeout_seconds={timeout} ({timeout:.1f} s elapsed)" in str(info.value)
    assert clock.now == pytest.approx(timeout) and fake.resets >= 2


def test_a_bug_in_the_workflow_is_neither_retried_nor_disguised() -> None:
    clock = FakeClock()
    fake = FakeClient(TypeError("unsupported operand type(s)"))
    with pytest.raises(TypeError, match="unsupported operand"):
        resetter(fake, clock, 30).run(None)
    assert fake.resets == 1 and clock.now == 0


@pytest.fixture
def configured() -> Iterator[provider.PrivilegedAccountResetProvider]:
    """A provider configured with static keys and a region (the stack config is reset after)."""
    prov = provider.PrivilegedAccountResetProvider()
    config = {
        "alicloud:accessKey": "LTAI5tUnitTest0001",
        "alicloud:secretKey": SECRET,
        "alicloud:region": "cn-hangzhou",
    }
    prov.configure(ConfigureRequest(Config(config, "polardb-reset")))
    yield prov
    prov.configure(ConfigureRequest(Config({}, "polardb-reset")))


def test_a_bug_reaches_the_engine_as_itself_with_its_traceback_in_the_log(
    configured: provider.PrivilegedAccountResetProvider,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeClient(TypeError("unsupported operand type(s)"))
    monkeypatch.setattr(_crud, "PolarDBClient", lambda *a, **k: fake)
    caplog.set_level(logging.ERROR, logger="pulumi_polardb_reset")
    inputs = {p.DB_CLUSTER_ID: "pc-abc123", p.ACCOUNT_NAME: "dbadmin", p.TIMEOUT_SECONDS: 30}
    with pytest.raises(TypeError, match="unsupported operand"):
        configured.create(inputs)
    assert fake.resets == 1
    (record,) = caplog.records
    assert "create failed with an unexpected error" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is TypeError
    assert "Traceback" in caplog.text and "could not be reached" not in caplog.text


def test_reset_errors_are_not_logged_as_bugs(
    configured: provider.PrivilegedAccountResetProvider,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeClient(ApiError(ApiFailure("Forbidden.RAM", "denied", status=403)))
    monkeypatch.setattr(_crud, "PolarDBClient", lambda *a, **k: fake)
    caplog.set_level(logging.ERROR, logger="pulumi_polardb_reset")
    inputs = {p.DB_CLUSTER_ID: "pc-abc123", p.ACCOUNT_NAME: "dbadmin", p.TIMEOUT_SECONDS: 30}
    with pytest.raises(ResetError) as info:
        configured.create(inputs)
    assert info.value.code == ErrorCode.PERMISSION_DENIED
    assert caplog.records == []


def test_invalid_inputs_at_create_have_their_code(
    configured: provider.PrivilegedAccountResetProvider,
) -> None:
    with pytest.raises(ResetError, match="db_cluster_id") as info:
        configured.create({p.DB_CLUSTER_ID: "rm-nope", p.ACCOUNT_NAME: "dbadmin"})
    assert info.value.code == ErrorCode.INVALID_INPUT
