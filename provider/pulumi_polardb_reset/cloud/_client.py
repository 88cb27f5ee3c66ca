"""The API client wrappers: the PolarDB API here, KMS in ``_kms``, over one :class:`ApiClient`.

The Alibaba Cloud SDK is imported lazily, on the first call, so that importing
this package (in the Pulumi program, or when the engine unpickles the
provider) stays cheap and never reads credentials. An API error answer, a
transport failure (connection, TLS, timeout) or a non-API answer becomes an
:class:`ApiError` carrying an SDK-free :class:`ApiFailure`, with secrets
scrubbed from the text. Any other exception is a bug: it propagates as it is
(scrubbed), so it is neither retried nor reported as a network failure.

Every call is bounded (``_transport``): by what remains of the deadline of the retry
policy it runs under (:func:`._retry.current_deadline`), at most
``_transport.ATTEMPT_SECONDS``, at least ``_retry.LAST_ATTEMPT_SECONDS``; its answer by
``_transport.MAX_BODY_BYTES``. The SDK stack's loggers are scrubbed (``_scrub``).
"""

from __future__ import annotations

import http.client
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from .._version import __version__
from ..core import _scrub
from ..core._errors import (
    INVALID_RESPONSE_CODE,
    TRANSPORT_CODE,
    ApiError,
    ApiFailure,
    ConfigurationError,
)
from ._retry import LAST_ATTEMPT_SECONDS, current_deadline
from ._settings import ChainCredentials, ConnectionSettings, RoleCredentials, StaticCredentials

log = logging.getLogger("pulumi_polardb_reset")
T = TypeVar("T")

#: The API's answer to STS credentials past their expiry.
STS_EXPIRED_CODE = "InvalidSecurityToken.Expired"

USER_AGENT = f"pulumi-polardb-reset/{__version__}"

# Before the SDK is even imported: urllib3 may already log a request URL (query included).
_scrub.install()


@dataclass(frozen=True)
class ClusterInfo:
    """What the provider needs to know about a cluster (DescribeDBClusterAttribute)."""

    cluster_id: str
    status: str
    db_type: str
    region: str | None


@dataclass(frozen=True)
class AccountInfo:
    """One database account as DescribeAccounts reports it."""

    name: str
    status: str
    type: str
    lock_state: str | None
    #: AccountPasswordValidTime as the API gives it (``YYYY-MM-DDThh:mm:ssZ``); None or
    #: empty when the password has no validity time.
    password_valid_time: str | None = None


@dataclass(frozen=True)
class EndpointAddress:
    """One address of a cluster endpoint (DescribeDBClusterEndpoints ``AddressItems``)."""

    endpoint_type: str
    net_type: str
    connection_string: str
    ip_address: str
    port: int | None


