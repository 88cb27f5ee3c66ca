"""End to end: secrets at the Pulumi CLI's highest verbosity (issue 12, item 4).

``pulumi up -v=9 --logtostderr --logflow`` with ``PULUMI_DEBUG_GRPC=<file>`` and
``DEBUG=sdk``, against the emulator, with a managed password and the AccessKey secret in
stack config (both encrypted). What this asserts, and README "Verbose logs and secrets"
documents:

* the project's own output (the CLI's normal output, every line our code writes, every
  warning it sends to the engine) holds no password and no secret key, raw or encoded;
* the engine itself writes them in clear at ``-v=9`` (its property marshaling records, and
  only those) and in every ``PULUMI_DEBUG_GRPC`` dump (plugins get secrets in clear over
  gRPC); ``-v=8`` writes none: the safe setting.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, quote_plus

import pytest
from emulator_harness import ACCESS_KEY_SECRET, EmulatorProcess
from pulumi_harness import REPO, PulumiProject, emulator_config, pulumi_bin, set_secret_key

pytestmark = pytest.mark.e2e

FIRST: Final = "Verb0se!Alpha1"
SECOND: Final = "Verb0se!Bravo2"
TARGETS: Final = [
    {"name": "main", "dbClusterId": "pc-mysql00000001", "accountName": "dbadmin", "resetNonce": "1"}
]
VERBOSE: Final = ("-v=9", "--logtostderr", "--logflow")
#: The engine's records that print property values, secrets included, at -v=9.
ENGINE_PROPERTY_RECORD: Final = re.compile(r"^(Un)?[Mm]arshaling property for RPC\[")
#: The prefix of every line the provider's own log handler writes (see _host).
OUR_PREFIX: Final = "pulumi-polardb-reset:"


def forms(*secrets: str) -> list[str]:
    """Each secret raw, percent-encoded, form-encoded, base64 and JSON-escaped."""
    found: list[str] = []
    for secret in secrets:
        found += [
            secret,
            quote(secret, safe=""),
            quote_plus(secret),
            base64.b64encode(secret.encode()).decode(),
            json.dumps(secret)[1:-1],
        ]
    return list(dict.fromkeys(found))


SECRETS: Final = forms(FIRST, SECOND, ACCESS_KEY_SECRET)


def leaks(text: str) -> list[str]:
    """The secret forms found in ``text``."""
    return [s for s in SECRETS if s in text]


def records(stderr: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The engine's JSON log records on stderr, and every other stderr line."""
    parsed: list[dict[str, Any]] = []
    other: list[str] = []
    for line in stderr.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            other.append(line)
            continue
        if isinstance(record, dict) and "msg" in record:
            parsed.append(record)
        else:
            other.append(line)
    return parsed, other


@pytest.fixture
def project(tmp_path: Path, emu: EmulatorProcess) -> PulumiProject:
    """The root project for ``emu``, with the secret key and a managed password (encrypted)."""
    proj = PulumiProject(REPO, tmp_path, bin_dir=pulumi_bin(), only=["Pulumi.yaml", "__main__.py"])
    proj.write_config(emulator_config(emu, TARGETS, namespace="polardb-reset"))
    set_secret_key(proj)
    proj.set_secret("polardb-reset:passwords.main", FIRST, path=True)
    tmp = tmp_path / "tmp"  # where the engine would write its log files
    tmp.mkdir()
    proj.env.update({"TMPDIR": str(tmp), "DEBUG": "sdk"})
    return proj


def test_our_output_holds_no_secret_at_the_highest_verbosity(
    project: PulumiProject, emu: EmulatorProcess, tmp_path: Path
) -> None:
    grpc = tmp_path / "grpc.jsonl"
    project.env["PULUMI_DEBUG_GRPC"] = str(grpc)
    outputs = [project.run("up", "--yes", "--skip-preview", "--non-interactive", *VERBOSE)]
    project.set_secret("polardb-reset:passwords.main", SECOND, path=True)
    outputs.append(project.run("up", "--yes", "--skip-preview", "--non-interactive", *VERBOSE))
    assert len(emu.resets()) == 2 and emu.verify_password("pc-mysql00000001", "dbadmin", SECOND)

    ours: list[str] = []
    engine_leaks: list[str] = []
    for done in outputs:
        # The CLI's normal output (our diagnostics included) is clean.
        assert leaks(done.stdout) == [], done.stdout
        parsed, other = records(done.stderr)
        assert leaks("\n".join(other)) == []  # raw plugin output, if any
        for record in parsed:
            message = str(record["msg"])
            if OUR_PREFIX in message:
                ours.append(message)
            found = leaks(json.dumps(record))
            if found:
                # Only the engine's own property records at v=9, never anything of ours.
                assert ENGINE_PROPERTY_RECORD.match(message), record
                assert record.get("v") == 9 and OUR_PREFIX not in message, record
                engine_leaks += found
    assert any("ResetAccount accepted" in line for line in ours), "our lines not found"
    # The engine does write them at -v=9: the password and the AccessKey secret.
    assert FIRST in engine_leaks and SECOND in engine_leaks and ACCESS_KEY_SECRET in engine_leaks

    # The gRPC dump holds them in clear (the protocol carries secrets in clear to plugins);
    # what our code sends the engine of its own accord (Engine.Log warnings) does not.
    dump = [json.loads(line) for line in grpc.read_text().splitlines() if line.strip()]
    assert leaks(json.dumps(dump))
    for entry in dump:
        if str(entry.get("method", "")).startswith("/pulumirpc.Engine/"):
            assert leaks(json.dumps(entry)) == [], entry
    # --logtostderr: no log file was written.
    assert list((tmp_path / "tmp").glob("pulumi*")) == []


def test_verbosity_8_writes_no_secret(project: PulumiProject, emu: EmulatorProcess) -> None:
    done = project.run(
        "up", "--yes", "--skip-preview", "--non-interactive", "-v=8", "--logtostderr", "--logflow"
    )
    assert len(emu.resets()) == 1
    assert "Marshaling property" not in done.stderr
    assert leaks(done.stdout + done.stderr) == []
