"""The resource's properties: one field table that every listing is derived from.

Each :class:`Field` carries what an engine needs: the snake_case ``name`` (the dynamic
resource's property name and the key in every stack's state: a stored promise, never
renamed), the ``camel`` name (the native plugin's schema, stack config targets), the schema
``kind``, the Python annotation, secret-ness, the default, a description, the input's
validator and the conversion of its recorded value. The resource class's arguments
(generated), the targets' config keys, validation and the conversion of property maps
(:mod:`._convert`) all read :data:`INPUT_FIELDS` and :data:`OUTPUT_FIELDS`;
``tests/unit/test_field_table.py`` checks that :class:`~._state.ResetInputs` and
:class:`~._state.ResetState` agree with them. Adding an input is the recipe in
docs/architecture.md: a row here, its validator, its field in the dataclass, its docs line.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from . import _validation as v
from ._quote import quote
from ._validation import DEFAULT_SQL_PORT as DEFAULT_SQL_PORT
from ._validation import MAX_PASSWORD_EXPIRY_WARNING_DAYS as MAX_PASSWORD_EXPIRY_WARNING_DAYS
from ._validation import MAX_TIMEOUT_SECONDS as MAX_TIMEOUT_SECONDS

#: Schema types (Pulumi package schema spelling).
Kind = Literal["string", "integer", "boolean", "array"]
#: Says what is wrong with an input's value (a sentence naming the fix), or None when it is good.
Validator = Callable[[Any], "str | None"]
#: Turns a plain value from a property map (secret wrapper removed) into the typed value,
#: leniently: a value of the wrong kind gives the field's fallback, never an exception.
Reader = Callable[[Any], Any]


# -- lenient readers (the conversion of one value; validation reports bad inputs) --------


def text(value: Any) -> str | None:
    """An input's text: a value of the wrong kind still compares unequal to a different one.

    A list or map (never valid, check refuses it) is its bounded quote: ``str`` of a struct
    nested 1000 levels deep would raise RecursionError.
    """
    if value is None or isinstance(value, str):
        return value
    return str(value) if isinstance(value, int | float) else quote(value)


def required_text(value: Any) -> str:
    """A required input's or recorded ID part's text, ``""`` when missing."""
    return text(value) or ""


def only_text(value: Any) -> str | None:
    """A recorded string, None for anything else."""
    return value if isinstance(value, str) else None


def only_flag(value: Any) -> bool | None:
    """A recorded boolean, None for anything else (``"false"`` is no result)."""
    return value if isinstance(value, bool) else None


def true_flag(value: Any) -> bool:
    """A recorded opt-in: only ``True`` is true."""
    return value is True


def whole(default: int, *, minimum: int | None = None) -> Reader:
    """A whole number (the engine carries ``7`` as ``7.0``), else ``default``."""

    def read(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return default
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            return default
        number = int(value)
        return default if minimum is not None and number < minimum else number

    return read


def flag(default: bool) -> Reader:
    """A boolean input, ``default`` when missing (absent in a state written before it)."""

    def read(value: Any) -> bool:
        return default if value is None else bool(value)

    return read


def count(value: Any) -> int:
    """A recorded counter (some engines wrote it as a digit string), else 0."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return int(whole(0)(value))


def nonce_key(value: Any) -> str | None:
    """The nonce ``value`` stands for, for comparison: 7, 7.0 and "7" are one nonce."""
    if value is None:
        return None
    nonce = v.nonce_text(value)
    return nonce if nonce is not None else text(value)


def names(value: Any) -> tuple[str, ...] | None:
    """A recorded list of names; anything else (a hand-edited state) is no list of names."""
    return tuple(str(m) for m in value) if isinstance(value, list | tuple) else None


@dataclass(frozen=True)
class Field:
    """One property of the resource (see the module docstring)."""

    name: str
    camel: str
    kind: Kind
    #: The Python type of the value, as the resource class annotates it (``str | int``).
    python: str
    description: str
    secret: bool = False
    required: bool = False
    default: object = None
    #: Settable from a stack config target (``polardb-reset:targets``); secrets never are.
    target: bool = True
    #: An output (``OUTPUT_FIELDS``) that the resource class does not show as an attribute.
    internal: bool = False
    #: The input's validator (inputs only; see :mod:`._validation`).
    validate: Validator | None = None
    #: The conversion of the value from a property map to the typed value.
    read: Reader = text
    #: The attribute of :class:`~._state.ResetInputs` or :class:`~._state.ResetState` that
    #: holds the value ("" for ``name``; ``check.x`` for the SQL check's record).
    attr: str = ""

    @property
    def attribute(self) -> str:
        """The dataclass attribute holding the value (see ``attr``)."""
        return self.attr or self.name


