"""A test OIDC issuer: an RSA key, its JWKS for the seed, and signed identity tokens.

What a CI system's identity provider does for a pipeline (GitHub Actions' ``id-token: write``,
GitLab's ``id_tokens``), for offline tests: the seed's ``oidc_providers`` entry trusts
:meth:`OidcIssuer.jwks`, and :meth:`OidcIssuer.token` writes what the pipeline would put in
``ALIBABA_CLOUD_OIDC_TOKEN_FILE``.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


class OidcIssuer:
    """Signs RS256 identity tokens as ``issuer`` (GitHub's issuer URL by default)."""

    def __init__(self, issuer: str = "https://token.actions.githubusercontent.com") -> None:
        self.issuer = issuer
        self.kid = uuid.uuid4().hex[:16]
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        """The public key set, as the issuer publishes it (for the seed)."""
        public: dict[str, Any] = json.loads(
            jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key())
        )
        public.update(kid=self.kid, use="sig", alg="RS256")
        return {"keys": [public]}

    def token(
        self,
        *,
        sub: str,
        aud: str = "sts.aliyuncs.com",
        expires_in: float = 600,
        issuer: str | None = None,
        **claims: Any,
    ) -> str:
        """A signed token for ``sub`` and ``aud``, valid ``expires_in`` seconds (negative:
        already expired); ``issuer`` overrides the issuer claim."""
        now = int(time.time())
        payload = {
            "iss": issuer or self.issuer,
            "sub": sub,
            "aud": aud,
            "iat": now,
            "nbf": now - 5,
            "exp": int(now + expires_in),
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})
