"""The signed RPC endpoint ``POST /``.

Flow of an API request: parse the query (and form body) → find the action
and version → authenticate → authorise (the key's RAM policy) → apply an
injected fault, if any → call the domain model → render JSON. Every API
request, including rejected ones, is recorded in the request log with
secrets redacted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qsl

from aiohttp import web

from ._auth import SignedRequest
from ._emulator import EMULATOR_KEY, Emulator
from ._exceptions import ApiError, AuthError, api_error, missing_parameter
from ._faults import Fault
from ._http import new_request_id, read_body
from ._logs import escape
from .kms import exceptions as kms_exceptions
from .kms import responses as kms
from .polardb import exceptions as polardb_exceptions
from .polardb import responses
from .polardb.rules import password_problem
from .polardb.service import Prehashed
from .sts import exceptions as sts_exceptions
from .sts import responses as sts

log = logging.getLogger("polardb_emulator")
#: Most parameters a request may carry (query and form body together); the
#: API's actions take at most a dozen.
MAX_PARAMS = 256


@dataclass(frozen=True)
class ApiCall:
    """One API request, parsed: what it asks for and what was signed."""

    request_id: str
    signed: SignedRequest
    params: dict[str, str]
    scheme: str | None  # "v3" | "v1" | None (unsigned)
    action: str | None
    version: str | None
    access_key_id: str | None
    #: Why the parameters cannot be used (answered before anything else), if so.
    problem: ApiError | None = None

    def log_fields(self) -> dict[str, Any]:
        """The request-log fields known before the request is handled (the log
        summarises and redacts the parameters)."""
        return {
            "action": self.action,
            "params": self.params,
            "request_id": self.request_id,
            "signature": self.scheme,
            "access_key_id": self.access_key_id,
        }


async def read_call(request: web.Request) -> ApiCall:
    """Parse an HTTP request into an :class:`ApiCall` (no authentication yet)."""
    body = await read_body(request)
    headers = {name.lower(): request.headers.getall(name) for name in request.headers}
    query: list[tuple[str, str]] = []
    form: list[tuple[str, str]] = []
    problem = None
    try:
        query = _pairs(request.rel_url.raw_query_string)
        if body and request.content_type == "application/x-www-form-urlencoded":
            # RPC parameters may also travel as a form body: V3 signs it through the
            # body hash, V1 as parameters; the verifier checks both before any use.
            form = _pairs(body.decode("utf-8", "replace"), MAX_PARAMS - len(query))
    except ValueError:
        problem = api_error("InvalidParameter", f"A request takes at most {MAX_PARAMS} parameters.")
    signed = SignedRequest(request.method, request.path, query, headers, body, form)
    # The handler reads exactly what the verifier checked.
    params = dict(signed.pairs)
    authorization = request.headers.get("authorization", "")
    is_v3 = authorization.startswith("ACS3-")
    # V3 names the action in a header, V1 in the query; unsigned requests may
    # use either, so that they still get the signature error they deserve.
    use_headers = is_v3 or "Action" not in params
    source: Mapping[str, str] = request.headers if use_headers else params
    return ApiCall(
        request_id=new_request_id(),
        signed=signed,
        params=params,
        scheme="v3" if is_v3 else ("v1" if "Signature" in params else None),
        action=source.get("x-acs-action" if use_headers else "Action"),
        version=source.get("x-acs-version" if use_headers else "Version"),
        access_key_id=(
            authorization.partition("Credential=")[2].split(",")[0] or None
            if is_v3
            else params.get("AccessKeyId")
        ),
        problem=problem,
    )


def _pairs(text: str, limit: int = MAX_PARAMS) -> list[tuple[str, str]]:
    # max_num_fields counts the separators first: a body of 100,000 keys is
    # refused before any of them is decoded.
    return parse_qsl(text, keep_blank_values=True, max_num_fields=max(limit, 1))


@dataclass(frozen=True)
class Route:
    """Where a request goes: the service (RAM code), the action and its handler."""

    service: str
    handler: responses.Handler | kms.Handler | sts.Handler
    action: str

    @property
    def anonymous(self) -> bool:
        """Whether the action takes no signature (its parameters carry the credential)."""
        return self.service == sts.SERVICE and self.action in sts.ANONYMOUS_ACTIONS


#: The API versions the endpoint serves, and which service each one is.
SERVICES = {
    responses.API_VERSION: responses.SERVICE,
    kms.API_VERSION: kms.SERVICE,
    sts.API_VERSION: sts.SERVICE,
}
_ACTIONS: dict[str, Mapping[str, responses.Handler | kms.Handler | sts.Handler]] = {
    responses.SERVICE: responses.ACTIONS,
    kms.SERVICE: kms.ACTIONS,
    sts.SERVICE: sts.ACTIONS,
}


def find_handler(call: ApiCall) -> Route:
    """The action's service and handler, or the gateway's error for a missing/unknown action
    or version."""
    if call.problem is not None:
        raise call.problem
    if not call.action:
        raise missing_parameter("Action")
    service = SERVICES.get(call.version or "")
    if service is None:
        raise api_error(
            "InvalidVersion",
            f"Specified parameter Version is not valid: this endpoint serves "
            f"{responses.API_VERSION} (PolarDB), {kms.API_VERSION} (KMS) and "
            f"{sts.API_VERSION} (STS).",
        )
    handler = _ACTIONS[service].get(call.action)
    if handler is None:
        raise api_error(
            "InvalidAction.NotFound",
            f"Specified api is not found, please check your url and method: {call.action}.",
            status=404,
        )
    return Route(service, handler, call.action)


class _DroppedError(Exception):
    """Raised to abandon a request whose connection a fault dropped."""


async def apply_fault(fault: Fault, request: web.Request, service: str) -> None:
    """Wait (latency), drop the connection (drop) or raise the fault's API error."""
    if fault.kind == "latency":
        await asyncio.sleep((fault.latency_ms or 0) / 1000)
        return
    if fault.kind == "drop":
        transport = request.transport
        if transport is not None:
            transport.abort()  # close without sending a single byte
        raise _DroppedError
    assert fault.code is not None
    build = {
        kms.SERVICE: kms_exceptions.api_error,
        sts.SERVICE: sts_exceptions.api_error,
    }.get(service, polardb_exceptions.api_error)
    error = build(fault.code, fault.message, fault.status)
    error.retry_after_ms = fault.retry_after_ms
    raise error