# Inputs.
DB_CLUSTER_ID: Final = "db_cluster_id"
ACCOUNT_NAME: Final = "account_name"
ACCOUNT_PASSWORD: Final = "account_password"  # noqa: S105 - a property name, not a secret
RESET_NONCE: Final = "reset_nonce"
TIMEOUT_SECONDS: Final = "timeout_seconds"
REGION: Final = "region"
ENDPOINT: Final = "endpoint"
CHECK_PRIVILEGES: Final = "check_privileges"
SQL_ENDPOINT: Final = "sql_endpoint"
CHECK_PASSWORD: Final = "check_password"  # noqa: S105 - a property name, not a secret
UNLOCK: Final = "unlock"
PASSWORD_EXPIRY_WARNING_DAYS: Final = "password_expiry_warning_days"  # noqa: S105 - a name
ACCOUNT_PASSWORD_SECRET: Final = "account_password_secret"  # noqa: S105 - a name
ACCOUNT_PASSWORD_SECRET_STAGE: Final = "account_password_secret_stage"  # noqa: S105 - a name

# Outputs (besides the inputs above, minus the plaintext password).
PASSWORD_FINGERPRINT: Final = "account_password_fingerprint"  # noqa: S105
LAST_RESET_AT: Final = "last_reset_at"
LAST_RESET_REQUEST_ID: Final = "last_reset_request_id"
RESET_COUNT: Final = "reset_count"
ACCOUNT_STATUS: Final = "account_status"
ACCOUNT_TYPE: Final = "account_type"
ACCOUNT_LOCK_STATE: Final = "account_lock_state"
EFFECTIVE_REGION: Final = "effective_region"
EFFECTIVE_ENDPOINT: Final = "effective_endpoint"
# The SQL check (permission drift). States written before it have none of these, which
# every reader takes as "not checked" (None), never as drift.
PRIVILEGES_OK: Final = "privileges_ok"
MISSING_PRIVILEGES: Final = "missing_privileges"
PRIVILEGES_CHECKED_AT: Final = "privileges_checked_at"
PASSWORD_OK: Final = "password_ok"  # noqa: S105
PRIVILEGES_CHECK_CAUSE: Final = "privileges_check_cause"
# The password the check logs in with (the managed account_password, else check_password),
# kept as a secret because refresh (read) sees only the outputs.
SQL_CHECK_PASSWORD: Final = "sql_check_password"  # noqa: S105
# Account health beyond grants (DescribeAccounts). States written before them have none,
# which readers take as "not known" (None), never as a locked account.
ACCOUNT_LOCKED: Final = "account_locked"
PASSWORD_EXPIRES_AT: Final = "password_expires_at"  # noqa: S105 - an output name
# The KMS secret's versions: the one the last reset applied, and the one its stage pointed
# to at the last refresh (a difference is rotation drift). IDs only, never the value.
SECRET_VERSION: Final = "account_password_secret_version"  # noqa: S105 - an output name
SECRET_LATEST_VERSION: Final = "account_password_secret_latest_version"  # noqa: S105
DEFAULT_SECRET_STAGE: Final = "ACSCurrent"  # noqa: S105 - KMS's stage name

DEFAULT_TIMEOUT_SECONDS: Final = 900
DEFAULT_CHECK_PRIVILEGES: Final = True
DEFAULT_UNLOCK: Final = False
DEFAULT_PASSWORD_EXPIRY_WARNING_DAYS: Final = 14

