"""The resource's operations for the native provider: the lifecycle layer on wire-form dicts.

Each plugin process serves one provider instance (the default provider, or one explicit
provider of a program): its configuration is kept here, not in module state, and every
operation gets the engine's deadline (``customTimeouts``), the plugin's cancellation event
(the engine's ``Cancel``) and a warning sink that reaches the engine with the resource's URN.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .. import lifecycle
from ..core import _convert
from ..core import _props as p
from ._spelling import render_outputs

#: ``warn(message, urn)``: a warning for the engine to show with the resource.
Warn = Callable[[str, str], None]


class Operations:
    """check/diff/create/read/update/delete of one provider instance (snake_case wire dicts)."""

    def __init__(self, warn: Warn) -> None:
        self._warn = warn
        self._config = lifecycle.ProviderConfig({}, os.environ)
        self._cancel = threading.Event()

    def configure(self, values: Mapping[str, Any]) -> None:
        """Use ``values`` (settings keys, see ``_config.settings_config``) from now on."""
        self._config = lifecycle.ProviderConfig(dict(values), os.environ)

    def cancel(self) -> None:
        """The engine's Cancel: waits, retries and turns in flight end at once."""
        self._cancel.set()

    def _call(self, urn: str, timeout: float = 0.0, operation: str = "") -> lifecycle.Call:
        # The engine's timeout is customTimeouts.<operation> (0: none set).
        return lifecycle.Call(
            warn=lambda message: self._warn(message, urn),
            timeout_seconds=timeout if timeout > 0 else None,
            cancel=self._cancel,
            timeout_setting=f"customTimeouts.{operation}" if operation else "customTimeouts",
        )

    def check(self, news: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Normalized inputs and (property, reason) failures; no API call."""
        outcome = lifecycle.check(news, self._config)
        return outcome.props, [(f.property, f.reason) for f in outcome.failures]

    def diff(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> lifecycle.DiffDecision:
        """The diff decision (old outputs against new inputs)."""
        return lifecycle.diff(_convert.state_from_props(olds), _convert.inputs_from_props(news))

    def create(
        self, urn: str, news: Mapping[str, Any], timeout: float, preview: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """Reset the account; the ID and the outputs (at preview: the inputs, no API call)."""
        if preview:
            return "", self._preview(news)
        inputs = lifecycle.require_inputs(news, self._config)
        state = lifecycle.create(inputs, self._config, self._call(urn, timeout, "create"))
        return state.id, render_outputs(_convert.state_to_props(state))

    def update(
        self,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        timeout: float,
        preview: bool = False,
    ) -> dict[str, Any]:
        """Reset again or record new check settings; the complete outputs (preview: no API call)."""
        if preview:
            return {**olds, **self._preview(news)}
        inputs = lifecycle.require_inputs(news, self._config)
        state = lifecycle.update(
            _convert.state_from_props(olds),
            inputs,
            self._config,
            self._call(urn, timeout, "update"),
        )
        return render_outputs(_convert.state_to_props(state))

    def _preview(self, news: Mapping[str, Any]) -> dict[str, Any]:
        # The engine previews creates and updates through the provider: what the inputs
        # say, the rest unknown until the operation runs.
        props = lifecycle.check(news, self._config).props
        return {k: v for k, v in props.items() if k in p.OUTPUTS}

    def read(
        self, urn: str, id_: str, outputs: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """Refresh, or adopt by ID (import); the ID (blank: gone), outputs and inputs to record."""
        state = lifecycle.read(
            id_,
            _convert.state_from_props(outputs) if outputs else None,
            self._config,
            self._call(urn),
        )
        if state is None:
            return "", {}, {}
        adopted = dict(inputs) or {
            p.DB_CLUSTER_ID: state.db_cluster_id,
            p.ACCOUNT_NAME: state.account_name,
        }
        return id_, render_outputs(_convert.state_to_props(state)), adopted

    def delete(self, id_: str) -> None:
        """No API call: a reset cannot be undone."""
        lifecycle.delete(id_)
