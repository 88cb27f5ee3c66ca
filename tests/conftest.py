"""Shared fixtures. Emulator fixtures: ``emulator`` (one per session), ``emu`` (reset), ``sdk_client``."""

from __future__ import annotations

import os

# alibabacloud-credentials reads this at import: no metadata-service probing.
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulator_harness import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    EmulatorProcess,
    SdkClientFactory,
    write_seed,
)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    """One plain-HTTP emulator with DEFAULT_SEED for the whole session."""
    seed = write_seed(tmp_path_factory.mktemp("emulator") / "seed.yaml")
    process = EmulatorProcess(seed)
    yield process
    process.stop()


@pytest.fixture
def emu(emulator: EmulatorProcess) -> EmulatorProcess:
    """The session emulator, reset to the seed."""
    emulator.reset()
    return emulator


@pytest.fixture
def sdk_client(emu: EmulatorProcess) -> SdkClientFactory:
    """Factory of real PolarDB SDK clients pointed at the emulator.

    ``sdk_client()`` signs with V3; ``sdk_client(signature_algorithm="v2")``
    with V1 (HMAC-SHA1); pass ``access_key_id``/``access_key_secret``/
    ``security_token`` for other keys, ``target`` for another emulator.
    """
    from alibabacloud_polardb20170801.client import Client
    from alibabacloud_tea_openapi.models import Config

    def make(
        *,
        access_key_id: str = ACCESS_KEY_ID,
        access_key_secret: str = ACCESS_KEY_SECRET,
        security_token: str | None = None,
        signature_algorithm: str | None = None,
        target: EmulatorProcess | None = None,
        **config: Any,
    ) -> Any:
        server = target or emu
        return Client(
            Config(
                access_key_id=access_key_id,
                access_key_secret=access_key_secret,
                security_token=security_token,
                signature_algorithm=signature_algorithm,
                endpoint=server.endpoint,
                protocol=server.protocol,
                ca=server.ca_file,
                region_id="cn-hangzhou",
                **config,
            )
        )

    return make


@pytest.fixture
def seed_file(tmp_path: Path) -> Path:
    """DEFAULT_SEED written to a fresh temp file."""
    path: Path = write_seed(tmp_path / "seed.yaml")
    return path


@pytest.fixture(scope="session")
def package_distributions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The package's sdist and wheel (built from the sdist), once per session."""
    from package_harness import build_distributions

    return build_distributions(tmp_path_factory.mktemp("package"))


@pytest.fixture(scope="session")
def package_wheel(package_distributions: tuple[Path, Path]) -> Path:
    """The package's wheel, as users and the examples' READMEs install it."""
    return package_distributions[1]
