"""Compatibility with existing stacks: frozen ``__provider`` blobs, version, resource arguments."""

from __future__ import annotations

import asyncio
import base64
import importlib.metadata
import inspect
import pickletools
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import dill
import pulumi
import pytest
from pulumi.dynamic.dynamic import serialize_provider

import pulumi_polardb_reset
from pulumi_polardb_reset import PrivilegedAccountReset, PrivilegedAccountResetArgs
from pulumi_polardb_reset._version import UNKNOWN_VERSION, package_version
from pulumi_polardb_reset.cloud import _client
from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.dynamic._resource import resource_props
from pulumi_polardb_reset.provider import PrivilegedAccountResetProvider

BLOBS = Path(__file__).parent.parent / "fixtures" / "pickled"
#: The import paths a ``__provider`` blob may name: a compatibility promise, never shrinks.
PICKLED_PATHS = ("pulumi_polardb_reset._provider", "pulumi_polardb_reset.provider")
CURRENT_PATH = "pulumi_polardb_reset.provider"


def _blob(path: str) -> str:
    return (BLOBS / f"{path}.b64").read_text().strip()


@pytest.mark.parametrize("path", PICKLED_PATHS)
def test_frozen_blob_unpickles_to_the_provider(path: str) -> None:
    raw = base64.b64decode(_blob(path))
    strings = [arg for op, arg, _ in pickletools.genops(raw) if op.name == "SHORT_BINUNICODE"]
    assert strings == [path, "PrivilegedAccountResetProvider"]  # the blob names this path
    provider = dill.loads(raw)
    assert type(provider) is PrivilegedAccountResetProvider
    assert (
        provider.check({}, {"db_cluster_id": "pc-abc123", "account_name": "dbadmin"}).failures == []
    )


@pytest.mark.parametrize("path", PICKLED_PATHS)
def test_frozen_blob_unpickles_in_a_fresh_process(path: str) -> None:
    """Like the dynamic provider host: nothing imported but dill, the blob does the rest."""
    code = (
        "import base64, sys, dill\n"
        "p = dill.loads(base64.b64decode(sys.argv[1]))\n"
        "print(type(p).__module__, type(p).__qualname__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, _blob(path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == [CURRENT_PATH, "PrivilegedAccountResetProvider"]


def test_new_state_names_the_public_path() -> None:
    """What Pulumi writes today is byte for byte the frozen blob of the public path."""
    provider = PrivilegedAccountResetProvider()
    provider.leaked = "ALIBABA-SECRET"  # type: ignore[attr-defined]
    assert serialize_provider(provider) == _blob(CURRENT_PATH)


def test_every_pickled_path_is_the_same_class() -> None:
    import pulumi_polardb_reset._provider as alias
    import pulumi_polardb_reset.provider as public

    assert (
        alias.PrivilegedAccountResetProvider
        is public.PrivilegedAccountResetProvider
        is pulumi_polardb_reset.PrivilegedAccountResetProvider
    )


# -- version ---------------------------------------------------------------------------------


def test_version_comes_from_package_metadata() -> None:
    installed = importlib.metadata.version("pulumi-polardb-reset")
    assert pulumi_polardb_reset.__version__ == installed
    assert _client.USER_AGENT.endswith(f"/{installed}")


def test_version_when_not_installed() -> None:
    assert package_version("pulumi-polardb-reset-not-installed") == UNKNOWN_VERSION


# -- resource arguments ----------------------------------------------------------------------


def test_keyword_arguments_mirror_the_args_class() -> None:
    params = inspect.signature(PrivilegedAccountReset.__init__).parameters
    keyword_only = [n for n, x in params.items() if x.kind is inspect.Parameter.KEYWORD_ONLY]
    assert keyword_only == list(p.INPUTS)
    assert list(PrivilegedAccountResetArgs.__dataclass_fields__) == list(p.INPUTS)


def test_unknown_keyword_argument_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'db_cluster'"):
        PrivilegedAccountReset("r", db_cluster="pc-abc123")  # type: ignore[call-arg]


def test_keywords_override_args_and_password_is_secret(
    current_event_loop: asyncio.AbstractEventLoop,
) -> None:
    args = PrivilegedAccountResetArgs(db_cluster_id="pc-abc123", account_name="dbadmin")
    props = resource_props(args, {"reset_nonce": "7", "account_name": None, "region": None})
    assert props[p.DB_CLUSTER_ID] == "pc-abc123" and props[p.ACCOUNT_NAME] == "dbadmin"
    assert props[p.RESET_NONCE] == "7" and props[p.REGION] is None
    assert set(props) == set(p.INPUTS) | set(p.OUTPUTS)
    secret = resource_props(None, {"account_password": "N3w!Passw0rd"})[p.ACCOUNT_PASSWORD]
    assert isinstance(secret, pulumi.Output)
    # Secret, as the engine will store it (encrypted), and still the value given.
    assert current_event_loop.run_until_complete(secret.is_secret()) is True
    assert current_event_loop.run_until_complete(secret.future()) == "N3w!Passw0rd"


if TYPE_CHECKING:
    # Type-checked by mypy, never run: the keyword arguments are typed.
    PrivilegedAccountReset(
        "orders-db-admin",
        db_cluster_id="pc-abc123",
        account_name="dbadmin",
        account_password=pulumi.Output.secret("N3w!Passw0rd"),
        reset_nonce="1",
        timeout_seconds=60,
    )