async def _prehash(emulator: Emulator, call: ApiCall) -> Prehashed | None:
    """The new password's credential, hashed off the model's thread (None: nothing to hash)."""
    name = responses.PASSWORD_PARAMS.get(call.action or "")
    password = call.params.get(name) if name else None
    # Hash only what the model will accept; it refuses the rest without hashing.
    if not password or password_problem(password):
        return None
    return await emulator.prehash(call.params.get("DBClusterId", ""), password)


def _call_action(
    emulator: Emulator, route: Route, call: ApiCall, prehashed: Prehashed | None
) -> dict[str, Any]:
    # Tasks due by now finish first, so that no answer shows a stale status.
    emulator.tick()
    if route.service == kms.SERVICE:
        kms_handler = cast(kms.Handler, route.handler)
        return kms_handler(emulator.secrets, call.params, call.request_id)
    if route.service == sts.SERVICE:
        sts_handler = cast(sts.Handler, route.handler)
        return sts_handler(emulator.sts, call.access_key_id, call.params, call.request_id)
    handler = cast(responses.Handler, route.handler)
    document = handler(emulator.model.service, call.params, call.request_id, prehashed)
    if call.action in responses.WRITE_ACTIONS:
        emulator.persist()
    return document


def error_response(error: ApiError, request_id: str) -> web.Response:
    """``{"RequestId", "Code", "Message"}`` with the error's status (and retry-after)."""
    headers = {"x-acs-request-id": request_id}
    if error.retry_after_ms:
        headers["x-acs-retry-after"] = str(error.retry_after_ms)
    return web.json_response(
        {"RequestId": request_id, "Code": error.code, "Message": error.message, **error.extra},
        status=error.status,
        headers=headers,
    )


async def handle_api(request: web.Request) -> web.StreamResponse:
    """``POST /``: one RPC call, from parsing to the JSON answer (logged either way)."""
    emulator = request.app[EMULATOR_KEY]
    call = await read_call(request)
    await emulator.settle()
    # Until the signature is verified, the log keeps only a short summary.
    verified = False
    try:
        route = find_handler(call)
        if not route.anonymous:
            identity = emulator.verifier.verify(call.signed)
            verified = True
            # RAM, as the gateway does: after the signature, before the service (and its faults).
            emulator.authorize(
                identity.access_key_id, call.action or "", call.params, route.service
            )
        fault = emulator.faults.take(call.action or "")
        if fault is not None:
            await apply_fault(fault, request, route.service)
        prehashed = await _prehash(emulator, call) if route.service == responses.SERVICE else None
        document = await emulator.run(_call_action, emulator, route, call, prehashed)
    except _DroppedError:
        emulator.requests.record(
            **call.log_fields(), authenticated=True, status=0, code="Fault.ConnectionDropped"
        )
        log.info("%s dropped (fault)", escape(call.action))
        # The transport is already aborted: this response is never sent.
        return web.Response(status=500)
    except ApiError as error:
        emulator.requests.record(
            **call.log_fields(), authenticated=verified, status=error.status, code=error.code
        )
        auth = " (auth)" if isinstance(error, AuthError) else ""
        log.info("%s %s %s%s", escape(call.action), error.status, escape(error.code), auth)
        return error_response(error, call.request_id)
    emulator.requests.record(**call.log_fields(), authenticated=True, status=200, code=None)
    log.info("%s 200", escape(call.action))
    response_id = document.pop("RequestId", call.request_id)
    return web.json_response(
        {"RequestId": response_id, **document}, headers={"x-acs-request-id": response_id}
    )
