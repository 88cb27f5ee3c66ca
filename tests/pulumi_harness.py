"""Drive real Pulumi projects with the real CLI (Automation API, file backend) in a temp dir."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess
from pulumi import automation as auto

from pulumi_polardb_reset.automation import project_stack

REPO = Path(__file__).resolve().parent.parent
PASSPHRASE = "e2e-passphrase-not-a-secret"


def pulumi_bin() -> str:
    """Directory of the pulumi CLI: $PULUMI_BIN, else what scripts/install-pulumi prints."""
    if os.environ.get("PULUMI_BIN"):
        return os.environ["PULUMI_BIN"]
    out = subprocess.run(
        [str(REPO / "scripts" / "install-pulumi")], capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


class PulumiProject:
    """A copy of a project directory with its own backend, PULUMI_HOME and stack."""

    def __init__(
        self,
        source: Path,
        root: Path,
        stack: str = "e2e",
        *,
        bin_dir: str,
        only: Iterable[str] | None = None,
    ) -> None:
        self.dir = root / "project"
        if only is None:
            ignore = shutil.ignore_patterns(".venv", "__pycache__", "Pulumi.*.yaml")
            shutil.copytree(source, self.dir, ignore=ignore)
        else:
            self.dir.mkdir(parents=True)
            for name in only:
                shutil.copy(source / name, self.dir / name)
        (root / "state").mkdir()
        (root / "home").mkdir()
        self.root = root
        self.stack_name = stack
        self.bin_dir = bin_dir
        self.env = {
            "PULUMI_HOME": str(root / "home"),
            "PULUMI_BACKEND_URL": f"file://{root / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        }
        self.log: list[str] = []
        self._stack: auto.Stack | None = None

    def write_config(self, config: Mapping[str, Any]) -> None:
        """Write plain (non-secret) stack config to Pulumi.<stack>.yaml."""
        path = self.dir / f"Pulumi.{self.stack_name}.yaml"
        existing = yaml.safe_load(path.read_text()) if path.exists() else {}
        existing = existing or {}
        existing["config"] = {**existing.get("config", {}), **config}
        path.write_text(yaml.safe_dump(existing))

    @property
    def stack(self) -> auto.Stack:
        """The stack (created on first use)."""
        if self._stack is None:
            self._stack = project_stack(
                self.dir, self.stack_name, env=self.env, pulumi_bin=self.bin_dir
            )
        return self._stack

    def set_secret(self, key: str, value: str, *, path: bool = False) -> None:
        """Set an encrypted config value (``pulumi config set --secret``)."""
        self.stack.set_config(key, auto.ConfigValue(value, secret=True), path=path)

    def remove_config(self, key: str, *, path: bool = False) -> None:
        """``pulumi config rm``."""
        self.stack.remove_config(key, path=path)

    def _out(self, line: str) -> None:
        self.log.append(line)

    def preview(self) -> auto.PreviewResult:
        """``pulumi preview``."""
        return self.stack.preview(on_output=self._out, on_error=self._out)

    def up(self) -> auto.UpResult:
        """``pulumi up --yes``."""
        return self.stack.up(on_output=self._out, on_error=self._out)

    def refresh(self) -> auto.RefreshResult:
        """``pulumi refresh --yes``."""
        return self.stack.refresh(on_output=self._out, on_error=self._out)

    def destroy(self) -> auto.DestroyResult:
        """``pulumi destroy --yes``."""
        return self.stack.destroy(on_output=self._out, on_error=self._out)

    def export(self) -> dict[str, Any]:
        """``pulumi stack export`` as a user runs it: secrets stay encrypted.

        (The Automation API's ``export_stack`` adds ``--show-secrets``.)
        """
        workspace = self.stack.workspace
        assert isinstance(workspace, auto.LocalWorkspace)
        result = workspace.pulumi_command.run(
            ["stack", "export", "--stack", self.stack_name], str(self.dir), workspace.env_vars
        )
        deployment: dict[str, Any] = json.loads(result.stdout)["deployment"]
        return deployment

    def resources(self, type_suffix: str = "PrivilegedAccountReset") -> list[dict[str, Any]]:
        """Resources of that type in the stack's state."""
        resources = self.export().get("resources") or []
        return [r for r in resources if str(r.get("type", "")).endswith(type_suffix)]

    def outputs(self) -> dict[str, Any]:
        """Stack outputs (secret ones decrypted)."""
        return {k: v.value for k, v in self.stack.outputs().items()}

    def written(self) -> dict[str, str]:
        """Everything this project wrote, by origin: engine output and every file under its root."""
        found = {"engine output": "\n".join(self.log)}
        for path in self.root.rglob("*"):
            if path.is_file() and path.stat().st_size < 5_000_000:
                found[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
        return found


def emulator_config(
    emu: EmulatorProcess, targets: Iterable[Mapping[str, Any]], *, namespace: str
) -> dict[str, Any]:
    """Plain stack config for ``emu`` (the secret key is set separately, encrypted)."""
    return {
        "alicloud:region": "cn-hangzhou",
        "alicloud:accessKey": ACCESS_KEY_ID,
        "alicloud:endpoints": json.dumps([{"polardb": emu.base_url}]),
        f"{namespace}:targets": [dict(t) for t in targets],
    }


def set_secret_key(project: PulumiProject) -> None:
    """Store the emulator's AccessKey secret as an encrypted stack secret."""
    project.set_secret("alicloud:secretKey", ACCESS_KEY_SECRET)
