"""The admin API under ``/_emulator``: unsigned, for tests, served to loopback clients only.

Request log, faults, AccessKeys' RAM policies, out-of-band changes, task
hold/release, state and reset; see docs/emulator.md for the routes.

Being unsigned, it must be out of reach of web pages the user's browser
opens (they can send requests to 127.0.0.1 too). :func:`refusal` serves only
requests a browser cannot forge: from a loopback peer, with a ``Host`` that
names a loopback address or ``localhost`` (a DNS-rebinding page sends its own
name), with no ``Origin`` or a loopback one (a cross-site page sends its own),
and with a body only as ``application/json`` (which a page cannot send to
another origin without a CORS preflight, which the emulator never grants).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from ._emulator import ADMIN_PREFIX, EMULATOR_KEY, Emulator
from ._exceptions import ApiError
from ._http import read_body
from ._ram import PolicyError, parse_policy
from ._seed import SeedError, parse_cluster
from .polardb.backend import BackendError, StartupFailedError
from .polardb.views import account_view

__all__ = ["ADMIN_PREFIX", "admin_guard", "is_loopback", "is_loopback_host", "refusal", "routes"]

routes = web.RouteTableDef()


def is_loopback(remote: str | None) -> bool:
    """Whether a peer address is a loopback address (admin API is loopback-only)."""
    if not remote:
        return False
    try:
        address = ip_address(remote.split("%")[0])
    except ValueError:
        return False
    # ::ffff:127.0.0.1 (a dual-stack socket's IPv4 peer) is 127.0.0.1; Python 3.11's
    # is_loopback says False for it.
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


def is_loopback_host(name: str | None) -> bool:
    """Whether a host name (no port) is ``localhost`` or a loopback address."""
    if not name:
        return False
    name = name.strip().rstrip(".").lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name == "localhost" or is_loopback(name)


def _host_of(header: str) -> str:
    """The host part of a ``Host`` header value (``name``, ``name:port``, ``[v6]:port``)."""
    header = header.strip()
    if header.startswith("["):
        return header[: header.find("]") + 1] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _is_loopback_origin(origin: str) -> bool:
    try:
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and is_loopback_host(parts.hostname)
    except ValueError:
        return False


def refusal(request: web.Request) -> tuple[int, str] | None:
    """Why the admin API refuses ``request`` (status, message), or None to serve it."""
    if not is_loopback(request.remote):
        return 403, "the admin API is only served to loopback clients"
    host = request.headers.get("Host")
    if host is None or not is_loopback_host(_host_of(host)):
        return 403, (
            "the admin API is only served with a Host header naming localhost or a loopback "
            "address (DNS-rebinding protection)"
        )
    origin = request.headers.get("Origin")
    if origin is not None and not _is_loopback_origin(origin):
        return 403, (
            "the admin API refuses requests from web pages: the Origin header, when sent, "
            "must be a loopback origin (CSRF protection)"
        )
    has_body = request.body_exists or "Content-Type" in request.headers
    if has_body and request.method not in ("GET", "HEAD") and not _is_json(request):
        return 415, "admin request bodies must be sent as Content-Type: application/json"
    return None


def _is_json(request: web.Request) -> bool:
    return request.content_type == "application/json"


def admin_error(status: int, message: str, code: str | None = None) -> web.Response:
    """``{"error": message[, "code": code]}`` with ``status``."""
    body: dict[str, Any] = {"error": message}
    if code:
        body["code"] = code
    return web.json_response(body, status=status)


async def _json_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return {}
    body = await read_body(request)
    try:
        return json.loads(body)
    except RecursionError:
        raise ValueError("body must be valid JSON: it is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, a 4,301-digit number
        raise ValueError(f"body must be valid JSON: {type(exc).__name__}") from None


def _changes(body: object, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValueError(
            f"unknown key(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    return body


@web.middleware
async def admin_guard(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Admin routes: only what :func:`refusal` lets through; domain errors become JSON 4xx."""
    if not request.path.startswith(ADMIN_PREFIX):
        return await handler(request)
    refused = refusal(request)
    if refused is not None:
        return admin_error(*refused)
    try:
        await request.app[EMULATOR_KEY].settle()
        return await handler(request)
    except ValueError as exc:
        return admin_error(400, str(exc))
    except ApiError as exc:
        return admin_error(exc.status, exc.message, exc.code)
    except BackendError as exc:
        return admin_error(409, str(exc))
    except StartupFailedError as exc:
        return admin_error(500, str(exc))


def _emulator(request: web.Request) -> Emulator:
    return request.app[EMULATOR_KEY]


# --- request log and faults ---------------------------------------------------------


