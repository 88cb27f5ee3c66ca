"""Run real Pulumi projects with the real CLI in a shell, as users do.

Each :class:`PulumiProject` is a copy of a project directory with its own file
backend, ``PULUMI_HOME`` and stack; every operation is a ``pulumi`` subprocess
(``pulumi up --yes``, ``pulumi config set --secret``, ...). The projects'
``runtime.options.virtualenv`` points at a link to this repository's ``.venv``,
where the package is installed, exactly as a user's venv would hold it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from emulator_harness import ACCESS_KEY_ID, ACCESS_KEY_SECRET, EmulatorProcess

REPO = Path(__file__).resolve().parent.parent
PASSPHRASE = "e2e-passphrase-not-a-secret"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Generous bound for one CLI command on a loaded 2-core machine.
COMMAND_TIMEOUT = 600


def pulumi_bin() -> str:
    """Directory of the pulumi CLI: $PULUMI_BIN, else what scripts/install-pulumi prints."""
    if os.environ.get("PULUMI_BIN"):
        return os.environ["PULUMI_BIN"]
    out = subprocess.run(
        [str(REPO / "scripts" / "install-pulumi")], capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def venv_dir() -> Path:
    """The virtualenv running the tests (where pulumi-polardb-reset is installed)."""
    return Path(sys.prefix)


class PulumiCommandError(AssertionError):
    """A ``pulumi`` command exited with a non-zero status; carries its output."""

    def __init__(self, args: Sequence[str], returncode: int, output: str) -> None:
        super().__init__(f"pulumi {' '.join(args)} exited with {returncode}:\n{output}")
        self.returncode = returncode
        self.output = output


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
            ignore = shutil.ignore_patterns("venv", ".venv", "__pycache__", "Pulumi.*.yaml")
            shutil.copytree(source, self.dir, ignore=ignore)
        else:
            self.dir.mkdir(parents=True)
            for name in only:
                shutil.copy(source / name, self.dir / name)
        runtime = yaml.safe_load((self.dir / "Pulumi.yaml").read_text())["runtime"]
        if isinstance(runtime, dict) and runtime.get("name") == "python":
            venv_name = runtime.get("options", {}).get("virtualenv", "venv")
            (self.dir / venv_name).symlink_to(venv_dir(), target_is_directory=True)
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
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "NO_COLOR": "1",
        }
        self.log: list[str] = []
        self._initialised = False

    # -- running the CLI ---------------------------------------------------------------

    def environ(self) -> dict[str, str]:
        """The environment of every command: the user's, minus cloud keys, plus ours."""
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "PULUMI_"))
        }
        base.update(self.env)
        base["PATH"] = os.pathsep.join([self.bin_dir, base.get("PATH", "")])
        return base

    def run(
        self, *args: str, check: bool = True, stdin: str | None = None, timeout: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``pulumi ARGS`` in the project directory; record its output in :attr:`log`."""
        if not self._initialised and args[:2] != ("stack", "init"):
            self._init_stack()
        done = subprocess.run(
            ["pulumi", *args],
            cwd=self.dir,
            env=self.environ(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout or COMMAND_TIMEOUT,
        )
        output = ANSI.sub("", done.stdout + done.stderr)
        self.log.append(f"$ pulumi {' '.join(args)}\n{output}")
        if check and done.returncode != 0:
            raise PulumiCommandError(args, done.returncode, output)
        return done

    def _init_stack(self) -> None:
        self._initialised = True
        self.run("stack", "init", self.stack_name, "--non-interactive")

    # -- config ------------------------------------------------------------------------

    def write_config(self, config: Mapping[str, Any]) -> None:
        """Merge plain (non-secret) values into Pulumi.<stack>.yaml, as a user edits it."""
        if not self._initialised:
            self._init_stack()
        path = self.dir / f"Pulumi.{self.stack_name}.yaml"
        existing = (yaml.safe_load(path.read_text()) if path.exists() else {}) or {}
        existing["config"] = {**(existing.get("config") or {}), **config}
        path.write_text(yaml.safe_dump(existing))

    def set_config(self, key: str, value: str, *, path: bool = False, type_: str = "") -> None:
        """``pulumi config set [--path] [--type T] KEY VALUE``."""
        flags = [*(["--path"] if path else []), *(["--type", type_] if type_ else [])]
        self.run("config", "set", *flags, key, value, "--non-interactive")

    def set_secret(self, key: str, value: str, *, path: bool = False) -> None:
        """``pulumi config set --secret KEY`` with the value on stdin (never on the command line)."""
        flags = ["--path"] if path else []
        self.run("config", "set", "--secret", *flags, key, "--non-interactive", stdin=value)

    def remove_config(self, key: str, *, path: bool = False) -> None:
        """``pulumi config rm [--path] KEY``."""
        self.run("config", "rm", *(["--path"] if path else []), key)

    # -- operations --------------------------------------------------------------------

    def preview(self, *flags: str) -> dict[str, int]:
        """``pulumi preview --json``; returns the change summary (op -> count)."""
        done = self.run("preview", "--json", "--non-interactive", *flags)
        summary: dict[str, int] = json.loads(done.stdout).get("changeSummary") or {}
        return summary

    def preview_text(self, *flags: str) -> str:
        """``pulumi preview --diff`` as a user reads it; returns the output."""
        return self.run("preview", "--diff", "--non-interactive", *flags).stdout

    def up(self, *flags: str) -> dict[str, int]:
        """``pulumi up --yes``; returns the update's resource changes (from stack history)."""
        self.run("up", "--yes", "--non-interactive", "--skip-preview", *flags)
        return self.last_changes()

    def refresh(self, *flags: str) -> dict[str, int]:
        """``pulumi refresh --yes``; returns its resource changes."""
        self.run("refresh", "--yes", "--non-interactive", "--skip-preview", *flags)
        return self.last_changes()

    def destroy(self, *flags: str) -> dict[str, int]:
        """``pulumi destroy --yes``; returns its resource changes."""
        self.run("destroy", "--yes", "--non-interactive", "--skip-preview", *flags)
        return self.last_changes()

    def fail(self, command: str, *flags: str) -> str:
        """Run ``pulumi COMMAND`` expecting failure; return its output."""
        extra = [] if command == "preview" else ["--yes", "--skip-preview"]
        done = self.run(command, "--non-interactive", *extra, *flags, check=False)
        output = ANSI.sub("", done.stdout + done.stderr)
        assert done.returncode != 0, f"pulumi {command} succeeded:\n{output}"
        return output

    def last_changes(self) -> dict[str, int]:
        """Resource changes of the newest update in ``pulumi stack history``."""
        done = self.run("stack", "history", "--json", "--show-secrets=false")
        history = json.loads(done.stdout) or [{}]
        changes: dict[str, int] = history[0].get("resourceChanges") or {}
        return changes

    # -- reading state -----------------------------------------------------------------

    def export(self) -> dict[str, Any]:
        """``pulumi stack export`` as a user runs it: secrets stay encrypted."""
        deployment: dict[str, Any] = json.loads(self.run("stack", "export").stdout)["deployment"]
        return deployment

    def import_state(self, deployment: Mapping[str, Any]) -> None:
        """``pulumi stack import`` of a (possibly edited) deployment."""
        path = self.root / "import.json"
        path.write_text(json.dumps({"version": 3, "deployment": deployment}))
        self.run("stack", "import", "--file", str(path))

    def resources(self, type_suffix: str = "PrivilegedAccountReset") -> list[dict[str, Any]]:
        """Resources of that type in the stack's state."""
        resources = self.export().get("resources") or []
        return [r for r in resources if str(r.get("type", "")).endswith(type_suffix)]

    def outputs(self) -> dict[str, Any]:
        """``pulumi stack output --json --show-secrets``."""
        out: dict[str, Any] = json.loads(
            self.run("stack", "output", "--json", "--show-secrets").stdout
        )
        return out

    def output_text(self) -> str:
        """Everything the CLI printed so far."""
        return "\n".join(self.log)

    def written(self) -> dict[str, str]:
        """Everything this project wrote, by origin: CLI output and every file under its root."""
        found = {"cli output": self.output_text()}
        for path in self.root.rglob("*"):
            if path.is_symlink() or not path.is_file() or path.stat().st_size >= 5_000_000:
                continue
            found[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
        return found


def emulator_config(emu: EmulatorProcess, targets: Any, *, namespace: str) -> dict[str, Any]:
    """Plain stack config for ``emu`` (the secret key is set separately, encrypted).

    K (``polardbReset:providerProcesses``) is the package's default, as users get it;
    tests/e2e/test_e2e_sharding.py and the secret scans set it where they need shards.
    """
    config: dict[str, Any] = {
        "alicloud:region": "cn-hangzhou",
        "alicloud:accessKey": ACCESS_KEY_ID,
        "alicloud:endpoints": json.dumps([{"polardb": emu.base_url}]),
    }
    if targets is not None:
        config[f"{namespace}:targets"] = (
            [dict(t) for t in targets] if isinstance(targets, list) else targets
        )
    return config


def set_secret_key(project: PulumiProject) -> None:
    """Store the emulator's AccessKey secret as an encrypted stack secret."""
    project.set_secret("alicloud:secretKey", ACCESS_KEY_SECRET)


def assert_one_line_failure(output: str, needle: str) -> None:
    """The provider's message is shown and no traceback of this project's code is.

    After a failed step the engine interrupts the program and Pulumi's own
    ``pulumi-language-python-exec`` prints a ``KeyboardInterrupt`` traceback under the
    stack: upstream behaviour, so it is tolerated; any frame of our package is not.
    """
    assert needle in output, output
    assert "pulumi_polardb_reset" not in output, output
    assert "Program failed with an unhandled exception" not in output, output
    assert "ResetError" not in output and "TargetConfigError" not in output, output


def run_cli(
    proj: PulumiProject,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run the ``polardb-reset`` console script in the project copy, as a CI job does.

    Uses the project's backend and PULUMI_HOME, the CLI of :attr:`PulumiProject.bin_dir` on
    PATH, no CI variables unless ``env`` sets them; stdout and stderr are kept apart.
    """
    environ = cli_environ(proj, env)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "polardb-reset"), *args],
        cwd=proj.dir,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    proj.log.append(f"$ polardb-reset {' '.join(args)}\n{done.stdout}{done.stderr}")
    return done


def cli_environ(proj: PulumiProject, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment :func:`run_cli` runs ``polardb-reset`` in."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "GITHUB_RUN_ID",
            "CI_PIPELINE_ID",
            "GITHUB_STEP_SUMMARY",
            "PULUMI_BIN",
            "POLARDB_RESET_NOTIFY",
        )
        and not k.startswith(("ALIBABA_CLOUD_", "ALICLOUD_"))
    }
    environ.update(proj.env)
    environ.update(env or {})
    environ["PATH"] = os.pathsep.join(
        [proj.bin_dir, str(Path(sys.executable).parent), environ["PATH"]]
    )
    return environ
