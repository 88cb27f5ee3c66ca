"""The Pulumi dynamic provider behind :class:`PrivilegedAccountReset`.

The instance is pickled into state by *reference* (this module is installed
and importable), so it holds nothing: stack config captured by ``configure``
lives in a module-level mapping of the provider process, never on ``self``.

Compatibility promise: the ``__provider`` blob in every stack's state names this
class by import path, so every path ever written stays importable in every future
version: ``pulumi_polardb_reset.provider.PrivilegedAccountResetProvider`` (this
module, written since commit 7a8fda6) and
``pulumi_polardb_reset._provider.PrivilegedAccountResetProvider`` (written by 0.1.0
before that; ``_provider`` is now an alias module). ``tests/fixtures/pickled``
holds frozen blobs of both.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from .. import lifecycle
from ..core import _convert
from ..core._errors import ResetError
from . import _host, _workers

log = logging.getLogger("pulumi_polardb_reset")
F = TypeVar("F", bound=Callable[..., Any])

_STACK_CONFIG: dict[str, Any] = {}
_CONFIG_LOCK = threading.Lock()
#: The hooks of every operation: warnings become engine warnings (see _host); the dynamic
#: host offers no custom timeouts and no cancellation.
_CALL = lifecycle.Call(warn=_host.warn)


def _reported(method: F) -> F:
    """Log a bug (any exception but ResetError) with its traceback, then let it propagate."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except ResetError:
            raise
        except Exception:
            log.exception(
                "%s failed with an unexpected error; this is a bug in pulumi-polardb-reset or "
                "the Alibaba Cloud SDK, please report it with this traceback",
                method.__name__,
            )
            raise

    return wrapper  # type: ignore[return-value]


class PrivilegedAccountResetProvider(ResourceProvider):
    """CRUD for a privileged account reset: create and update call PolarDB ``ResetAccount``."""

    # State pickles this class by reference: its module must stay the public path.
    __module__ = "pulumi_polardb_reset.provider"

    # Pickled by reference, the provider carries no secret: no need to hide it.
    serialize_as_secret_always = False

    def __getstate__(self) -> dict[str, Any]:
        # Nothing on the instance belongs in state, whatever a caller attached.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        pass

    # -- engine hooks ----------------------------------------------------------

    @_reported
    def configure(self, req: ConfigureRequest) -> None:
        """Capture the stack config keys the provider reads (credentials, region, endpoints)."""
        _workers.widen_running_host()  # on a worker thread of the host, if this is one
        values = {key: req.config.get(key) for key in lifecycle.CONFIG_KEYS}
        with _CONFIG_LOCK:
            _STACK_CONFIG.clear()
            _STACK_CONFIG.update({k: v for k, v in values.items() if v is not None})

    @_reported
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs per property (no API call); unknown values pass."""
        outcome = lifecycle.check(news, _config())
        failures = [CheckFailure(f.property, f.reason) for f in outcome.failures]
        return CheckResult(outcome.props, failures)

    @_reported
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Reset when the password or the nonce changes or the last check found drift; replace on a new target.

        A changed check setting is an update without a reset.
        """
        decision = lifecycle.diff(_convert.state_from_props(olds), _convert.inputs_from_props(news))
        if decision.reasons:
            log.info("diff %s: %s", _id, "; ".join(decision.reasons))
        return DiffResult(
            changes=decision.changes,
            replaces=decision.replaces or None,
            delete_before_replace=False,
        )

    @_reported
    def create(self, props: dict[str, Any]) -> CreateResult:
        """Reset the account and record what was done."""
        config = _config()
        state = lifecycle.create(lifecycle.require_inputs(props, config), config, _CALL)
        return CreateResult(state.id, _convert.state_to_props(state))

    @_reported
    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Reset again (nonce or password changed, or drift) and return the complete outputs.

        When only check settings changed, no reset: record them and check once.
        """
        config = _config()
        inputs = lifecycle.require_inputs(news, config)
        state = lifecycle.update(_convert.state_from_props(olds), inputs, config, _CALL)
        return UpdateResult(_convert.state_to_props(state))

    @_reported
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh status, type, lock state and the SQL check; a blank ID when the account is gone.

        The check's outcome is recorded (drift makes the next diff an update); one that
        cannot tell (unreachable, timeout) records null and warns, and the refresh succeeds.
        """
        state = lifecycle.read(id_, _convert.state_from_props(props), _config(), _CALL)
        if state is None:
            return ReadResult("", {})
        return ReadResult(id_, _convert.state_to_props(state))

    @_reported
    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forget the resource. A reset cannot be undone, so no API call is made."""
        lifecycle.delete(_id)


def _config() -> lifecycle.ProviderConfig:
    """The stack config captured by ``configure``, and the environment."""
    with _CONFIG_LOCK:
        return lifecycle.ProviderConfig(dict(_STACK_CONFIG), os.environ)


# In the dynamic provider host, errors become one line (checked, see _host), and resets in
# flight no longer hold every worker the engine's next Check needs (see _workers).
_host.adopt_running_host()
_workers.widen_running_host()
