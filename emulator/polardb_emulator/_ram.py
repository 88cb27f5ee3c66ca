"""RAM policies: which signed requests an AccessKey may make.

An AccessKey of the seed may carry a RAM policy document (the JSON users attach to a RAM
user or role)::

    {"Version": "1",
     "Statement": [{"Effect": "Allow",
                    "Action": ["polardb:Describe*", "polardb:ResetAccount"],
                    "Resource": "acs:polardb:*:*:dbcluster/pc-abc"}]}

After its signature is verified, every request is authorised as RAM does: the action is
``<service>:<Action>`` (``polardb:ResetAccount``, ``kms:GetSecretValue``), the resource the
ARN of what the request names, as each service's ``responses.resource_arn`` builds it
(``acs:polardb:<region>:<account-id>:dbcluster/<DBClusterId>``,
``acs:kms:<region>:<account-id>:secret/<SecretName>``); an explicit ``Deny``
wins, else an ``Allow`` is needed, else the request is implicitly denied. A refusal is
``403 Forbidden.RAM`` naming the action and the resource, as Alibaba Cloud's newer
answers do (:func:`forbidden`). A key without a policy has full access (like an account's
own AccessKey).

Matching: ``*`` in a pattern stands for any run of characters (``:`` and ``/``
included); action names are compared case-insensitively, resources exactly. Supported
elements: ``Effect``, ``Action`` / ``NotAction``, ``Resource`` / ``NotResource``; a
``Condition`` is refused (the emulator cannot evaluate one, and ignoring it would grant
more than RAM does).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._exceptions import ApiError
from ._logs import escape

#: RAM's limit on a custom policy document, in characters (of its JSON).
MAX_DOCUMENT_CHARS = 6144
#: The Alibaba Cloud account (UID) that owns every cluster, unless the seed says otherwise.
DEFAULT_ACCOUNT_ID = "1234567890123456"
FORBIDDEN_MESSAGE = "You are not authorized to do this action."
_EFFECTS = ("Allow", "Deny")
_STATEMENT_KEYS = ("Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")


class PolicyError(ValueError):
    """A policy document RAM would refuse (or the emulator cannot evaluate).

    ``path`` names the element (``Statement[0].Action``), ``problem`` what is wrong; both
    printable (element names come from the document: found by fuzzing, a key holding a
    newline made a two-line message).
    """

    def __init__(self, path: str, problem: str) -> None:
        path = escape(path, 200)
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Statement:
    """One statement: its effect, what it covers (or excludes) and where."""

    effect: str
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool

    def covers(self, action: str, resource: str) -> bool:
        """Whether this statement applies to ``action`` on ``resource``."""
        action_hit = any(matches(p, action, ignore_case=True) for p in self.actions)
        resource_hit = any(matches(p, resource) for p in self.resources)
        return (action_hit != self.not_action) and (resource_hit != self.not_resource)


@dataclass(frozen=True)
class Policy:
    """A parsed policy document; ``document`` is the JSON the user gave, for display."""

    statements: tuple[Statement, ...]
    document: Mapping[str, Any]

    def decide(self, action: str, resource: str) -> str:
        """``"Allow"``, ``"ExplicitDeny"`` (a Deny statement applies: it wins) or
        ``"ImplicitDeny"`` (no statement allows)."""
        applying = [s.effect for s in self.statements if s.covers(action, resource)]
        if "Deny" in applying:
            return "ExplicitDeny"
        return "Allow" if "Allow" in applying else "ImplicitDeny"


def matches(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """Whether ``text`` matches ``pattern``, where ``*`` stands for any run of characters.

    The classic two-pointer wildcard match: at worst proportional to
    ``len(pattern) * len(text)``, never exponential however many ``*`` a pattern holds
    (a regular expression of ``.*`` runs can backtrack exponentially).
    """
    if ignore_case:
        pattern, text = pattern.casefold(), text.casefold()
    p = t = 0
    star = -1  # position of the last '*' seen in the pattern
    resume = 0  # where in the text that '*' currently stops
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            star, resume = p, t
            p += 1
        elif p < len(pattern) and pattern[p] == text[t]:
            p += 1
            t += 1
        elif star >= 0:
            p = star + 1
            resume += 1
            t = resume
        else:
            return False
    return all(c == "*" for c in pattern[p:])


# --- parsing ----------------------------------------------------------------------------


def parse_policy(document: object) -> Policy:
    """Validate a policy document; raise :class:`PolicyError` naming the bad element."""
    if not isinstance(document, Mapping):
        raise PolicyError("", "a policy must be a JSON object with Version and Statement")
    try:
        size = len(json.dumps(document, separators=(",", ":")))
    except (TypeError, ValueError):
        raise PolicyError("", "a policy must be plain JSON (strings, lists, objects)") from None
    if size > MAX_DOCUMENT_CHARS:
        raise PolicyError("", f"the document is {size} characters; RAM allows {MAX_DOCUMENT_CHARS}")
    unknown = sorted(str(k) for k in document if k not in ("Version", "Statement"))
    if unknown:
        raise PolicyError(unknown[0][:64], "unknown element (a policy has Version and Statement)")
    if document.get("Version") != "1":
        raise PolicyError("Version", 'must be "1" (a string: quote it in YAML)')
    statements = document.get("Statement")
    if not isinstance(statements, list) or not statements:
        raise PolicyError("Statement", "must be a non-empty list of statements")
    parsed = tuple(_statement(s, f"Statement[{i}]") for i, s in enumerate(statements))
    return Policy(parsed, document)


def _statement(item: object, path: str) -> Statement:
    if not isinstance(item, Mapping):
        raise PolicyError(path, "must be an object with Effect, Action and Resource")
    unknown = sorted(str(k) for k in item if k not in _STATEMENT_KEYS)
    if unknown:
        raise PolicyError(f"{path}.{unknown[0][:64]}", "unknown element")
    if "Condition" in item:
        raise PolicyError(
            f"{path}.Condition",
            "conditions are not supported by the emulator (it cannot "
            "evaluate them, and ignoring one would grant more than RAM does)",
        )
    effect = item.get("Effect")
    if effect not in _EFFECTS:
        raise PolicyError(f"{path}.Effect", "must be Allow or Deny")
    action_key = _one_of(item, path, "Action", "NotAction")
    resource_key = _one_of(item, path, "Resource", "NotResource")
    actions = _patterns(item[action_key], f"{path}.{action_key}", _check_action)
    resources = _patterns(item[resource_key], f"{path}.{resource_key}", _check_resource)
    return Statement(
        effect=str(effect),
        actions=actions,
        not_action=action_key == "NotAction",
        resources=resources,
        not_resource=resource_key == "NotResource",
    )


def _one_of(item: Mapping[str, Any], path: str, key: str, other: str) -> str:
    if (key in item) == (other in item):
        raise PolicyError(f"{path}.{key}", f"a statement has exactly one of {key} and {other}")
    return key if key in item else other


def _patterns(value: object, path: str, check: Callable[[str, str], None]) -> tuple[str, ...]:
    items: Sequence[object]
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, list) and value:
        items = value
    else:
        raise PolicyError(path, "must be a string or a non-empty list of strings")
    for i, pattern in enumerate(items):
        if not isinstance(pattern, str) or not pattern:
            raise PolicyError(f"{path}[{i}]", "must be a non-empty string")
        check(pattern, f"{path}[{i}]")
    return tuple(str(p) for p in items)


def _check_action(pattern: str, path: str) -> None:
    if pattern != "*" and ":" not in pattern:
        raise PolicyError(path, "must be '*' or '<service>:<action>' (e.g. polardb:ResetAccount)")


def _check_resource(pattern: str, path: str) -> None:
    if pattern != "*" and not pattern.startswith("acs:"):
        raise PolicyError(path, "must be '*' or an ARN starting with 'acs:'")


# --- authorising a request ----------------------------------------------------------------


def action_name(service: str, action: str) -> str:
    """The RAM action of an API action: ``polardb:ResetAccount``, ``kms:GetSecretValue``."""
    return f"{service}:{action}"


def forbidden(
    *, action: str, resource: str, decision: str, key_id: str, account_id: str
) -> ApiError:
    """``403 Forbidden.RAM`` naming the action and resource (message and AccessDeniedDetail)."""
    error = ApiError(
        "Forbidden.RAM",
        f"{FORBIDDEN_MESSAGE} Resource: {resource} Action: {action}",
        403,
    )
    error.extra = {
        "AccessDeniedDetail": {
            "AuthAction": action,
            "AuthResource": resource,
            "NoPermissionType": decision,
            "PolicyType": "AccountLevelIdentityBasedPolicy",
            "AuthPrincipalType": "SubUser",
            "AuthPrincipalOwnerId": account_id,
            "AuthPrincipalDisplayName": key_id,
        }
    }
    return error
