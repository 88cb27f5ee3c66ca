"""The pulumi CLI as the command runs it: one executable, a deadline, and Ctrl-C forwarded.

The Automation API runs every ``pulumi`` command through a ``PulumiCommand``; the
command's (:func:`command`, in ``_runner`` so that ``pulumi`` loads on first use) differs
in three ways:

* the executable is ``--pulumi-bin DIR``'s ``pulumi`` (the Automation API's ``root`` wants
  ``ROOT/bin/pulumi``), else the one on ``PATH``;
* a run's :class:`Deadline` bounds every command: when it passes, pulumi is asked to stop
  as a user's Ctrl-C does, twice (the second "terminates immediately" and ends its plugins),
  then killed, and :class:`DeadlineExceeded` says which command did not finish;
* pulumi runs in its own session, so a Ctrl-C at the terminal (or the CI's SIGTERM) reaches
  it once, forwarded by the command: a first interrupt lets ``pulumi up`` finish what it
  started and save the state, a second one stops it at once; a check (``read_only``),
  which writes nothing, is stopped at the first.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pulumi import automation as auto


class Deadline:
    """When a run must end (monotonic clock); ``None`` seconds: never."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self._end = None if seconds is None else clock() + seconds
        #: Set when the deadline passed and pulumi is being stopped: what it says from then
        #: on is about the stop.
        self.stopping = False

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


def command(
    bin_dir: str | None, deadline: Deadline | None = None, *, read_only: bool = False
) -> auto.PulumiCommand:
    """The pulumi CLI of ``--pulumi-bin`` (else PATH), bound by ``deadline``.

    ``read_only``: the commands write nothing (a check), so a Ctrl-C stops pulumi at once
    instead of letting it finish what it started.
    """
    from ._runner import PulumiCLI

    return PulumiCLI(find(bin_dir), deadline or Deadline(None), read_only=read_only)
