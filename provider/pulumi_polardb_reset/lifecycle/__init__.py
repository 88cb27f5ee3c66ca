"""Lifecycle layer: engine-agnostic check, diff and CRUD of a privileged account reset.

Every engine adapter (the dynamic provider, the native plugin, the command line) calls
this layer with typed values; it calls ``cloud`` (the PolarDB API) and ``drift`` (the SQL
check) and never imports an engine module. Functions are thread-safe and keep no engine
state: run them on any thread (an async engine: in an executor, one call per thread).

API (all names importable from this package)::

    config = ProviderConfig(values={"alicloud:region": "cn-hangzhou", ...}, env=os.environ)
    call = Call(warn=sink, timeout_seconds=None, cancel=threading.Event())

    outcome = check(props, config)          # CheckOutcome(inputs | None, failures, props)
    decision = diff(state, inputs)          # DiffDecision(changes, replaces, reasons, reset)
    state = create(inputs, config, call)    # ResetState; raises ResetError
    state = update(state, inputs, config, call)
    state = read(resource_id, state_or_None, config, call)  # None: the account is gone
    delete(resource_id)                     # no API call: a reset cannot be undone

* ``props`` is a property map in Pulumi's wire form with snake_case keys (secrets wrapped
  as ``{SIG_KEY: SECRET_SIG, "value": v}``, unknowns as ``UNKNOWN``); a native engine with
  camelCase keys converts with ``core._convert.rename(props, "snake")``.
* :class:`~..core._state.ResetInputs` and :class:`~..core._state.ResetState` convert from
  and to property maps only through :mod:`..core._convert` (``inputs_from_props``,
  ``state_from_props``, ``state_to_props``; ``rename`` for camelCase), which reads every
  earlier state shape (0.1.0 included). ``require_inputs(props, config)`` is ``check``
  raising :class:`~..core._errors.ResetError` (``InvalidInput``) on failures.
* ``config.values`` holds the keys of ``CONFIG_KEYS`` (from ``cloud._settings``) under their full
  names (``alicloud:accessKey``, ``alicloud:region``, ``polardbReset:allowInsecureEndpoint``,
  ...); ``env`` is read after them, then Alibaba's default credential chain.
  ``polardb_endpoint_from_config(raw)`` is the ``polardb`` entry of ``alicloud:endpoints``
  (what the native provider's ``endpoint`` holds).
* ``Call.warn`` receives every warning a user should read (drift, a check that could not
  tell, a login without verified TLS), one line each, free of secrets. ``Call.timeout_seconds``
  (the engine's ``customTimeouts``) replaces the resource's ``timeout_seconds`` as the
  operation's limit. Setting ``Call.cancel`` stops waits, retries and turns at once with
  :class:`~..core._errors.OperationCancelledError` (code ``Cancelled``); an API call in
  flight ends within its own bound first, a SQL check within its own (30 s at most).
* Errors a user can act on are :class:`~..core._errors.ResetError` (``str()`` is the
  one-line message with its code); anything else is a bug and keeps its traceback.
"""

from ..cloud._settings import CONFIG_KEYS, polardb_endpoint_from_config
from ..core._diff import DiffDecision
from ..core._errors import OperationCancelledError, ResetError
from ..core._state import CheckRecord, ResetInputs, ResetState
from ..core._validation import Failure
from ._crud import (
    Call,
    CheckOutcome,
    ProviderConfig,
    Warn,
    check,
    create,
    delete,
    diff,
    log_warning,
    read,
    require_inputs,
    update,
)

__all__ = [
    "CONFIG_KEYS",
    "Call",
    "CheckOutcome",
    "CheckRecord",
    "DiffDecision",
    "Failure",
    "OperationCancelledError",
    "ProviderConfig",
    "ResetError",
    "ResetInputs",
    "ResetState",
    "Warn",
    "check",
    "create",
    "delete",
    "diff",
    "log_warning",
    "polardb_endpoint_from_config",
    "read",
    "require_inputs",
    "update",
]
