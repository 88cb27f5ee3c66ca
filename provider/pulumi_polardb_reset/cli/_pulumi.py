"""The pulumi CLI as the command runs it: one executable, a deadline, and Ctrl-C forwarded.

The Automation API runs every ``pulumi`` command through a :class:`auto.PulumiCommand`;
this one differs in three ways:

* the executable is ``--pulumi-bin DIR``'s ``pulumi`` (the Automation API's ``root`` wants
  ``ROOT/bin/pulumi``), else the one on ``PATH``;
* a run's :class:`Deadline` bounds every command: when it passes, pulumi is asked to stop
  as a user's Ctrl-C does, twice (the second "terminates immediately" and ends its plugins),
  then killed, and :class:`DeadlineExceeded` says which command did not finish;
* pulumi runs in its own session, so a Ctrl-C at the terminal (or the CI's SIGTERM) reaches
  it once, forwarded by the command: a first interrupt lets ``pulumi up`` finish what it
  started and save the state, a second one stops it at once.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Final

from pulumi import automation as auto
from pulumi.automation.errors import create_command_error

#: After the deadline: how long pulumi has to stop after the first and the second SIGINT.
STOP_GRACE_SECONDS: Final = (3.0, 10.0)


class Deadline:
    """When a run must end (monotonic clock); ``None`` seconds: never."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self._end = None if seconds is None else clock() + seconds

    def remaining(self) -> float | None:
        """Seconds left (never negative); None without a deadline."""
        return None if self._end is None else max(0.0, self._end - self._clock())


class DeadlineExceeded(Exception):  # noqa: N818 - named like the other outcomes it joins
    """The run's deadline passed while a pulumi command ran; it was stopped (exit status 9)."""

    def __init__(self, seconds: float, command: str):
        super().__init__(f"`pulumi {command}` did not finish within {seconds:g} s")
        self.seconds = seconds
        self.command = command


class PulumiUnavailable(Exception):  # noqa: N818 - a condition, as the Automation API's
    """The pulumi executable is missing or does not run; the message says what to pass."""


def find(bin_dir: str | None) -> str:
    """The pulumi executable: in ``bin_dir`` (``--pulumi-bin``), else on ``PATH``."""
    if bin_dir is not None:
        path = Path(bin_dir).resolve() / "pulumi"
        if not path.is_file() or not os.access(path, os.X_OK):
            raise PulumiUnavailable(
                f"no pulumi executable in {bin_dir}: pass --pulumi-bin the directory that "
                "holds the pulumi CLI"
            )
        return str(path)
    found = shutil.which("pulumi")
    if found is None:
        raise PulumiUnavailable(
            "the pulumi CLI is not on PATH: put it on PATH or pass --pulumi-bin DIR (the "
            "directory holding the pulumi executable)"
        )
    return found


class PulumiCLI(auto.PulumiCommand):
    """A :class:`auto.PulumiCommand` with one executable, a deadline and Ctrl-C forwarded."""

    def __init__(self, executable: str, deadline: Deadline | None = None):
        # Not super().__init__: it insists on ROOT/bin/pulumi. Version checks are skipped
        # (version None, as the Automation API's own opt-out does); pyproject pins the SDK.
        self.command = executable
        self.version = None
        self.deadline = deadline or Deadline(None)
        env = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}
        try:
            subprocess.run(
                [executable, "version"], env=env, capture_output=True, check=True, timeout=120
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise PulumiUnavailable(
                f"{executable} does not run ({type(exc).__name__}): pass --pulumi-bin the "
                "directory of a working pulumi CLI"
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
                _stop(process)
                return "deadline"
            except KeyboardInterrupt:
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
