"""Request authentication: V3 (ACS3-HMAC-SHA256) and V1 (HMAC-SHA1 RPC) verifiers.

Written from Alibaba Cloud's published specifications ("Request syntax and
signature method V3" and "signature method for RPC APIs"), not from the SDK's
signing helpers. Everything here is pure: a :class:`SignedRequest` in, an
:class:`Identity` or an :class:`AuthError` out; the clock and the nonce cache
are injected so unit tests need no HTTP and no sleeping.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from ._exceptions import api_error, auth_error
from ._seed import AccessKey
from .sts.models import Sessions

V3_ALGORITHM = "ACS3-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60
V3_REQUIRED_HEADERS = (
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
)
V1_REQUIRED_PARAMS = (
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "Signature",
)
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: Longest signature nonce accepted (the SDK sends 32 hex digits).
MAX_NONCE = 128


@dataclass(frozen=True)
class SignedRequest:
    """The parts of an HTTP request that take part in signing.

    ``query`` is the *decoded* query string as ordered pairs; ``headers`` maps
    lowercased header names to all their values; ``form`` holds the decoded
    pairs of an ``application/x-www-form-urlencoded`` body (V3 covers them
    through the body hash, V1 signs them like query parameters).
    """

    method: str
    path: str
    query: Sequence[tuple[str, str]]
    headers: Mapping[str, Sequence[str]]
    body: bytes = b""
    form: Sequence[tuple[str, str]] = ()

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Every request parameter: the query's, then the form body's."""
        return [*self.query, *self.form]

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), if present."""
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def param(self, name: str) -> str | None:
        """The last value of request parameter ``name`` (query or form body), if present."""
        found = None
        for key, value in self.pairs:
            if key == name:
                found = value
        return found


@dataclass(frozen=True)
class Identity:
    """Who signed a request, and how."""

    access_key_id: str
    scheme: str  # "v3" | "v1"


# --- the primitives of the specifications -------------------------------------


def percent_encode(value: str) -> str:
    """RFC 3986 encoding: unreserved ``A-Za-z0-9-_.~`` kept, space as ``%20``."""
    return quote(value, safe="-_.~", encoding="utf-8")


def canonical_query(pairs: Sequence[tuple[str, str]]) -> str:
    """Sorted ``pe(key)=pe(value)`` joined with ``&`` (V3 CanonicalQueryString)."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def canonical_headers(headers: Mapping[str, Sequence[str]], signed: Sequence[str]) -> str:
    """``name:value\\n`` for each signed header: lowercased, trimmed, sorted."""
    lines = []
    for name in sorted(signed):
        values = sorted(v.strip() for v in headers.get(name, ()))
        lines.append(f"{name}:{','.join(values)}\n")
    return "".join(lines)


def canonical_request_v3(
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, Sequence[str]],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    """The V3 CanonicalRequest."""
    uri = quote(path or "/", safe="/-_.~")
    return "\n".join(
        (
            method.upper(),
            uri,
            canonical_query(query),
            canonical_headers(headers, signed_headers),
            ";".join(sorted(signed_headers)),
            payload_hash,
        )
    )


def string_to_sign_v3(canonical_request: str) -> str:
    """``ACS3-HMAC-SHA256\\n`` + hex SHA-256 of the canonical request."""
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{V3_ALGORITHM}\n{digest}"


def signature_v3(secret: str, string_to_sign: str) -> str:
    """Hex HMAC-SHA256 of the string to sign, keyed with the AccessKey secret."""
    return hmac.new(secret.encode(), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def string_to_sign_v1(method: str, params: Sequence[tuple[str, str]]) -> str:
    """``METHOD&%2F&pe(canonicalized query)``; ``Signature`` itself is excluded."""
    pairs = [(k, v) for k, v in params if k != "Signature"]
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(pairs))}"


def signature_v1(secret: str, string_to_sign: str) -> str:
    """Base64 HMAC-SHA1 keyed with ``secret + "&"``."""
    mac = hmac.new(f"{secret}&".encode(), string_to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def parse_authorization(value: str) -> tuple[str, str, list[str], str]:
    """Split a V3 ``Authorization`` header into algorithm, key, signed headers, signature."""
    algorithm, _, rest = value.strip().partition(" ")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            parts[key] = val
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not parts.get(k)]
    if missing:
        raise auth_error(
            "IncompleteSignature",
            f"The Authorization header is incomplete: {', '.join(missing)} missing.",
        )
    signed = [h.strip().lower() for h in parts["SignedHeaders"].split(";") if h.strip()]
    return algorithm, parts["Credential"], signed, parts["Signature"]


# --- replay protection --------------------------------------------------------