class ApiClient:
    """What every typed wrapper of an Alibaba Cloud SDK client shares: the bounded call,
    the SDK's errors turned into :class:`ApiError`, secrets scrubbed, the credentials
    (a RAM role's renewed when they expire).

    ``extra_secrets`` (such as the password being set) are scrubbed from every
    error message the wrapper produces. Subclasses name the SDK client (``sdk_client``).
    """

    #: The SDK client class, as ``module:Class`` (imported on construction).
    sdk_client: str = ""

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        connect_timeout_ms: int = 5000,
        read_timeout_ms: int = 10000,
        extra_secrets: tuple[str, ...] = (),
    ):
        self._settings = settings
        self._secrets = (*settings.secrets, *(s for s in extra_secrets if s))
        # Whatever the SDK stack logs while this client lives is scrubbed of its secrets.
        _scrub.register(self, self._secrets)
        self._role = sts_provider(settings, connect_timeout_ms)
        self._sdk = _build_sdk_client(
            settings, connect_timeout_ms, read_timeout_ms, self._role, self.sdk_client
        )

    @property
    def region(self) -> str:
        """The region the client works in."""
        return self._settings.region

    @property
    def endpoint(self) -> str:
        """The endpoint in use: the configured one or the SDK's mapping for the region."""
        return f"{self._settings.protocol}://{self._sdk._endpoint}"

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return self._call_once(fn)
        except ApiError as error:
            if self._role is None or error.failure.code != STS_EXPIRED_CODE:
                raise
        # The role's STS credentials expired before their renewal (clock skew, a session cut
        # short): new ones, and the same call once more.
        self._role.expire()
        return self._call_once(fn)

    def _call_once(self, fn: Callable[[], T]) -> T:
        from alibabacloud_tea_openapi import exceptions as sdk_errors

        from . import _transport  # imports requests: only once a call is made

        try:
            return _transport.run_bounded(fn, _transport.CallBudget(self._attempt_seconds()))
        except sdk_errors.AlibabaCloudException as exc:
            raise ApiError(self._failure_from_sdk(exc)) from None
        except Exception as exc:
            failure = self._failure_without_answer(exc)
            if failure is not None:
                raise ApiError(failure) from None
            bug = unwrap_sdk_exception(exc)
        # Anything else is a bug (ours or the SDK's): never retried, never reported as a
        # network failure. Raised outside the handler so it keeps its own traceback.
        _scrub_exception(bug, self._scrub)
        raise bug

    @staticmethod
    def _attempt_seconds() -> float:
        """How long this attempt may take: what remains of the deadline, within bounds."""
        from . import _transport

        deadline = current_deadline()
        if deadline is None:
            return _transport.ATTEMPT_SECONDS
        # At the deadline the policy still makes one last attempt: give it a short while.
        remaining = max(deadline.remaining(), LAST_ATTEMPT_SECONDS)
        return min(remaining, _transport.ATTEMPT_SECONDS)

    def _failure_without_answer(self, exc: Exception) -> ApiFailure | None:
        """An ApiFailure for a transport failure or a non-API answer; None for anything else."""
        from . import _transport

        unwrapped = unwrap_sdk_exception(exc)
        if isinstance(unwrapped, _transport.ResponseTooLargeError):
            return ApiFailure(code=INVALID_RESPONSE_CODE, message=str(unwrapped))
        cause = transport_cause(exc)
        if cause is not None:
            text = self._scrub(f"{type(cause).__name__}: {cause}")
            return ApiFailure(code=TRANSPORT_CODE, message=text, transport=True)
        if is_invalid_response(exc):
            text = self._scrub(str(unwrap_sdk_exception(exc)))
            return ApiFailure(code=INVALID_RESPONSE_CODE, message=_shorten(text))
        return None

    def _scrub(self, text: str) -> str:
        # Transport errors quote the request URL, whose query string carries every
        # parameter (AccountPassword included, percent-encoded): the scrubber drops them.
        return _scrub.scrub_text(text, self._secrets)

    def _failure_from_sdk(self, exc: Any) -> ApiFailure:
        data = exc.data if isinstance(getattr(exc, "data", None), dict) else {}
        message = str(data.get("Message") or data.get("message") or exc.message or "")
        retry_after = getattr(exc, "retry_after", None)
        return ApiFailure(
            code=str(exc.code or "Unknown"),
            message=self._scrub(message),
            status=getattr(exc, "status_code", None),
            request_id=getattr(exc, "request_id", None) or None,
            retry_after_seconds=(retry_after / 1000.0) if retry_after else None,
        )


