"""The plugin's gRPC server: Pulumi's provider protocol, served without the SDK's provider hosts.

A servicer of ``pulumi.runtime.proto.provider_pb2_grpc.ResourceProviderServicer`` (the
contract every provider implements), so that errors are reported the way this project
wants: a :class:`ResetError` (or bad configuration) is one line, anything else is a bug
whose traceback goes to the engine's debug log and the plugin's stderr.

Each method translates between the wire (camelCase properties in a protobuf ``Struct``,
secrets wrapped, numbers as floats) and the engine-agnostic operations (snake_case
dicts), which hold every rule.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import TYPE_CHECKING, Final, NoReturn

import grpc  # type: ignore[import-untyped]
from google.protobuf import empty_pb2, struct_pb2  # type: ignore[import-untyped]

from .._engine_log import EngineLog, Severity
from .._version import package_version
from ..core import _convert
from ..core import _props as p
from ..core._errors import ResetError
from ..core._quote import shorten
from . import _config, _schema, _spelling
from ._ops import Operations
from ._wire import (
    WireValueError,
    camel,
    from_wire,
    from_wire_lenient,
    to_dict,
    to_dict_lenient,
    to_wire,
)

if TYPE_CHECKING:  # the SDK's stubs, typed; at run time the same files without pulumi's root
    from pulumi.runtime.proto import plugin_pb2, provider_pb2
    from pulumi.runtime.proto import provider_pb2_grpc as rpc
else:
    from .._proto import plugin_pb2, provider_pb2
    from .._proto import provider_pb2_grpc as rpc

log = logging.getLogger("pulumi_polardb_reset.native")

#: Resets wait on API tasks, not on CPU: the engine's --parallel is the real bound.
MAX_WORKERS: Final = 256


def plugin_version() -> str:
    """The plugin's semantic version (the package's; ``0.0.0`` from a source tree)."""
    version = package_version()
    return "0.0.0" if version.startswith("0+") else version


class Engine:
    """The engine's Log service: warnings (and debug detail) shown with the resource's URN."""

    def __init__(self) -> None:
        self._log = EngineLog()

    def connect(self, address: str) -> None:
        """Use the engine at ``address`` (host:port) from now on."""
        self._log.connect(address)

    def log(self, severity: Severity, message: str, urn: str = "") -> None:
        """Send one message; fall back to stderr when there is no engine to tell."""
        if not self._log.send(severity, message, urn):
            print(message, file=sys.stderr, flush=True)

    def warn(self, message: str, urn: str = "") -> None:
        """A warning the user acts on (already free of secrets), in the plugin's names."""
        self.log("WARNING", _spelling.render(message), urn)

    def debug(self, message: str, urn: str = "") -> None:
        """Detail shown with ``--debug`` / ``-v``."""
        self.log("DEBUG", message, urn)


