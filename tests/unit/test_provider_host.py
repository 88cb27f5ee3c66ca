"""One-line errors in Pulumi's dynamic provider host, without the CLI.

The host module of the pinned SDK (``pulumi/dynamic/__main__.py``) is loaded
from its source with its final ``main()`` call left out, so its real
``_abort_with_traceback`` wrapper reports the errors under test.
"""

from __future__ import annotations

import ast
import importlib.machinery
import logging
import subprocess
import sys
import textwrap
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi.dynamic
import pytest

from pulumi_polardb_reset import ResetError
from pulumi_polardb_reset.core._errors import ErrorCode
from pulumi_polardb_reset.dynamic import _host

HOST_SOURCE = Path(pulumi.dynamic.__file__).with_name("__main__.py")


def load_host() -> types.ModuleType:
    """The pinned SDK's dynamic provider host module, without starting its gRPC server."""
    tree = ast.parse(HOST_SOURCE.read_text())
    last = tree.body[-1]
    assert isinstance(last, ast.Expr) and ast.unparse(last) == "main()"
    tree.body = tree.body[:-1]
    module = types.ModuleType(_host.HOST_MODULE)
    module.__spec__ = importlib.machinery.ModuleSpec(_host.HOST_MODULE, None)
    exec(compile(tree, str(HOST_SOURCE), "exec"), vars(module))  # noqa: S102 - the SDK's own code
    return module


class AbortCalledError(Exception):
    """What grpc's ``context.abort`` raises."""


class FakeContext:
    """Records what the host reports through ``context.abort``."""

    details: str | None = None

    def abort(self, code: Any, details: str) -> None:
        self.details = details
        raise AbortCalledError(details)


def report(host: types.ModuleType, error: Exception) -> str:
    """What the engine receives when a provider method raises ``error`` in ``host``."""

    def method(self: object, request: object, context: object) -> None:
        raise error

    wrapped: Callable[[object, object, object], None] = host._abort_with_traceback(method)
    context = FakeContext()
    with pytest.raises(AbortCalledError):
        wrapped(object(), object(), context)
    assert context.details is not None
    return context.details


@pytest.fixture(autouse=True)
def _fresh_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_host, "_warned", False)


def test_known_shape_gives_one_line_errors_and_keeps_bug_tracebacks() -> None:
    host = load_host()
    assert host.traceback is traceback and _host.has_known_shape(host)
    error = ResetError("account 'dbadmin' is locked.", code=ErrorCode.ACCOUNT_LOCKED)
    assert "Traceback" in report(host, error)

    assert _host.adopt(host) is _host.Adoption.PATCHED
    assert report(host, error) == "account 'dbadmin' is locked. [AccountLocked]\n"
    bug = report(host, TypeError("unsupported operand"))
    assert bug.startswith("Traceback") and "TypeError: unsupported operand" in bug
    assert _host.adopt(host) is _host.Adoption.ALREADY


@pytest.mark.parametrize(
    "change",
    [
        "drop_traceback_global",
        "other_reporting",
        "unwrapped_method",
    ],
)
def test_unknown_shape_is_left_alone_and_warned_about_once(
    change: str, caplog: pytest.LogCaptureFixture
) -> None:
    host = load_host()
    if change == "drop_traceback_global":
        del host.traceback
    elif change == "other_reporting":

        def _abort_with_traceback(fn: Any) -> Any:
            def wrapper(self: Any, request: Any, context: Any) -> Any:
                try:
                    return fn(self, request, context)
                except Exception as exc:
                    context.abort(None, str(exc))

            return wrapper

        host._abort_with_traceback = _abort_with_traceback  # type: ignore[attr-defined]
    else:
        host.DynamicResourceProviderServicer.Create = lambda self, request, context: None
    caplog.set_level(logging.WARNING, logger="pulumi_polardb_reset")
    assert not _host.has_known_shape(host)
    assert _host.adopt(host) is _host.Adoption.UNKNOWN_SHAPE
    assert _host.adopt(host) is _host.Adoption.UNKNOWN_SHAPE
    warnings = [r for r in caplog.records if "reports errors differently" in r.getMessage()]
    assert len(warnings) == 1
    assert not isinstance(vars(host).get("traceback"), _host.UserFacingTraceback)


def test_outside_the_host_nothing_happens(caplog: pytest.LogCaptureFixture) -> None:
    assert _host.running_host() is None  # pytest's __main__
    assert _host.adopt_running_host() is _host.Adoption.NOT_A_HOST
    assert caplog.records == []


def test_importing_the_provider_in_the_host_installs_one_line_errors() -> None:
    """As in ``python -m pulumi.dynamic``: the host is ``__main__`` when dill imports the provider."""
    script = textwrap.dedent(
        f"""
        import ast, importlib.machinery, sys, types
        tree = ast.parse(open({str(HOST_SOURCE)!r}).read())
        tree.body = tree.body[:-1]  # all but main()
        host = types.ModuleType("pulumi.dynamic.__main__")
        host.__spec__ = importlib.machinery.ModuleSpec("pulumi.dynamic.__main__", None)
        exec(compile(tree, {str(HOST_SOURCE)!r}, "exec"), vars(host))
        sys.modules["__main__"] = host
        assert "pulumi_polardb_reset" not in sys.modules
        import pulumi_polardb_reset.provider  # what unpickling the provider imports
        from pulumi_polardb_reset.dynamic import _host
        print(type(host.traceback).__name__, _host.log.handlers != [])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["UserFacingTraceback", "True"], done.stderr
    assert done.stderr == ""
