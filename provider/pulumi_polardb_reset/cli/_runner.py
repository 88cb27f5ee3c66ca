"""The Automation API's ``PulumiCommand`` with a deadline and Ctrl-C forwarded (see ``_pulumi``)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Final

from pulumi import automation as auto
from pulumi.automation.errors import create_command_error
from semver import VersionInfo

from ._pulumi import Deadline, DeadlineExceeded, PulumiUnavailable

#: After the deadline: how long pulumi has to stop after the first and the second SIGINT.
STOP_GRACE_SECONDS: Final = (3.0, 10.0)


class PulumiCLI(auto.PulumiCommand):
    """A :class:`auto.PulumiCommand` with one executable, a deadline and Ctrl-C forwarded."""

    def __init__(self, executable: str, deadline: Deadline, *, read_only: bool = False):
        # Not super().__init__: it insists on ROOT/bin/pulumi. The version is read as the
        # Automation API reads it (its workspace asks for it); pyproject pins the SDK.
        self.command = executable
        self.deadline = deadline
        self.read_only = read_only
        env = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}
        try:
            shown = subprocess.run(
                [executable, "version"], env=env, capture_output=True, check=True, timeout=120
            ).stdout.decode("utf-8", "replace")
            self.version = VersionInfo.parse(shown.strip().removeprefix("v"))
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            raise PulumiUnavailable(
                f"{executable} does not run as the pulumi CLI ({type(exc).__name__}): pass "
                "--pulumi-bin the directory of a working pulumi CLI"
            ) from None

    def run(
        self,
        args: list[str],
        cwd: str,
        additional_env: Mapping[str, str],
        on_output: Callable[[str], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> auto.CommandResult:
        """Run ``pulumi args`` as the Automation API does, within the run's deadline."""
        if "--non-interactive" not in args:
            args = ["--non-interactive", *args]
        env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
        # Plugins installed beside pulumi (language hosts) come first, as the Automation
        # API arranges for its root.
        env["PATH"] = os.pathsep.join([str(Path(self.command).parent), env.get("PATH", "")])
        out: list[str] = []
        err: list[str] = []
        with subprocess.Popen(
            [self.command, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            encoding="utf-8",
            start_new_session=True,
        ) as process:
            assert process.stdout is not None and process.stderr is not None
            readers = [
                threading.Thread(target=_consume, args=(process.stdout, on_output, out)),
                threading.Thread(target=_consume, args=(process.stderr, on_error, err)),
            ]
            for reader in readers:
                reader.start()
            ended = self._wait(process)
            for reader in readers:
                reader.join()
        if ended == "interrupted":
            raise KeyboardInterrupt
        if ended == "deadline":
            seconds = self.deadline.seconds or 0.0
            raise DeadlineExceeded(seconds, " ".join(a for a in args[1:3] if a[:1] != "-"))
        result = auto.CommandResult(
            stdout="\n".join(out), stderr="\n".join(err), code=process.returncode
        )
        if result.code != 0:
            raise create_command_error(result)
        return result

    def _wait(self, process: subprocess.Popen[str]) -> str:
        """Wait for pulumi: "exited", "deadline" (stopped) or "interrupted" (forwarded)."""
        interrupts = 0
        while True:
            try:
                process.wait(timeout=self.deadline.remaining())
            except subprocess.TimeoutExpired:
                self.deadline.stopping = True
                _stop(process)
                return "deadline"
            except KeyboardInterrupt:
                if self.read_only:
                    _stop(process)
                    return "interrupted"
                # The first: pulumi cancels gracefully (an update saves its state); the
                # second: it terminates at once. Then the command reports "cancelled".
                interrupts += 1
                process.send_signal(signal.SIGINT)
                continue
            return "interrupted" if interrupts else "exited"


def _stop(process: subprocess.Popen[str]) -> None:
    """Stop pulumi as two Ctrl-Cs do (it ends its plugins), else kill it."""
    for grace in STOP_GRACE_SECONDS:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _consume(stream: IO[str], callback: Callable[[str], None] | None, lines: list[str]) -> None:
    for line in iter(stream.readline, ""):
        stripped = line.rstrip()
        if callback is not None:
            callback(stripped)
        lines.append(stripped)
    stream.close()
