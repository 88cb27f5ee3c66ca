"""Shared fixtures and the one copy of each test double.

Emulator fixtures: ``emulator`` (one per session), ``emu`` (reset), ``sdk_client``;
``maria_emulator`` (one MariaDB-backed emulator per module, seeded with the module's
``MARIADB_SEED``, else DEFAULT_SEED) and ``maria`` (reset). ``clock``: a
:class:`FakeClock`. ``current_event_loop``: what ``pulumi.Output`` needs. Hypothesis
runs the ``ci`` profile unless ``HYPOTHESIS_PROFILE`` names another.
"""

from __future__ import annotations

import os

# alibabacloud-credentials reads this at import: no metadata-service probing.
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from emulator_harness import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    DEFAULT_SEED,
    EmulatorProcess,
    SdkClientFactory,
    require_mariadbd,
    write_seed,
)
from hypothesis import HealthCheck, settings

# --- hypothesis: one profile for every property test ----------------------------------

#: Examples per property test unless the test sets its own budget.
HYPOTHESIS_EXAMPLES = 100

# No per-example deadline: an example's time depends on the machine's load (2 shared
# cores in CI), never on correctness; a hang is caught by pytest-timeout instead. A fixed
# budget and no example database: a clean clone runs the same amount of work every time.
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=HYPOTHESIS_EXAMPLES,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# Local exploration: ten times the examples, failures remembered between runs.
settings.register_profile(
    "long",
    parent=settings.get_profile("ci"),
    max_examples=10 * HYPOTHESIS_EXAMPLES,
    database=settings.get_profile("default").database,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# --- a fake clock -----------------------------------------------------------------------


class FakeClock:
    """A clock that moves only when told: ``clock()`` gives seconds (as ``time.monotonic``
    or ``time.time`` would), ``sleep``/``advance`` move it and record the sleeps, and
    ``utc()`` is the matching UTC time: ``start`` (default: the real time when the clock
    was made, whole seconds) plus the seconds moved since. Dates in tests derive from
    ``utc()`` so they never age."""

    def __init__(self, now: float = 0.0, *, start: dt.datetime | None = None) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._origin = now
        self.start = start or dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (never back), recorded in ``sleeps``."""
        assert seconds >= 0, f"slept a negative time: {seconds}"
        self.sleeps.append(seconds)
        self.now += seconds

    advance = sleep

    def utc(self) -> dt.datetime:
        """The current UTC time on this clock."""
        return self.start + dt.timedelta(seconds=self.now - self._origin)

    def utc_in(self, **delta: float) -> str:
        """``utc()`` plus ``delta`` (timedelta's keywords) as ``YYYY-MM-DDThh:mm:ssZ``."""
        return (self.utc() + dt.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def current_event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A current event loop: ``pulumi.Output`` needs one, and an earlier ``asyncio.run()``
    in the same process (the emulator's async SDK tests) leaves none."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def clock() -> FakeClock:
    """A :class:`FakeClock` at 0 seconds, its UTC time the real time now."""
    return FakeClock()


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


@pytest.fixture(scope="module")
def seeded_emulator(request: pytest.FixtureRequest) -> Iterator[EmulatorProcess]:
    """One in-memory emulator for the module, started from the module's ``SEED`` (services,
    keys and policies of its own, such as the KMS and STS tests')."""
    with EmulatorProcess(request.module.SEED) as process:
        yield process


@pytest.fixture
def seeded(seeded_emulator: EmulatorProcess) -> EmulatorProcess:
    """The module's seeded emulator, back to its seed."""
    seeded_emulator.reset()
    return seeded_emulator


@pytest.fixture(scope="module")
def maria_emulator(request: pytest.FixtureRequest) -> Iterator[EmulatorProcess]:
    """One MariaDB-backed emulator for the module: ``MARIADB_SEED`` of the test module
    (else DEFAULT_SEED), one throwaway mariadbd per MySQL cluster. Skips (fails under
    ``CI=true``) without mariadbd."""
    require_mariadbd(f"the MariaDB-backed tests of {request.module.__name__}")
    seed = getattr(request.module, "MARIADB_SEED", DEFAULT_SEED)
    with EmulatorProcess(seed, backend="mariadb") as process:
        yield process


@pytest.fixture
def maria(maria_emulator: EmulatorProcess) -> EmulatorProcess:
    """The module's MariaDB-backed emulator, back to its seed (databases included)."""
    maria_emulator.reset()
    return maria_emulator


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