class PolarDBClient(ApiClient):
    """Thin, typed wrapper around ``alibabacloud_polardb20170801.client.Client``."""

    sdk_client = "alibabacloud_polardb20170801.client:Client"

    def describe_cluster(self, cluster_id: str) -> ClusterInfo:
        """DescribeDBClusterAttribute."""
        from alibabacloud_polardb20170801 import models

        body = self._call(
            lambda: self._sdk.describe_dbcluster_attribute(
                models.DescribeDBClusterAttributeRequest(dbcluster_id=cluster_id)
            )
        ).body
        return ClusterInfo(
            cluster_id=body.dbcluster_id or cluster_id,
            status=body.dbcluster_status or "",
            db_type=body.dbtype or "",
            region=body.region_id,
        )

    def describe_accounts(
        self, cluster_id: str, account_name: str | None = None
    ) -> list[AccountInfo]:
        """DescribeAccounts, optionally filtered by name; follows pagination."""
        from alibabacloud_polardb20170801 import models

        accounts: list[AccountInfo] = []
        page = 1
        while True:
            request = models.DescribeAccountsRequest(
                dbcluster_id=cluster_id, account_name=account_name, page_number=page, page_size=100
            )
            body = self._call(partial(self._sdk.describe_accounts, request)).body
            batch = body.accounts or []
            accounts += [
                AccountInfo(
                    name=a.account_name or "",
                    status=a.account_status or "",
                    type=a.account_type or "",
                    lock_state=a.account_lock_state,
                    password_valid_time=a.account_password_valid_time,
                )
                for a in batch
            ]
            if len(batch) < 100 or page >= 50:
                return accounts
            page += 1

    def describe_endpoints(self, cluster_id: str) -> list[EndpointAddress]:
        """DescribeDBClusterEndpoints: every address of every endpoint, in answer order."""
        from alibabacloud_polardb20170801 import models

        request = models.DescribeDBClusterEndpointsRequest(dbcluster_id=cluster_id)
        body = self._call(lambda: self._sdk.describe_dbcluster_endpoints(request)).body
        return [
            EndpointAddress(
                endpoint_type=item.endpoint_type or "",
                net_type=address.net_type or "",
                connection_string=address.connection_string or "",
                ip_address=address.ipaddress or "",
                port=_port(address.port),
            )
            for item in body.items or []
            for address in item.address_items or []
        ]

    def reset_account(self, cluster_id: str, account_name: str, password: str | None) -> str:
        """ResetAccount; returns the request ID."""
        from alibabacloud_polardb20170801 import models

        request = models.ResetAccountRequest(
            dbcluster_id=cluster_id, account_name=account_name, account_password=password
        )
        body = self._call(lambda: self._sdk.reset_account(request)).body
        return str(body.request_id or "")

    def modify_account_lock_state(
        self,
        cluster_id: str,
        account_name: str,
        lock_state: str,
        password_valid_time: str | None = None,
    ) -> str:
        """ModifyAccountLockState (``Lock`` / ``UnLock``; the validity time only when
        given); returns the request ID."""
        from alibabacloud_polardb20170801 import models

        request = models.ModifyAccountLockStateRequest(
            dbcluster_id=cluster_id,
            account_name=account_name,
            account_lock_state=lock_state,
            account_password_valid_time=password_valid_time or None,
        )
        body = self._call(lambda: self._sdk.modify_account_lock_state(request)).body
        return str(body.request_id or "")


def _port(value: Any) -> int | None:
    # The API returns the port as a string ("3306").
    try:
        port = int(str(value))
    except ValueError:
        return None
    return port if 0 < port < 65536 else None


def unwrap_sdk_exception(exc: Exception) -> BaseException:
    """The error behind an SDK exception, or ``exc`` itself.

    The SDK's request loop catches *every* exception and re-raises it wrapped in
    Tea/darabonba's ``UnretryableException`` (``inner_exception``). Its HTTP layer
    turns the ``IOError`` of ``requests`` into ``RetryError(str(e))``, raised
    inside ``except IOError``, so that error is the ``RetryError``'s ``__context__``.
    """
    from darabonba.exceptions import RetryError as DaraRetryError
    from Tea.exceptions import RetryError as TeaRetryError
    from Tea.exceptions import UnretryableException  # darabonba's subclasses it

    cause: BaseException = exc
    if isinstance(cause, UnretryableException):
        inner = getattr(cause, "inner_exception", None)
        if isinstance(inner, BaseException):
            cause = inner
    if isinstance(cause, DaraRetryError | TeaRetryError):
        context = cause.__context__
        if isinstance(context, BaseException):
            cause = context
    return cause


def transport_cause(exc: Exception) -> BaseException | None:
    """The connection, TLS or timeout error behind an SDK exception, or None for anything else."""
    from darabonba.exceptions import RetryError as DaraRetryError
    from Tea.exceptions import RetryError as TeaRetryError

    cause = unwrap_sdk_exception(exc)
    # A RetryError without a context is still only ever raised for an I/O failure.
    is_io_failure = isinstance(cause, DaraRetryError | TeaRetryError)
    return cause if is_io_failure or _is_network_error(cause) else None


def _is_network_error(exc: BaseException) -> bool:
    import requests
    import urllib3.exceptions

    network = (
        requests.ConnectionError,  # refused, reset, DNS, TLS (SSLError), proxy, connect timeout
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
        urllib3.exceptions.ProtocolError,
        urllib3.exceptions.TimeoutError,
        urllib3.exceptions.SSLError,
        urllib3.exceptions.ProxyError,
        http.client.HTTPException,
    )
    if isinstance(exc, network):
        return True
    # Socket and ssl errors raised as they are; other requests errors (InvalidURL,
    # InvalidSchema, ...) are OSErrors too but mean a wrong request, not a network failure.
    return isinstance(exc, OSError) and not isinstance(exc, requests.RequestException)