class Provider(rpc.ResourceProviderServicer):
    """The ``polardb-account`` resource provider."""

    def __init__(self, engine_address: str | None = None) -> None:
        self.engine = Engine()
        if engine_address:
            self.engine.connect(engine_address)
        self.ops = Operations(warn=self.engine.warn)

    # -- error reporting ---------------------------------------------------------------

    def _fail(self, context: grpc.ServicerContext, method: str, urn: str) -> NoReturn:
        exc = sys.exc_info()[1]
        if isinstance(exc, ResetError):
            context.abort(grpc.StatusCode.UNKNOWN, shorten(_spelling.render(str(exc))))
        self.engine.debug(
            f"{method} failed with an unexpected error (a bug in pulumi-polardb-reset or the "
            f"Alibaba Cloud SDK; please report it with this traceback):\n{traceback.format_exc()}",
            urn,
        )
        log.error("%s failed:\n%s", method, traceback.format_exc())
        context.abort(
            grpc.StatusCode.INTERNAL,
            f"{method} failed with an unexpected {type(exc).__name__}; this is a bug in "
            "pulumi-polardb-reset, please report it (traceback: pulumi up --debug)",
        )
        raise AssertionError("unreachable")  # context.abort raises

    @contextlib.contextmanager
    def _reporting(
        self, context: grpc.ServicerContext, method: str, urn: str = ""
    ) -> Iterator[None]:
        try:
            yield
        except Exception:
            self._fail(context, method, urn)

    # -- plugin ------------------------------------------------------------------------

    def Handshake(
        self, request: provider_pb2.ProviderHandshakeRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ProviderHandshakeResponse:
        """Learn the engine's address; secrets stay wrapped on the wire."""
        self.engine.connect(request.engine_address)
        return provider_pb2.ProviderHandshakeResponse(accept_secrets=True)

    def GetPluginInfo(
        self, request: empty_pb2.Empty, context: grpc.ServicerContext
    ) -> plugin_pb2.PluginInfo:
        """The plugin's version."""
        return plugin_pb2.PluginInfo(version=plugin_version())

    def GetSchema(
        self, request: provider_pb2.GetSchemaRequest, context: grpc.ServicerContext
    ) -> provider_pb2.GetSchemaResponse:
        """The package schema (derived from the field table)."""
        return provider_pb2.GetSchemaResponse(schema=_schema.schema_json(plugin_version()))

    def Cancel(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> empty_pb2.Empty:
        """Ctrl-C: stop every wait in flight now (the operations fail, naming the cancellation)."""
        self.ops.cancel()
        return empty_pb2.Empty()

    # -- provider configuration --------------------------------------------------------

    def CheckConfig(
        self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        """Validate the provider's configuration (no API call)."""
        with self._reporting(context, "CheckConfig", request.urn):
            news, refused = to_dict_lenient(request.news)
            problems = [(name, WireValueError(name).message) for name in refused]
            problems += _config.problems(news)
        failures = [
            provider_pb2.CheckFailure(property=name, reason=shorten(reason))
            for name, reason in problems
        ]
        return provider_pb2.CheckResponse(
            inputs=_config_secrets_wrapped(request.news), failures=failures
        )

    def DiffConfig(
        self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        """A changed configuration is an update of the provider, never a replacement of its resources."""
        with self._reporting(context, "DiffConfig", request.urn):
            olds, news = to_dict(request.olds), to_dict(request.news)
            changed = sorted(
                k.name
                for k in _config.KEYS
                if _convert.plain(olds.get(k.name)) != _convert.plain(news.get(k.name))
            )
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME
            if changed
            else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=changed,
        )

    def Configure(
        self, request: provider_pb2.ConfigureRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ConfigureResponse:
        """Keep this provider instance's configuration (its own inputs, or the stack config)."""
        with self._reporting(context, "Configure"):
            self.ops.configure(
                _config.settings_config(to_dict(request.args), dict(request.variables))
            )
        return provider_pb2.ConfigureResponse(acceptSecrets=True, supportsPreview=True)

    # -- resource CRUD -----------------------------------------------------------------

    def Check(
        self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        """Validate inputs per property (no API call); values unknown at preview pass."""
        with self._reporting(context, "Check", request.urn):
            news, refused = from_wire_lenient(request.news)
            inputs, failures = self.ops.check(news)
            failures = [(name, WireValueError(name).message) for name in refused] + failures
        return provider_pb2.CheckResponse(
            inputs=to_wire(inputs),
            failures=[
                provider_pb2.CheckFailure(
                    property=camel(name), reason=shorten(_spelling.render(reason))
                )
                for name, reason in failures
            ],
        )

    def Diff(
        self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        """Reset on a new password or nonce or recorded drift; replace on a new target."""
        with self._reporting(context, "Diff", request.urn):
            olds, news = from_wire(request.olds), from_wire(request.news)
            decision = self.ops.diff(olds, news)
        if decision.reasons:
            reasons = _spelling.render("; ".join(decision.reasons))
            self.engine.debug(f"diff {request.id}: {reasons}", request.urn)
        changed = sorted(
            {camel(k) for k in decision.replaces}
            | {
                camel(k)
                for k in news
                if k in p.OUTPUTS and _convert.plain(news[k]) != _convert.plain(olds.get(k))
            }
        )
        return provider_pb2.DiffResponse(
            changes=(
                provider_pb2.DiffResponse.DIFF_SOME
                if decision.changes
                else provider_pb2.DiffResponse.DIFF_NONE
            ),
            replaces=[camel(k) for k in decision.replaces],
            diffs=changed if decision.changes else [],
            deleteBeforeReplace=False,
        )

    def Create(
        self, request: provider_pb2.CreateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CreateResponse:
        """Reset the account (``customTimeouts.create`` is the deadline when set)."""
        with self._reporting(context, "Create", request.urn):
            id_, outs = self.ops.create(
                request.urn, from_wire(request.properties), request.timeout, request.preview
            )
        return provider_pb2.CreateResponse(id=id_, properties=to_wire(outs, outputs=True))

    def Update(
        self, request: provider_pb2.UpdateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.UpdateResponse:
        """Reset again, or record new check settings; the complete outputs either way."""
        with self._reporting(context, "Update", request.urn):
            outs = self.ops.update(
                request.urn,
                from_wire(request.olds),
                from_wire(request.news),
                request.timeout,
                request.preview,
            )
        return provider_pb2.UpdateResponse(properties=to_wire(outs, outputs=True))

    def Read(
        self, request: provider_pb2.ReadRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ReadResponse:
        """Refresh, or adopt by ID (``pulumi import``: ``<dbClusterId>:<accountName>``, read only)."""
        with self._reporting(context, "Read", request.urn):
            id_, outs, inputs = self.ops.read(
                request.urn, request.id, from_wire(request.properties), from_wire(request.inputs)
            )
        if not id_:
            return provider_pb2.ReadResponse(id="")
        return provider_pb2.ReadResponse(
            id=id_, properties=to_wire(outs, outputs=True), inputs=to_wire(inputs)
        )

    def Delete(
        self, request: provider_pb2.DeleteRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        """Forget the resource: a reset cannot be undone, so no API call."""
        with self._reporting(context, "Delete", request.urn):
            self.ops.delete(request.id)
        return empty_pb2.Empty()


def _config_secrets_wrapped(news: struct_pb2.Struct) -> struct_pb2.Struct:
    """The provider's inputs with its secret keys (``secretKey``...) wrapped as secrets.

    Set in clear (a plain string in a YAML program's provider), they would reach the state
    as plaintext; every other value goes back exactly as the engine sent it.
    """
    inputs = struct_pb2.Struct()
    inputs.CopyFrom(news)
    for key in _config.KEYS:
        if not key.secret or key.name not in inputs.fields:
            continue
        value = inputs.fields[key.name]
        if value.WhichOneof("kind") == "string_value" and value.string_value != p.UNKNOWN:
            text = value.string_value  # read first: `value` is the field the next line rewrites
            inputs.fields[key.name].struct_value.Clear()
            inputs.fields[key.name].struct_value.update({p.SIG_KEY: p.SECRET_SIG, "value": text})
    return inputs


def serve(engine_address: str | None, announce: Callable[[int], None]) -> grpc.Server:
    """Start the server on a free loopback port and announce the port; return the server."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="polardb-account"),
        options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)],
    )
    rpc.add_ResourceProviderServicer_to_server(Provider(engine_address), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    announce(port)
    return server


def main(argv: list[str] | None = None) -> int:
    """``pulumi-resource-polardb-account [engine-address] [--logflow] [--logtostderr] ...``.

    The engine starts the plugin with its own address (absent for ``pulumi package
    get-schema``) and reads the port from the first line of stdout.
    """
    args = sys.argv[1:] if argv is None else argv
    positional = [a for a in args if not a.startswith("-")]
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.WARNING,
        format="pulumi-resource-polardb-account: %(message)s",
    )

    def announce(port: int) -> None:
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()

    server = serve(positional[0] if positional else None, announce)
    with contextlib.suppress(KeyboardInterrupt):
        server.wait_for_termination()
    return 0