@routes.get(f"{ADMIN_PREFIX}/requests")
async def list_requests(request: web.Request) -> web.Response:
    """The request log, optionally of one action."""
    entries = _emulator(request).requests.entries(request.query.get("action"))
    return web.json_response({"requests": entries})


@routes.delete(f"{ADMIN_PREFIX}/requests")
async def clear_requests(request: web.Request) -> web.Response:
    """Empty the request log."""
    _emulator(request).requests.clear()
    return web.json_response({"cleared": True})


@routes.post(f"{ADMIN_PREFIX}/faults")
async def add_fault(request: web.Request) -> web.Response:
    """Register a fault."""
    fault = _emulator(request).faults.add(await _json_body(request))
    return web.json_response({"id": fault.id}, status=201)


@routes.get(f"{ADMIN_PREFIX}/faults")
async def list_faults(request: web.Request) -> web.Response:
    """The faults not yet used up."""
    return web.json_response({"faults": _emulator(request).faults.documents()})


@routes.delete(f"{ADMIN_PREFIX}/faults")
async def clear_faults(request: web.Request) -> web.Response:
    """Remove every fault."""
    _emulator(request).faults.clear()
    return web.json_response({"cleared": True})


# --- AccessKeys and their RAM policies --------------------------------------------------


def _key_document(emulator: Emulator, key_id: str) -> dict[str, Any]:
    policy = emulator.policies.get(key_id)
    return {"id": key_id, "policy": dict(policy.document) if policy is not None else None}


def _known_key(emulator: Emulator, request: web.Request) -> str:
    key_id = request.match_info["key"]
    if key_id not in emulator.policies:
        raise ApiError(
            "InvalidAccessKeyId.NotFound", f"the seed has no AccessKey {key_id[:64]!r}", 404
        )
    return key_id


@routes.get(f"{ADMIN_PREFIX}/access-keys")
async def list_access_keys(request: web.Request) -> web.Response:
    """Every AccessKey of the seed with its RAM policy (never a secret)."""
    emulator = _emulator(request)
    keys = [
        {**_key_document(emulator, key.id), "sts": key.security_token is not None}
        for key in emulator.seed.access_keys
    ]
    return web.json_response({"access_keys": keys})


@routes.put(f"{ADMIN_PREFIX}/access-keys/{{key}}/policy")
async def put_policy(request: web.Request) -> web.Response:
    """Give an AccessKey a RAM policy (replacing its current one) from now on."""
    emulator = _emulator(request)
    key_id = _known_key(emulator, request)
    try:
        policy = parse_policy(await _json_body(request))
    except PolicyError as exc:
        raise ValueError(f"policy: {exc}") from None
    emulator.policies[key_id] = policy
    return web.json_response(_key_document(emulator, key_id))


@routes.delete(f"{ADMIN_PREFIX}/access-keys/{{key}}/policy")
async def delete_policy(request: web.Request) -> web.Response:
    """Take an AccessKey's RAM policy away: full access from now on."""
    emulator = _emulator(request)
    key_id = _known_key(emulator, request)
    emulator.policies[key_id] = None
    return web.json_response(_key_document(emulator, key_id))


# --- whole emulator and tasks -------------------------------------------------------


@routes.get(f"{ADMIN_PREFIX}/state")
async def state(request: web.Request) -> web.Response:
    """Clusters, accounts, tasks in flight."""
    emulator = _emulator(request)
    return web.json_response(await emulator.run(emulator.state_document))


@routes.post(f"{ADMIN_PREFIX}/reset")
async def reset(request: web.Request) -> web.Response:
    """Back to the seed."""
    emulator = _emulator(request)
    await emulator.run(emulator.reset_model)
    emulator.clear_activity()
    return web.json_response({"reset": True})


@routes.post(f"{ADMIN_PREFIX}/tasks/hold")
async def hold_tasks(request: web.Request) -> web.Response:
    """From now on no task finishes."""
    emulator = _emulator(request)
    await emulator.run(emulator.persisting(emulator.model.scheduler.hold))
    return web.json_response({"held": True})


@routes.post(f"{ADMIN_PREFIX}/tasks/release")
async def release_tasks(request: web.Request) -> web.Response:
    """Finish every task in flight now."""
    emulator = _emulator(request)
    finished = await emulator.run(emulator.persisting(emulator.model.scheduler.release))
    return web.json_response({"held": False, "finished": finished})


# --- KMS secrets -------------------------------------------------------------------


@routes.get(f"{ADMIN_PREFIX}/secrets")
async def list_secrets(request: web.Request) -> web.Response:
    """Every secret with its versions' IDs and stages (never a value)."""
    emulator = _emulator(request)
    return web.json_response({"secrets": await emulator.run(emulator.secrets.view)})