INPUT_FIELDS: Final = (
    Field(
        DB_CLUSTER_ID,
        "dbClusterId",
        "string",
        "str",
        "ID of the PolarDB for MySQL cluster, e.g. ``pc-bp1...``.",
        required=True,
        validate=v.validate_db_cluster_id,
        read=required_text,
    ),
    Field(
        ACCOUNT_NAME,
        "accountName",
        "string",
        "str",
        "Name of the cluster's privileged (Super) account.",
        required=True,
        validate=v.validate_account_name,
        read=required_text,
    ),
    Field(
        ACCOUNT_PASSWORD,
        "accountPassword",
        "string",
        "str",
        "New password to set with the reset (optional; always stored as a secret). Setting "
        "or changing it triggers a reset; removing it does not.",
        secret=True,
        target=False,
        validate=v.validate_account_password,
        read=text,
    ),
    Field(
        RESET_NONCE,
        "resetNonce",
        "string",
        "str | int",
        'A string or a whole number (stored as its decimal string, so ``1`` and ``"1"`` are '
        "the same nonce); each change triggers one reset (like ``triggers``).",
        validate=v.validate_reset_nonce,
        read=nonce_key,
    ),
    Field(
        TIMEOUT_SECONDS,
        "timeoutSeconds",
        "integer",
        "int",
        f"Deadline of one operation, retries and waits included (default "
        f"{DEFAULT_TIMEOUT_SECONDS}).",
        default=DEFAULT_TIMEOUT_SECONDS,
        validate=v.validate_timeout_seconds,
        read=whole(DEFAULT_TIMEOUT_SECONDS),
    ),
    Field(
        REGION,
        "region",
        "string",
        "str",
        "Region override (else ``alicloud:region``, ``ALIBABA_CLOUD_REGION``).",
        validate=v.validate_region,
        read=text,
    ),
    Field(
        ENDPOINT,
        "endpoint",
        "string",
        "str",
        "Endpoint override, ``[http(s)://]host[:port]`` (else "
        "``ALIBABA_CLOUD_ENDPOINT_POLARDB``, ``alicloud:endpoints``, the SDK's mapping).",
        validate=v.validate_endpoint,
        read=text,
    ),
    Field(
        CHECK_PRIVILEGES,
        "checkPrivileges",
        "boolean",
        "bool",
        "Check the account's privileges (and the managed password) over SQL after every "
        "reset and on refresh (default true); drift found by refresh makes the next "
        "``pulumi up`` reset the account.",
        default=DEFAULT_CHECK_PRIVILEGES,
        validate=v.validate_check_privileges,
        read=flag(DEFAULT_CHECK_PRIVILEGES),
    ),
    Field(
        SQL_ENDPOINT,
        "sqlEndpoint",
        "string",
        "str",
        "The SQL address to check, ``host:port`` (default: the cluster endpoint from "
        "DescribeDBClusterEndpoints).",
        validate=v.validate_sql_endpoint,
        read=text,
    ),
    Field(
        CHECK_PASSWORD,
        "checkPassword",
        "string",
        "str",
        "The account's current password, for the check to log in with when "
        "``account_password`` is not set (always stored as a secret; never set by a reset, "
        "so changing it triggers none).",
        secret=True,
        target=False,
        validate=v.validate_check_password,
        read=text,
    ),
    Field(
        UNLOCK,
        "unlock",
        "boolean",
        "bool",
        "Unlock the account when it is locked (default false): a locked account is then "
        "drift, and ``pulumi up`` calls ModifyAccountLockState to unlock it (keeping its "
        "password's validity time; needs ``polardb:ModifyAccountLockState``) before the "
        "privilege check. Without it a locked account is reported, never changed.",
        default=DEFAULT_UNLOCK,
        validate=v.validate_unlock,
        read=flag(DEFAULT_UNLOCK),
    ),
    Field(
        PASSWORD_EXPIRY_WARNING_DAYS,
        "passwordExpiryWarningDays",
        "integer",
        "int",
        "Warn when the account's password expires within this many days (default "
        f"{DEFAULT_PASSWORD_EXPIRY_WARNING_DAYS}; 0: only once it has expired).",
        default=DEFAULT_PASSWORD_EXPIRY_WARNING_DAYS,
        validate=v.validate_password_expiry_warning_days,
        read=whole(DEFAULT_PASSWORD_EXPIRY_WARNING_DAYS),
    ),
    Field(
        ACCOUNT_PASSWORD_SECRET,
        "accountPasswordSecret",
        "string",
        "str",
        "Name of the KMS Secrets Manager secret holding the password to set (instead of "
        "``account_password``: set one of them). The value is read with GetSecretValue at "
        "each reset and refresh and never stored; a new version at the stage (a rotation) "
        "is drift, applied by the next ``pulumi up --refresh``. Needs "
        "``kms:GetSecretValue`` on the secret.",
        validate=v.validate_account_password_secret,
        read=text,
    ),
    Field(
        ACCOUNT_PASSWORD_SECRET_STAGE,
        "accountPasswordSecretStage",
        "string",
        "str",
        "The version stage of ``account_password_secret`` to use (default ``ACSCurrent``).",
        validate=v.validate_account_password_secret_stage,
        read=text,
    ),
)


