"""Loading and validating the seed file (YAML or JSON).

Errors name the offending key with a path such as
``clusters[0].accounts[1].type`` so a user can find it at once. Messages never
repeat a password or secret value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

from ._logs import escape
from ._ram import DEFAULT_ACCOUNT_ID, Policy, PolicyError, parse_policy
from .polardb import rules
from .sts import seed as sts_seed
from .sts.models import OidcProvider, Role

#: Longest message a seed error prints (keys and values in it are cut shorter still).
_MAX_MESSAGE = 500


class SeedError(ValueError):
    """A malformed seed: ``path`` names the bad key, ``problem`` says what is wrong.

    The message is one printable line (control characters escaped, length bounded):
    the CLI prints it as the only line before exiting 2, whatever the seed holds.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(escape(f"{path}: {problem}" if path else problem, _MAX_MESSAGE))
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class AccessKey:
    """A key requests may be signed with; STS keys also carry a security token.

    ``policy``: the RAM policy of the key's RAM user or role (None: full access).
    """

    id: str
    secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)
    policy: Policy | None = field(default=None, repr=False, compare=False, hash=False)


BACKENDS = ("memory", "mariadb")


@dataclass(frozen=True)
class Settings:
    """Service-wide behaviour: task duration, per-cluster task quota, account backend."""

    task_seconds: float = 0.5
    concurrent_tasks_per_cluster: int = 1
    backend: str = "memory"
    #: The Alibaba Cloud account (UID) owning every cluster: the ``<account-id>`` of ARNs.
    account_id: str = DEFAULT_ACCOUNT_ID
    #: The region of the emulated KMS instance: the ``<region>`` of every secret's ARN.
    kms_region: str = "cn-hangzhou"


@dataclass(frozen=True)
class SeedAccount:
    """An account as declared in the seed (plaintext password; hashed on load)."""

    name: str
    type: str
    password: str = field(repr=False)
    lock_state: str = "UnLock"
    description: str = ""
    #: When the password expires (``YYYY-MM-DDThh:mm:ssZ``); empty: never.
    password_valid_time: str = ""


@dataclass(frozen=True)
class SeedCluster:
    """A cluster as declared in the seed."""

    id: str
    region: str
    db_type: str
    status: str = "Running"
    db_version: str = ""
    description: str = ""
    accounts: tuple[SeedAccount, ...] = ()


@dataclass(frozen=True)
class SeedSecret:
    """A KMS secret as declared in the seed: one version, current (plaintext value)."""

    name: str
    value: str = field(repr=False)
    version_id: str = "v1"
    description: str = ""


@dataclass(frozen=True)
class Seed:
    """A validated seed."""

    access_keys: tuple[AccessKey, ...]
    settings: Settings = Settings()
    clusters: tuple[SeedCluster, ...] = ()
    secrets: tuple[SeedSecret, ...] = ()
    #: STS: RAM roles by ARN (lower case) and OIDC identity providers by ARN.
    roles: Mapping[str, Role] = field(default_factory=dict)
    oidc_providers: Mapping[str, OidcProvider] = field(default_factory=dict)


_DEFAULT_DB_VERSION = {"MySQL": "8.0", "PostgreSQL": "14", "Oracle": "2.0"}