@dataclass
class _KeyNonces:
    """One AccessKey's nonces and when each may be forgotten (a heap, soonest first)."""

    expiry: dict[str, float] = field(default_factory=dict)
    heap: list[tuple[float, str]] = field(default_factory=list)

    def forget_expired(self, now: float) -> None:
        while self.heap and self.heap[0][0] <= now:
            expires, nonce = heapq.heappop(self.heap)
            if self.expiry.get(nonce) == expires:
                del self.expiry[nonce]


@dataclass
class NonceCache:
    """The nonces of accepted requests, per AccessKey, for as long as a replay could pass.

    A nonce is remembered until its request's timestamp leaves the accepted
    window (``expires`` = timestamp + the allowed skew): after that the
    timestamp check refuses a replay by itself. Nothing is ever dropped
    earlier, so no amount of other traffic can make a replay pass. Each key
    holds at most ``max_entries`` live nonces; a key whose cache is full gets
    ``"full"`` (its new requests are refused until some expire), which only its
    own holder can cause.
    """

    max_entries: int = 100_000
    _keys: dict[str, _KeyNonces] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, key_id: str, nonce: str, *, expires: float, now: float) -> str:
        """Record ``nonce`` for ``key_id``: ``"ok"``, ``"replay"`` (seen) or ``"full"``."""
        with self._lock:
            nonces = self._keys.setdefault(key_id, _KeyNonces())
            nonces.forget_expired(now)
            if nonce in nonces.expiry:
                return "replay"
            if len(nonces.expiry) >= self.max_entries:
                return "full"
            nonces.expiry[nonce] = expires
            heapq.heappush(nonces.heap, (expires, nonce))
            return "ok"

    def clear(self) -> None:
        """Forget everything (emulator reset)."""
        with self._lock:
            self._keys.clear()


# --- the verifier ---------------------------------------------------------------


