"""The seed's ``roles`` and ``oidc_providers`` sections::

    oidc_providers:
      - name: github
        issuer: https://token.actions.githubusercontent.com
        client_ids: [sts.aliyuncs.com]
        jwks: {keys: [{kty: RSA, kid: ..., n: ..., e: AQAB}]}   # or jwks_file: path
    roles:
      - name: polardb-reset-ci
        max_session_seconds: 3600
        trust_policy: {Version: "1", Statement: [...]}          # see .models
        policy: {Version: "1", Statement: [...]}                # what its sessions may do

Problems raise ``ValueError(path, problem)`` pairs through ``fail`` (the seed loader's
:class:`SeedError`), naming the key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

from .._ram import PolicyError, parse_policy
from .models import (
    CONDITION_KEYS,
    CONDITION_OPERATORS,
    DEFAULT_SESSION_SECONDS,
    MIN_SESSION_SECONDS,
    OidcProvider,
    Role,
    TrustStatement,
    oidc_provider_arn,
    role_arn,
)

Fail = Callable[[str, str], NoReturn]


def _strings(value: object, path: str, fail: Fail) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
        fail(path, "must be a string or a non-empty list of strings")
    return tuple(items)


def _named_entries(
    raw: object, section: str, keys: str, fail: Fail
) -> Iterator[tuple[str, Mapping[str, Any], str]]:
    """Each entry of the list ``section`` (None: none) as ``(path, mapping, name)``."""
    if raw is None:
        return
    if not isinstance(raw, list):
        fail(section, "must be a list")
    for i, item in enumerate(raw):
        path = f"{section}[{i}]"
        if not isinstance(item, Mapping):
            fail(path, f"must be a mapping with {keys}")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            fail(f"{path}.name", "is required")
        yield path, item, name


def parse_oidc_providers(raw: object, account_id: str, fail: Fail) -> dict[str, OidcProvider]:
    """The ``oidc_providers`` list, by ARN."""
    found: dict[str, OidcProvider] = {}
    keys = "name, issuer, client_ids and jwks"
    for path, item, name in _named_entries(raw, "oidc_providers", keys, fail):
        issuer = item.get("issuer")
        if not isinstance(issuer, str) or not issuer.startswith("https://"):
            fail(f"{path}.issuer", "must be the issuer's https:// URL")
        client_ids = _strings(item.get("client_ids"), f"{path}.client_ids", fail)
        jwks: Any = item.get("jwks")
        if "jwks_file" in item:
            try:
                jwks = json.loads(Path(str(item["jwks_file"])).read_text())
            except (OSError, ValueError) as exc:
                fail(f"{path}.jwks_file", f"cannot read a JWKS document: {type(exc).__name__}")
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
            fail(f"{path}.jwks", 'must be a JWKS document {"keys": [...]}')
        arn = oidc_provider_arn(account_id, name)
        found[arn] = OidcProvider(name, arn, issuer, client_ids, jwks)
    return found


def _trust_statement(item: object, path: str, fail: Fail) -> TrustStatement | None:
    if not isinstance(item, Mapping):
        fail(path, "must be an object with Effect, Action, Principal")
    if item.get("Effect") != "Allow":
        return None  # a Deny statement of a trust policy only narrows: nothing to admit
    actions = _strings(item.get("Action"), f"{path}.Action", fail)
    if not any(a.lower() in ("sts:assumerole", "sts:*", "*") for a in actions):
        return None
    principal = item.get("Principal")
    if not isinstance(principal, Mapping) or not principal:
        fail(f"{path}.Principal", "must name RAM or Federated principals")
    unknown = sorted(str(k) for k in principal if k not in ("RAM", "Federated", "Service"))
    if unknown:
        fail(f"{path}.Principal.{unknown[0][:64]}", "unknown principal type")
    ram = _strings(principal["RAM"], f"{path}.Principal.RAM", fail) if "RAM" in principal else ()
    federated = (
        _strings(principal["Federated"], f"{path}.Principal.Federated", fail)
        if "Federated" in principal
        else ()
    )
    conditions: list[tuple[str, str, tuple[str, ...]]] = []
    raw_conditions = item.get("Condition", {})
    if not isinstance(raw_conditions, Mapping):
        fail(f"{path}.Condition", "must be an object of operators")
    for operator, tests in raw_conditions.items():
        if operator not in CONDITION_OPERATORS:
            fail(
                f"{path}.Condition.{str(operator)[:64]}",
                f"the emulator evaluates only {' and '.join(CONDITION_OPERATORS)} (ignoring "
                "another operator would trust more than RAM does)",
            )
        if not isinstance(tests, Mapping):
            fail(f"{path}.Condition.{operator}", "must map condition keys to values")
        for key, values in tests.items():
            if key not in CONDITION_KEYS:
                fail(
                    f"{path}.Condition.{operator}.{str(key)[:64]}",
                    f"the emulator knows the keys {', '.join(CONDITION_KEYS)}",
                )
            conditions.append(
                (operator, key, _strings(values, f"{path}.Condition.{operator}.{key}", fail))
            )
    return TrustStatement(ram, federated, tuple(conditions))


def parse_roles(raw: object, account_id: str, fail: Fail) -> dict[str, Role]:
    """The ``roles`` list, by ARN (lower case)."""
    found: dict[str, Role] = {}
    keys = "name, trust_policy and policy"
    for path, item, name in _named_entries(raw, "roles", keys, fail):
        trust_doc = item.get("trust_policy")
        if not isinstance(trust_doc, Mapping) or not isinstance(trust_doc.get("Statement"), list):
            fail(f"{path}.trust_policy", "must be a policy document with a Statement list")
        trust = tuple(
            s
            for j, st in enumerate(trust_doc["Statement"])
            if (s := _trust_statement(st, f"{path}.trust_policy.Statement[{j}]", fail))
        )
        policy = None
        if item.get("policy") is not None:
            try:
                policy = parse_policy(item["policy"])
            except PolicyError as exc:
                fail(f"{path}.policy.{exc.path}".rstrip("."), exc.problem)
        seconds = item.get("max_session_seconds", DEFAULT_SESSION_SECONDS)
        if not isinstance(seconds, int) or not MIN_SESSION_SECONDS <= seconds <= 43200:
            fail(f"{path}.max_session_seconds", "must be 900 to 43200 seconds")
        arn = role_arn(account_id, name)
        found[arn] = Role(name, arn, trust, policy, seconds)
    return found