def is_invalid_response(exc: Exception) -> bool:
    """Tell whether the endpoint answered with something that is not JSON (a proxy's page).

    The SDK reports it as ``RuntimeError('Failed to parse the value as json format, ...')``
    raised while handling the ``JSONDecodeError``.
    """
    cause = unwrap_sdk_exception(exc)
    return (
        isinstance(cause, RuntimeError)
        and isinstance(cause.__context__, ValueError)
        and str(cause).startswith("Failed to parse the value as json")
    )


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _scrub_exception(exc: BaseException, scrub: Callable[[str], str]) -> None:
    """Scrub query strings and secrets from the text of a bug's exception chain, in place.

    A bug's message may quote the request URL, whose query string carries the password.
    """

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return scrub(value)
        if isinstance(value, dict):  # Tea/darabonba exceptions carry {"message": ...}
            return {k: clean(v) for k, v in value.items()}
        return value

    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.args = tuple(clean(a) for a in current.args)
        if isinstance(getattr(current, "message", None), str):
            current.message = scrub(current.message)  # type: ignore[attr-defined]
        pending += [current.__cause__, current.__context__]
        inner = getattr(current, "inner_exception", None)
        if isinstance(inner, BaseException):
            pending.append(inner)


def sts_provider(settings: ConnectionSettings, timeout_ms: int) -> Any:
    """The renewing credentials of ``settings``' RAM role (:mod:`._sts`), or None."""
    if not isinstance(settings.credentials, RoleCredentials):
        return None
    from ._sts import RoleCredentialsProvider

    return RoleCredentialsProvider(
        settings.credentials, ca_file=settings.ca_file, timeout_ms=timeout_ms
    )


def credential_client(provider: Any) -> Any:
    """An ``alibabacloud_credentials`` client over ``provider`` (what SDK configs take)."""
    from alibabacloud_credentials.client import Client as CredentialClient

    return CredentialClient(provider=provider)


def _build_sdk_client(
    settings: ConnectionSettings,
    connect_timeout_ms: int,
    read_timeout_ms: int,
    role: Any,
    sdk_client: str,
) -> Any:
    import importlib

    from alibabacloud_tea_openapi import models as openapi

    from . import _transport

    # The SDK is imported now: scrub its loggers (darabonba's, Tea's, ...) and bound its calls.
    _scrub.install()
    _transport.install()
    if settings.ca_file and not os.path.isfile(settings.ca_file):
        # requests would report it on every attempt as an I/O failure of the request.
        raise ConfigurationError(
            f"the CA bundle '{settings.ca_file}' (config 'polardbReset:caBundle' or "
            "POLARDB_RESET_CA_BUNDLE) is not a readable file."
        )
    config = openapi.Config(
        region_id=settings.region,
        endpoint=settings.endpoint,
        protocol=settings.protocol,
        ca=settings.ca_file,
        connect_timeout=connect_timeout_ms,
        read_timeout=read_timeout_ms,
        user_agent=USER_AGENT,
    )
    creds = settings.credentials
    if role is not None:
        config.credential = credential_client(role)
    elif isinstance(creds, ChainCredentials):
        config.credential = _chain_credential(creds)
    elif isinstance(creds, StaticCredentials):
        config.access_key_id = creds.access_key_id
        config.access_key_secret = creds.access_key_secret
        config.security_token = creds.security_token
    module, _, name = sdk_client.partition(":")
    client_class = getattr(importlib.import_module(module), name)
    log.debug(
        "%s: region=%s endpoint=%s credentials from %s",
        module,
        settings.region,
        settings.endpoint or "(SDK mapping)",
        creds.source,
    )
    return client_class(config)


def _chain_credential(creds: ChainCredentials) -> Any:
    from alibabacloud_credentials.client import Client as CredentialClient

    if creds.profile:
        from alibabacloud_credentials.provider.cli_profile import CLIProfileCredentialsProvider

        client = CredentialClient(
            provider=CLIProfileCredentialsProvider(profile_name=creds.profile)
        )
    else:
        client = CredentialClient()
    try:
        # Resolve now so a missing credential is a clear error before any API call.
        client.get_credential()
    except Exception as exc:
        where = f"profile '{creds.profile}'" if creds.profile else "the default credential chain"
        raise ConfigurationError(
            f"no Alibaba Cloud credentials found ({where}): set stack config "
            "'alicloud:accessKey' and 'alicloud:secretKey' (as secrets), or "
            "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or configure an "
            f"aliyun CLI profile. ({type(exc).__name__})"
        ) from None
    return client
