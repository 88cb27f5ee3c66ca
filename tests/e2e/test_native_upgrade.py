"""End to end: a state recorded with an earlier native plugin, previewed and updated with today's.

Like pulumi/providertest's ``PreviewProviderUpgrade``: each
``tests/fixtures/native-upgrade/state-<version>.json`` was recorded by ``record.py`` there
(the YAML program beside it, the emulator with MariaDB, the plugin of that version).
Today's plugin, installed as documented, takes the stack over: ``pulumi preview`` and
``pulumi up`` show no replace and no update, and make no API call; the outputs users read
stay as they were.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess
from native_harness import (
    MANAGED_PASSWORD,
    PACKAGE,
    SEED,
    TOKEN,
    install_plugin,
)
from pulumi_harness import REPO, PulumiProject, pulumi_bin

from pulumi_polardb_reset.native._server import plugin_version

pytestmark = pytest.mark.e2e
MARIADB_SEED = SEED  # the maria fixtures' (tests/conftest.py)
FIXTURE = REPO / "tests" / "fixtures" / "native-upgrade"
RECORDINGS = sorted(FIXTURE.glob("state-*.json"))
PROVIDER = f"pulumi:providers:{PACKAGE}"


@pytest.fixture(scope="session")
def bin_dir() -> str:
    return pulumi_bin()


def semver(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("-")[0].split("."))


def test_a_recording_of_0_2_0_is_kept() -> None:
    assert FIXTURE / "state-0.2.0.json" in RECORDINGS


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda path: path.stem)
def test_todays_plugin_takes_a_recorded_stack_over_with_no_change_and_no_api_call(
    recording: Path, maria: EmulatorProcess, tmp_path: Path, bin_dir: str
) -> None:
    recorded: dict[str, Any] = json.loads(recording.read_text())
    version = recording.stem.removeprefix("state-")
    assert semver(version) <= semver(plugin_version()), "a recording newer than the plugin"
    resources = recorded["deployment"]["resources"]
    resets = {r["urn"].rsplit("::", 1)[-1]: r["outputs"] for r in resources if r["type"] == TOKEN}
    assert sorted(resets) == ["admin", "second"]
    assert sum(r["type"] == PROVIDER for r in resources) == 2  # the default and an explicit one

    proj = PulumiProject(FIXTURE, tmp_path, bin_dir=bin_dir, only=["Pulumi.yaml"])
    install_plugin(proj)  # today's plugin only: the recording's version is not installed
    # As record.py configured it (the endpoint from the environment, never in state).
    proj.env["ALIBABA_CLOUD_ENDPOINT_POLARDB"] = maria.base_url
    proj.write_config({f"{PACKAGE}:region": "cn-hangzhou", f"{PACKAGE}:accessKey": ACCESS_KEY_ID})
    proj.set_secret(f"{PACKAGE}:secretKey", ACCESS_KEY_SECRET)
    proj.set_config("keyId", ACCESS_KEY_ID)
    proj.set_secret("keySecret", ACCESS_KEY_SECRET)
    proj.set_secret("accountPassword", MANAGED_PASSWORD)
    proj.run("stack", "import", "--file", str(recording))
    before = reset_outputs(proj)
    for name, outputs in resets.items():  # the import kept the recording (secrets aside)
        plain = {k: v for k, v in outputs.items() if not is_secret(v)}
        assert {k: before[name].get(k) for k in plain} == plain, name
    maria.clear_requests()

    # The summary leaves the default provider out; a step of it would still be listed.
    preview = json.loads(proj.run("preview", "--json", "--non-interactive").stdout)
    assert preview["changeSummary"] == {"same": len(resources) - 1}
    assert {step["op"] for step in preview["steps"]} == {"same"}, preview["steps"]
    assert maria.requests() == []
    assert proj.up() == {"same": len(resources) - 1}  # the default provider is not counted
    assert maria.requests() == []
    assert reset_outputs(proj) == before  # what users read is kept, secrets included


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and "ciphertext" in value


def reset_outputs(proj: PulumiProject) -> dict[str, dict[str, Any]]:
    """The outputs of both resets, secrets decrypted (``pulumi stack export --show-secrets``)."""
    deployment = json.loads(proj.run("stack", "export", "--show-secrets").stdout)["deployment"]
    return {
        r["urn"].rsplit("::", 1)[-1]: r["outputs"]
        for r in deployment["resources"]
        if r["type"] == TOKEN
    }