@routes.post(f"{ADMIN_PREFIX}/secrets/rotate")
async def rotate_secret(request: web.Request) -> web.Response:
    """Rotate a secret: a new version with the given value becomes ACSCurrent."""
    emulator = _emulator(request)
    body = _changes(await _json_body(request), {"name", "value", "version_id"})
    name, value, version_id = body.get("name"), body.get("value"), body.get("version_id")
    if not isinstance(name, str) or not name:
        raise ValueError("name must be the secret's name")
    if not isinstance(value, str) or not value:
        raise ValueError("value must be a non-empty string")
    if version_id is not None and not isinstance(version_id, str):
        raise ValueError("version_id must be a string")
    version = await emulator.run(emulator.secrets.rotate, name, value, version_id)
    return web.json_response(
        {"name": name, "version_id": version.id, "stages": sorted(version.stages)}
    )


# --- STS sessions ------------------------------------------------------------------


@routes.post(f"{ADMIN_PREFIX}/sts/expire")
async def expire_sts_sessions(request: web.Request) -> web.Response:
    """End every STS session now, as if their time had passed: their next request is refused
    with ``InvalidSecurityToken.Expired``."""
    emulator = _emulator(request)
    return web.json_response({"expired": emulator.sts.sessions.expire_all()})


# --- clusters and accounts ---------------------------------------------------------


@routes.post(f"{ADMIN_PREFIX}/clusters")
async def add_cluster(request: web.Request) -> web.Response:
    """Add a cluster in seed format."""
    emulator = _emulator(request)
    try:
        seed_cluster = parse_cluster(await _json_body(request))
    except SeedError as exc:
        raise ValueError(str(exc)) from None
    # Hashed side by side before the model's turn: 200 accounts hold up no one.
    credentials = await emulator.seed_credentials(seed_cluster)
    await emulator.run(
        emulator.persisting(emulator.model.admin.add_cluster), seed_cluster, credentials
    )
    return web.json_response({"id": seed_cluster.id}, status=201)


@routes.patch(f"{ADMIN_PREFIX}/clusters/{{cluster}}")
async def patch_cluster(request: web.Request) -> web.Response:
    """Change a cluster's status or description."""
    emulator = _emulator(request)
    changes = _changes(await _json_body(request), {"status", "description"})
    cluster = await emulator.run(
        emulator.persisting(emulator.model.admin.patch_cluster),
        request.match_info["cluster"],
        changes,
    )
    return web.json_response({"id": cluster.id, "status": cluster.status})


@routes.get(f"{ADMIN_PREFIX}/clusters/{{cluster}}/sql")
async def sql_login(request: web.Request) -> web.Response:
    """The administrative login of the cluster's SQL server."""
    emulator = _emulator(request)
    login = await emulator.run(emulator.model.admin.sql_login, request.match_info["cluster"])
    return web.json_response(login)


@routes.delete(f"{ADMIN_PREFIX}/clusters/{{cluster}}/accounts/{{name}}")
async def delete_account(request: web.Request) -> web.Response:
    """Delete an account at once."""
    emulator = _emulator(request)
    await emulator.run(
        emulator.persisting(emulator.model.admin.delete_account_now),
        request.match_info["cluster"],
        request.match_info["name"],
    )
    return web.json_response({"deleted": True})


_ACCOUNT_CHANGES = {
    "type",
    "lock_state",
    "password",
    "password_valid_time",
    "status",
    "privileges_revoked",
    "description",
}


@routes.patch(f"{ADMIN_PREFIX}/clusters/{{cluster}}/accounts/{{name}}")
async def patch_account(request: web.Request) -> web.Response:
    """Change an account behind the API's back; answer with the account."""
    emulator = _emulator(request)
    changes = _changes(await _json_body(request), _ACCOUNT_CHANGES)
    cluster_id, name = request.match_info["cluster"], request.match_info["name"]

    def patch() -> dict[str, Any]:
        account = emulator.model.admin.patch_account(cluster_id, name, changes)
        emulator.persist()
        return account_view(emulator.model.clusters[cluster_id], account)

    return web.json_response(await emulator.run(patch))


@routes.post(f"{ADMIN_PREFIX}/clusters/{{cluster}}/accounts/{{name}}/verify-password")
async def verify_password(request: web.Request) -> web.Response:
    """Whether a password is the account's current one."""
    emulator = _emulator(request)
    password = _changes(await _json_body(request), {"password"}).get("password")
    if not isinstance(password, str):
        raise ValueError("password must be a string")
    match = await emulator.run(
        emulator.model.admin.verify_password,
        request.match_info["cluster"],
        request.match_info["name"],
        password,
    )
    return web.json_response({"match": match})