def load_seed(path: str | Path) -> Seed:
    """Read and validate a seed file; raise :class:`SeedError` when malformed."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SeedError("", f"cannot read seed file {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SeedError("", f"seed file {path} is not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SeedError("", f"seed file {path} is not valid YAML/JSON{where}") from exc
    except RecursionError:
        raise SeedError("", f"seed file {path} is nested too deeply") from None
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        # PyYAML's constructors raise these, not YAMLError, for scalars they cannot build
        # (found by fuzzing: 2001-13-14, 0000-00-00, "!!timestamp x", "!!float x").
        raise SeedError(
            "", f"seed file {path} is not valid YAML/JSON: a value cannot be read ({exc})"
        ) from None
    return parse_seed(data)


def parse_seed(data: object) -> Seed:
    """Validate an already-parsed seed document."""
    top = _mapping(
        data,
        "",
        required=("access_keys",),
        optional=("settings", "clusters", "secrets", "roles", "oidc_providers"),
    )
    keys = [
        _access_key(item, f"access_keys[{i}]")
        for i, item in enumerate(_list(top, "access_keys", ""))
    ]
    if not keys:
        raise SeedError("access_keys", "must list at least one key")
    _unique([k.id for k in keys], "access_keys", "id")
    settings = _settings(top.get("settings", {}))
    clusters = [
        _cluster(item, f"clusters[{i}]")
        for i, item in enumerate(_list(top, "clusters", "", default=[]))
    ]
    _unique([c.id for c in clusters], "clusters", "id")
    secrets = [
        _secret(item, f"secrets[{i}]")
        for i, item in enumerate(_list(top, "secrets", "", default=[]))
    ]
    _unique([s.name for s in secrets], "secrets", "name")
    roles = sts_seed.parse_roles(top.get("roles"), settings.account_id, _fail)
    providers = sts_seed.parse_oidc_providers(top.get("oidc_providers"), settings.account_id, _fail)
    return Seed(tuple(keys), settings, tuple(clusters), tuple(secrets), roles, providers)


def _fail(path: str, problem: str) -> NoReturn:
    raise SeedError(path, problem)


#: A secret's name and version ID as KMS takes them (see kms/models.py).
_SECRET_NAME = re.compile(r"[A-Za-z0-9_/+=.@-]{1,192}")
_VERSION_ID = re.compile(r"[\x21-\x7e]{1,64}")


def _secret(item: object, path: str) -> SeedSecret:
    m = _mapping(item, path, required=("name", "value"), optional=("version_id", "description"))
    name = _str(m, "name", path)
    if not _SECRET_NAME.fullmatch(name):
        raise SeedError(f"{path}.name", "must be 1 to 192 letters, digits and _/+=.@- characters")
    version_id = _opt_str(m, "version_id", path) or SeedSecret.version_id
    if not _VERSION_ID.fullmatch(version_id):
        raise SeedError(f"{path}.version_id", "must be 1 to 64 printable ASCII characters")
    return SeedSecret(
        name=name,
        value=_str(m, "value", path),
        version_id=version_id,
        description=_opt_str(m, "description", path) or "",
    )


def _access_key(item: object, path: str) -> AccessKey:
    m = _mapping(item, path, required=("id", "secret"), optional=("security_token", "policy"))
    token = _opt_str(m, "security_token", path)
    policy = None
    if m.get("policy") is not None:
        try:
            policy = parse_policy(m["policy"])
        except PolicyError as exc:
            raise SeedError(_join(f"{path}.policy", exc.path), exc.problem) from None
    return AccessKey(_str(m, "id", path), _str(m, "secret", path), token, policy)


def _settings(item: object) -> Settings:
    m = _mapping(
        item,
        "settings",
        optional=(
            "task_seconds",
            "concurrent_tasks_per_cluster",
            "backend",
            "account_id",
            "kms_region",
        ),
    )
    seconds = m.get("task_seconds", Settings.task_seconds)
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)  # .nan and .inf: tasks that never (or at once) end
        or seconds < 0
    ):
        raise SeedError("settings.task_seconds", "must be a finite number >= 0")
    quota = m.get("concurrent_tasks_per_cluster", Settings.concurrent_tasks_per_cluster)
    if isinstance(quota, bool) or not isinstance(quota, int) or quota < 1:
        raise SeedError("settings.concurrent_tasks_per_cluster", "must be an integer >= 1")
    backend = _choice(m, "backend", "settings", BACKENDS, default=Settings.backend)
    account = m.get("account_id", Settings.account_id)
    if isinstance(account, int) and not isinstance(account, bool) and account >= 0:
        account = str(account)  # YAML reads an unquoted UID as a number
    if not isinstance(account, str) or not (account.isascii() and account.isdigit()):
        raise SeedError("settings.account_id", "must be the account's UID: 1 to 32 digits")
    if len(account) > 32:
        raise SeedError("settings.account_id", "must be the account's UID: 1 to 32 digits")
    kms_region = m.get("kms_region", Settings.kms_region)
    if not isinstance(kms_region, str) or not re.fullmatch(r"[a-z0-9-]{1,64}", kms_region):
        raise SeedError("settings.kms_region", "must be a region ID such as cn-hangzhou")
    return Settings(float(seconds), quota, backend, account, kms_region)


def parse_cluster(item: object, path: str = "cluster") -> SeedCluster:
    """Validate one cluster in seed format (also used by the admin API)."""
    return _cluster(item, path)


def _cluster(item: object, path: str) -> SeedCluster:
    m = _mapping(
        item,
        path,
        required=("id", "region", "db_type"),
        optional=("status", "accounts", "db_version", "description"),
    )
    cluster_id = _str(m, "id", path)
    if not rules.is_cluster_id(cluster_id):
        raise SeedError(f"{path}.id", "must be 'pc-' followed by lowercase letters and digits")
    db_type = _choice(m, "db_type", path, rules.DB_TYPES)
    status = _choice(m, "status", path, rules.CLUSTER_STATUSES, default="Running")
    accounts = [
        _account(a, f"{path}.accounts[{j}]")
        for j, a in enumerate(_list(m, "accounts", path, default=[]))
    ]
    _unique([a.name for a in accounts], f"{path}.accounts", "name")
    supers = [j for j, a in enumerate(accounts) if a.type == "Super"]
    if db_type == "MySQL" and len(supers) > 1:
        raise SeedError(
            f"{path}.accounts[{supers[1]}].type",
            "a MySQL cluster can have at most one Super (privileged) account",
        )
    return SeedCluster(
        id=cluster_id,
        region=_str(m, "region", path),
        db_type=db_type,
        status=status,
        db_version=_opt_str(m, "db_version", path) or _DEFAULT_DB_VERSION[db_type],
        description=_opt_str(m, "description", path) or cluster_id,
        accounts=tuple(accounts),
    )


def _account(item: object, path: str) -> SeedAccount:
    m = _mapping(
        item,
        path,
        required=("name", "type", "password"),
        optional=("lock_state", "description", "password_valid_time"),
    )
    name = _str(m, "name", path)
    problem = rules.account_name_problem(name)
    if problem:
        raise SeedError(f"{path}.name", problem)
    password = _str(m, "password", path)
    problem = rules.password_problem(password)
    if problem:
        raise SeedError(f"{path}.password", problem)
    valid_time = _opt_str(m, "password_valid_time", path) or ""
    if valid_time and rules.parse_valid_time(valid_time) is None:
        raise SeedError(f"{path}.password_valid_time", "must be a UTC time as YYYY-MM-DDThh:mm:ssZ")
    return SeedAccount(
        name=name,
        type=_choice(m, "type", path, rules.ACCOUNT_TYPES),
        password=password,
        lock_state=_choice(m, "lock_state", path, rules.LOCK_STATES, default="UnLock"),
        description=_opt_str(m, "description", path) or "",
        password_valid_time=valid_time,
    )


# --- small typed readers ---------------------------------------------------


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _mapping(
    item: object,
    path: str,
    required: Sequence[str] = (),
    optional: Sequence[str] = (),
) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise (
            SeedError(path, "must be a mapping")
            if path
            else SeedError("", "the seed must be a mapping")
        )
    for key in item:
        if not isinstance(key, str) or key not in (*required, *optional):
            raise SeedError(_join(path, escape(key, 64)), "unknown key")
    for key in required:
        if key not in item:
            raise SeedError(_join(path, key), "is required")
    return item


def _list(m: Mapping[str, Any], key: str, path: str, default: list[Any] | None = None) -> list[Any]:
    value = m.get(key, default)
    if not isinstance(value, list):
        raise SeedError(_join(path, key), "must be a list")
    return value


def _str(m: Mapping[str, Any], key: str, path: str) -> str:
    value = m.get(key)
    if not isinstance(value, str) or not value:
        raise SeedError(_join(path, key), "must be a non-empty string")
    return value


def _opt_str(m: Mapping[str, Any], key: str, path: str) -> str | None:
    if m.get(key) is None:
        return None
    value = m[key]
    if not isinstance(value, str):
        raise SeedError(_join(path, key), "must be a string")
    return value


def _choice(
    m: Mapping[str, Any], key: str, path: str, choices: Sequence[str], default: str | None = None
) -> str:
    value = m.get(key, default)
    if value not in choices:
        raise SeedError(_join(path, key), f"must be one of {', '.join(choices)}")
    assert isinstance(value, str)
    return value


def _unique(values: Sequence[str], path: str, key: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise SeedError(f"{path}[{i}].{key}", f"duplicate value {value!r}")
        seen.add(value)
