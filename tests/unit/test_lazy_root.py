"""The package root is lazy: each layer imports what it needs, never an engine it does not run.

Each check runs a clean interpreter (``-I``: no user site, no PYTHON* variables), imports
one module and reports which modules came with it.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest

import pulumi_polardb_reset

_PROBE = """
import importlib, json, sys
importlib.import_module({module!r})
print(json.dumps(sorted(sys.modules)))
"""


def loaded_by(module: str) -> set[str]:
    """The modules a fresh interpreter holds after importing ``module``."""
    out = subprocess.run(
        [sys.executable, "-I", "-c", _PROBE.format(module=module)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(json.loads(out))


def _ours(modules: set[str], layer: str) -> set[str]:
    return {m for m in modules if m.startswith(f"pulumi_polardb_reset.{layer}")}


CORE_MODULES = [
    "pulumi_polardb_reset.core._convert",
    "pulumi_polardb_reset.core._diff",
    "pulumi_polardb_reset.core._props",
    "pulumi_polardb_reset.core._verdicts",
]


@pytest.mark.parametrize("module", CORE_MODULES)
def test_the_core_imports_no_pulumi_and_no_other_layer(module: str) -> None:
    loaded = loaded_by(module)
    assert not {m for m in loaded if m == "pulumi" or m.startswith("pulumi.")}
    for layer in ("dynamic", "native", "cli", "lifecycle", "cloud", "drift"):
        assert not _ours(loaded, layer), layer


def test_the_plugin_server_imports_neither_pulumi_nor_the_dynamic_engine() -> None:
    loaded = loaded_by("pulumi_polardb_reset.native._server")
    assert "pulumi_polardb_reset.lifecycle" in loaded  # what it serves with
    assert "pulumi.dynamic" not in loaded
    assert "pulumi" not in loaded  # only the protocol's stubs, without the SDK's root
    assert not _ours(loaded, "dynamic") and not _ours(loaded, "cli")


def test_the_command_imports_neither_pulumi_dynamic_nor_the_dynamic_engine() -> None:
    for module in ("pulumi_polardb_reset.cli", "pulumi_polardb_reset.cli._app"):
        loaded = loaded_by(module)
        assert "pulumi.dynamic" not in loaded, module
        assert not _ours(loaded, "dynamic") and not _ours(loaded, "native"), module


def test_the_root_loads_nothing_until_a_name_is_used() -> None:
    loaded = loaded_by("pulumi_polardb_reset")
    assert "pulumi" not in loaded
    assert {m for m in loaded if m.startswith("pulumi_polardb_reset.")} == set()


def test_every_public_name_resolves_from_its_module() -> None:
    from pulumi_polardb_reset.core._errors import ResetError
    from pulumi_polardb_reset.dynamic._resource import PrivilegedAccountReset
    from pulumi_polardb_reset.provider import PrivilegedAccountResetProvider

    for name in pulumi_polardb_reset.__all__:
        assert getattr(pulumi_polardb_reset, name) is not None, name
        assert name in dir(pulumi_polardb_reset)
    assert pulumi_polardb_reset.ResetError is ResetError
    assert pulumi_polardb_reset.PrivilegedAccountReset is PrivilegedAccountReset
    assert pulumi_polardb_reset.PrivilegedAccountResetProvider is PrivilegedAccountResetProvider
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = pulumi_polardb_reset.nothing


def test_the_pickled_provider_paths_still_resolve() -> None:
    # Stacks name the provider by these paths (0.2.0 and 0.1.0); a clean interpreter that
    # unpickles a reference to either loads the provider on demand.
    for path in ("pulumi_polardb_reset.provider", "pulumi_polardb_reset._provider"):
        blob = f"c{path}\nPrivilegedAccountResetProvider\n.".encode()
        code = f"import pickle; c = pickle.loads({blob!r}); print(c.__module__, c.__name__)"
        out = subprocess.run(
            [sys.executable, "-I", "-c", code], check=True, capture_output=True, text=True
        ).stdout.split()
        assert out == ["pulumi_polardb_reset.provider", "PrivilegedAccountResetProvider"]
    assert pickle.loads(pickle.dumps(pulumi_polardb_reset.PrivilegedAccountResetProvider)) is (
        pulumi_polardb_reset.PrivilegedAccountResetProvider
    )


def test_the_plugin_stubs_are_the_sdks_own_classes() -> None:
    from pulumi.runtime.proto import provider_pb2 as sdk

    from pulumi_polardb_reset._proto import provider_pb2 as ours

    assert ours.__file__ == sdk.__file__
    assert ours.CheckRequest is sdk.CheckRequest