class Verifier:
    """Authenticates requests against the seed's access keys."""

    def __init__(
        self,
        keys: Sequence[AccessKey],
        *,
        clock: Callable[[], float] = time.time,
        nonces: NonceCache | None = None,
        max_skew: float = MAX_SKEW_SECONDS,
        sessions: Sessions | None = None,
    ) -> None:
        self._keys = {k.id: k for k in keys}
        #: Credentials STS issued: valid until they expire.
        self._sessions = sessions
        self._clock = clock
        self.nonces = nonces if nonces is not None else NonceCache()
        self._max_skew = max_skew

    def verify(self, request: SignedRequest) -> Identity:
        """Return who signed ``request`` or raise :class:`AuthError`."""
        authorization = request.header("authorization")
        if authorization is not None and authorization.strip().startswith("ACS3-"):
            return self._verify_v3(request, authorization)
        if request.param("Signature") is not None:
            return self._verify_v1(request)
        if authorization is not None:
            raise auth_error(
                "UnsupportedSignatureAlgorithm",
                "The Authorization header uses an unsupported scheme; use ACS3-HMAC-SHA256.",
            )
        raise auth_error(
            "IncompleteSignature",
            "The request is not signed: neither an ACS3 Authorization header nor a "
            "Signature parameter is present.",
        )

    # V3 -----------------------------------------------------------------------

    def _verify_v3(self, request: SignedRequest, authorization: str) -> Identity:
        algorithm, key_id, signed, signature = parse_authorization(authorization)
        if algorithm != V3_ALGORITHM:
            raise auth_error(
                "UnsupportedSignatureAlgorithm",
                f"The signature algorithm {algorithm} is not supported; use {V3_ALGORITHM}.",
            )
        required = list(V3_REQUIRED_HEADERS)
        if request.body:
            required.append("content-type")
        # Every x-acs-* header present must be signed (the spec signs all
        # common headers except Authorization).
        required += [h for h in request.headers if h.startswith("x-acs-")]
        unsigned = [h for h in dict.fromkeys(required) if h not in signed]
        if unsigned:
            raise auth_error(
                "IncompleteSignature",
                f"Header(s) {', '.join(unsigned)} must be present and listed in SignedHeaders.",
            )
        absent = [h for h in signed if h not in request.headers]
        if absent:
            raise auth_error(
                "IncompleteSignature",
                f"Signed header(s) {', '.join(absent)} are missing from the request.",
            )
        header_key = request.header("x-acs-accesskey-id")
        if header_key is not None and header_key != key_id:
            raise auth_error(
                "IncompleteSignature",
                "The x-acs-accesskey-id header does not match the Credential of the "
                "Authorization header.",
            )
        key = self._key(key_id)
        self._check_token(key, request.header("x-acs-security-token"))
        stamp = self._check_time(request.header("x-acs-date") or "", "x-acs-date")
        payload_hash = hashlib.sha256(request.body).hexdigest()
        claimed_hash = (request.header("x-acs-content-sha256") or "").lower()
        if not hmac.compare_digest(claimed_hash, payload_hash):
            raise auth_error(
                "SignatureDoesNotMatch",
                "The x-acs-content-sha256 header does not match the SHA-256 of the request body.",
            )
        canonical = canonical_request_v3(
            request.method, request.path, request.query, request.headers, signed, payload_hash
        )
        expected = signature_v3(key.secret, string_to_sign_v3(canonical))
        if not hmac.compare_digest(expected, signature.lower()):
            raise auth_error("SignatureDoesNotMatch")
        self._check_nonce(key.id, request.header("x-acs-signature-nonce") or "", stamp)
        return Identity(key.id, "v3")

    # V1 -----------------------------------------------------------------------

    def _verify_v1(self, request: SignedRequest) -> Identity:
        for name in V1_REQUIRED_PARAMS:
            if not request.param(name):
                raise auth_error(
                    "IncompleteSignature",
                    f'The signature parameter "{name}" is missing from the request.',
                )
        if request.param("SignatureMethod") != "HMAC-SHA1":
            raise auth_error(
                "UnsupportedSignatureAlgorithm",
                "The specified SignatureMethod is not supported; use HMAC-SHA1.",
            )
        if request.param("SignatureVersion") != "1.0":
            raise auth_error(
                "UnsupportedSignatureAlgorithm",
                "The specified SignatureVersion is not supported; use 1.0.",
            )
        key = self._key(request.param("AccessKeyId") or "")
        self._check_token(key, request.param("SecurityToken"))
        stamp = self._check_time(request.param("Timestamp") or "", "Timestamp")
        # Every parameter the handler will read, query and form body alike: an
        # unsigned body must not add to (or override) what was signed.
        expected = signature_v1(key.secret, string_to_sign_v1(request.method, request.pairs))
        if not hmac.compare_digest(expected.encode(), (request.param("Signature") or "").encode()):
            raise auth_error("SignatureDoesNotMatch")
        self._check_nonce(key.id, request.param("SignatureNonce") or "", stamp)
        return Identity(key.id, "v1")

    # shared ---------------------------------------------------------------------

    def _key(self, key_id: str) -> AccessKey:
        key = self._keys.get(key_id)
        if key is not None:
            return key
        session = self._sessions.get(key_id) if self._sessions is not None else None
        if session is None:
            raise auth_error("InvalidAccessKeyId.NotFound")
        if self._sessions is not None and self._sessions.expired(session):
            raise auth_error("InvalidSecurityToken.Expired")
        return AccessKey(session.access_key_id, session.secret, session.security_token)

    @staticmethod
    def _check_token(key: AccessKey, token: str | None) -> None:
        if key.security_token is None:
            if token:
                raise auth_error(
                    "InvalidSecurityToken.MismatchWithAccessKey",
                    "A SecurityToken was sent with an AccessKey that is not an STS key.",
                )
            return
        if not token:
            raise auth_error(
                "InvalidSecurityToken.Malformed",
                "The specified SecurityToken is missing or malformed: STS keys need one.",
            )
        if not hmac.compare_digest(token.encode(), key.security_token.encode()):
            raise auth_error("InvalidSecurityToken.MismatchWithAccessKey")

    def _check_time(self, value: str, name: str) -> float:
        try:
            stamp = datetime.strptime(value, _TIME_FORMAT).replace(tzinfo=UTC).timestamp()
        except ValueError:
            raise auth_error(
                "InvalidTimeStamp.Format",
                f"Specified {name} is not well formatted; expected yyyy-MM-ddTHH:mm:ssZ (UTC).",
            ) from None
        if abs(self._clock() - stamp) > self._max_skew:
            raise auth_error(
                "InvalidTimeStamp.Expired",
                f"Specified {name} {value} is more than 15 minutes away from the server time.",
            )
        return stamp

    def _check_nonce(self, key_id: str, nonce: str, stamp: float) -> None:
        if not nonce or len(nonce) > MAX_NONCE:
            raise auth_error(
                "IncompleteSignature",
                f"The signature nonce must be 1 to {MAX_NONCE} characters.",
            )
        # Remembered while a replay would pass the time check: until the
        # request's timestamp is more than the allowed skew in the past.
        outcome = self.nonces.add(
            key_id, nonce, expires=stamp + self._max_skew + 1, now=self._clock()
        )
        if outcome == "replay":
            raise auth_error("SignatureNonceUsed")
        if outcome == "full":
            raise api_error(
                "Throttling.User",
                f"Request was denied due to user flow control: AccessKey {key_id} already has "
                f"{self.nonces.max_entries} signature nonces inside the 15-minute replay window, "
                "the most the emulator remembers per key. Wait for older ones to leave the "
                "window, or POST /_emulator/reset.",
            )