def _out(
    name: str,
    camel: str,
    kind: Kind,
    python: str,
    description: str,
    read: Reader,
    *,
    secret: bool = False,
    internal: bool = False,
    attr: str = "",
) -> Field:
    return Field(
        name, camel, kind, python, description, secret, internal=internal, read=read, attr=attr
    )


OUTPUT_FIELDS: Final = (
    _out(
        DB_CLUSTER_ID, "dbClusterId", "string", "str", "ID of the PolarDB cluster.", required_text
    ),
    _out(
        ACCOUNT_NAME,
        "accountName",
        "string",
        "str",
        "Name of the privileged account.",
        required_text,
    ),
    _out(
        RESET_NONCE, "resetNonce", "string", "str | None", "The nonce of the last reset.", nonce_key
    ),
    _out(
        TIMEOUT_SECONDS,
        "timeoutSeconds",
        "integer",
        "int",
        "Deadline of one operation in seconds.",
        whole(DEFAULT_TIMEOUT_SECONDS, minimum=1),
    ),
    _out(REGION, "region", "string", "str | None", "The region override, as given.", only_text),
    _out(
        ENDPOINT, "endpoint", "string", "str | None", "The endpoint override, as given.", only_text
    ),
    _out(
        PASSWORD_FINGERPRINT,
        "accountPasswordFingerprint",
        "string",
        "str | None",
        "Salted scrypt fingerprint of the last password set (secret); never the password.",
        only_text,
        attr="password_fingerprint",
        secret=True,
    ),
    _out(
        LAST_RESET_AT,
        "lastResetAt",
        "string",
        "str",
        "UTC time (ISO-8601) of the last reset.",
        only_text,
    ),
    _out(
        LAST_RESET_REQUEST_ID,
        "lastResetRequestId",
        "string",
        "str",
        "Request ID of the last ResetAccount call, for Alibaba Cloud support.",
        only_text,
    ),
    _out(
        RESET_COUNT,
        "resetCount",
        "integer",
        "int",
        "How many resets this resource has made.",
        count,
    ),
    _out(
        ACCOUNT_STATUS,
        "accountStatus",
        "string",
        "str",
        "AccountStatus as last seen (Available once a reset completed).",
        only_text,
    ),
    _out(
        ACCOUNT_TYPE, "accountType", "string", "str", "AccountType as last seen (Super).", only_text
    ),
    _out(
        ACCOUNT_LOCK_STATE,
        "accountLockState",
        "string",
        "str | None",
        "AccountLockState as last seen (UnLock or Lock).",
        only_text,
    ),
    _out(
        EFFECTIVE_REGION,
        "effectiveRegion",
        "string",
        "str",
        "The region the provider used.",
        only_text,
    ),
    _out(
        EFFECTIVE_ENDPOINT,
        "effectiveEndpoint",
        "string",
        "str",
        "The endpoint the provider used.",
        only_text,
    ),
    _out(
        CHECK_PRIVILEGES,
        "checkPrivileges",
        "boolean",
        "bool",
        "Whether the SQL check runs.",
        flag(DEFAULT_CHECK_PRIVILEGES),
    ),
    _out(
        SQL_ENDPOINT,
        "sqlEndpoint",
        "string",
        "str | None",
        "The SQL endpoint override, as given.",
        only_text,
    ),
    _out(
        PRIVILEGES_OK,
        "privilegesOk",
        "boolean",
        "bool | None",
        "Last check: every documented privilege and GRANT OPTION held (None: not checked).",
        only_flag,
        attr="check.privileges_ok",
    ),
    _out(
        MISSING_PRIVILEGES,
        "missingPrivileges",
        "array",
        "list[str] | None",
        "Last check: the documented privileges missing, sorted (None: not checked).",
        names,
        attr="check.missing_privileges",
    ),
    _out(
        PRIVILEGES_CHECKED_AT,
        "privilegesCheckedAt",
        "string",
        "str | None",
        "UTC time (ISO-8601) of the last check attempt.",
        only_text,
        attr="check.privileges_checked_at",
    ),
    _out(
        PASSWORD_OK,
        "passwordOk",
        "boolean",
        "bool | None",
        "Last check: whether the managed password still logs in (None: not checked or not "
        "managed).",
        only_flag,
        attr="check.password_ok",
    ),
    _out(
        PRIVILEGES_CHECK_CAUSE,
        "privilegesCheckCause",
        "string",
        "str | None",
        "Last check: why it could not tell (not drift), e.g. the SQL endpoint did not answer "
        "(None: it told, or it is disabled).",
        only_text,
        attr="check.cause",
    ),
    _out(UNLOCK, "unlock", "boolean", "bool", "Whether a locked account is unlocked.", true_flag),
    _out(
        PASSWORD_EXPIRY_WARNING_DAYS,
        "passwordExpiryWarningDays",
        "integer",
        "int",
        "Days before the password's expiry from which a warning is given.",
        whole(DEFAULT_PASSWORD_EXPIRY_WARNING_DAYS, minimum=0),
    ),
    _out(
        ACCOUNT_LOCKED,
        "accountLocked",
        "boolean",
        "bool | None",
        "Whether the account was locked when last seen (AccountLockState Lock; None: not "
        "known yet).",
        only_flag,
    ),
    _out(
        PASSWORD_EXPIRES_AT,
        "passwordExpiresAt",
        "string",
        "str | None",
        "When the account's password expires, UTC ISO-8601 (AccountPasswordValidTime; "
        "None: it does not expire).",
        only_text,
    ),
    _out(
        ACCOUNT_PASSWORD_SECRET,
        "accountPasswordSecret",
        "string",
        "str | None",
        "The KMS secret the password comes from, as given.",
        only_text,
    ),
    _out(
        ACCOUNT_PASSWORD_SECRET_STAGE,
        "accountPasswordSecretStage",
        "string",
        "str | None",
        "The secret's version stage, as given (None: ACSCurrent).",
        only_text,
    ),
    _out(
        SECRET_VERSION,
        "accountPasswordSecretVersion",
        "string",
        "str | None",
        "The secret's version ID the last reset set (never its value).",
        only_text,
    ),
    _out(
        SECRET_LATEST_VERSION,
        "accountPasswordSecretLatestVersion",
        "string",
        "str | None",
        "The version ID the secret's stage pointed to at the last refresh; differing from "
        "``account_password_secret_version``: rotated in KMS, not yet applied.",
        only_text,
    ),
    _out(
        SQL_CHECK_PASSWORD,
        "sqlCheckPassword",
        "string",
        "str | None",
        "The password the check logs in with (secret): refresh sees only the outputs.",
        only_text,
        secret=True,
        internal=True,
    ),
)

INPUTS: Final = tuple(f.name for f in INPUT_FIELDS)
OUTPUTS: Final = tuple(f.name for f in OUTPUT_FIELDS)
#: Every secret property, inputs and outputs (the resource's additional_secret_outputs), in
#: the order stacks registered them before the field table existed.
_FIRST_SECRETS: Final = (ACCOUNT_PASSWORD, PASSWORD_FINGERPRINT, CHECK_PASSWORD, SQL_CHECK_PASSWORD)
SECRET_OUTPUTS: Final = (
    *_FIRST_SECRETS,
    *dict.fromkeys(
        f.name for f in (*INPUT_FIELDS, *OUTPUT_FIELDS) if f.secret and f.name not in _FIRST_SECRETS
    ),
)
#: Outputs of the SQL check, cleared together when no check result is known.
CHECK_RESULT_OUTPUTS: Final = (
    PRIVILEGES_OK,
    MISSING_PRIVILEGES,
    PRIVILEGES_CHECKED_AT,
    PASSWORD_OK,
    PRIVILEGES_CHECK_CAUSE,
)
#: camelCase name of every property (inputs and outputs).
CAMEL: Final = {f.name: f.camel for f in (*INPUT_FIELDS, *OUTPUT_FIELDS)}
#: snake_case name of every camelCase name.
SNAKE: Final = {camel: name for name, camel in CAMEL.items()}

# The engine's placeholder for values not known during preview (Pulumi's wire format).
UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
# The engine's marker for a secret value wrapped in a property map (Pulumi's wire format).
SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105
SIG_KEY: Final = "4dabf18193072939515e22adb298388d"


def resource_id(db_cluster_id: str, account_name: str) -> str:
    """Build the resource ID, ``<db_cluster_id>:<account_name>`` like terraform-provider-alicloud."""
    return f"{db_cluster_id}:{account_name}"


def parse_resource_id(resource_id: str) -> tuple[str, str] | None:
    """``(db_cluster_id, account_name)`` of a resource ID (``pulumi import``), or None."""
    cluster, sep, account = resource_id.partition(":")
    return (cluster, account) if sep and cluster and account else None
