"""Run the emulator from your own tests, like moto's ``ThreadedMotoServer``.

Two launchers share one set of admin helpers:

* :class:`EmulatorProcess` runs ``python -m polardb_emulator serve`` in a
  subprocess (the usual choice: isolated, exactly what users run);
* :class:`EmulatorThread` serves from a thread of the current process (no
  process start-up; needs the ``emulator`` extra installed).

Both accept a seed file or a seed dict, are context managers, and expose the
connection facts (``endpoint``, ``protocol``, ``ca_file``, ``base_url``) and
the admin API (request log, faults, out-of-band changes, reset, SQL login).

    from polardb_emulator.testing import EmulatorProcess

    with EmulatorProcess(seed_dict, task_seconds=0) as emu:
        client = Client(Config(endpoint=emu.endpoint, protocol=emu.protocol, ...))
        ...
        assert len(emu.resets()) == 1

This module uses only the standard library and PyYAML (the thread variant
imports the emulator itself lazily).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

import yaml

if TYPE_CHECKING:
    from .sts.issuer import OidcIssuer

#: What the launchers take as a seed: a file path or a seed document.
SeedLike = str | os.PathLike[str] | Mapping[str, Any]


class EmulatorError(RuntimeError):
    """The emulator did not start, or an admin call failed."""


def write_seed(path: str | os.PathLike[str], data: Mapping[str, Any]) -> Path:
    """Write the seed document ``data`` as YAML to ``path``; return the path."""
    target = Path(path)
    target.write_text(yaml.safe_dump(_plain(data), sort_keys=False), encoding="utf-8")
    return target


def _plain(value: Any) -> Any:
    # yaml.safe_dump refuses Mapping subclasses and tuples; seeds often use both.
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class EmulatorAdmin:
    """Connection facts and admin-API helpers of a running emulator.

    Subclasses fill :attr:`info` with the emulator's first-line JSON
    (``endpoint``, ``protocol``, ``admin_url``, ``ca_file``).
    """

    info: dict[str, str]

    # --- connection facts ----------------------------------------------------

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:PORT`` (what the SDK ``Config.endpoint`` takes)."""
        return self.info["endpoint"]

    @property
    def protocol(self) -> str:
        """``http`` or ``https``."""
        return self.info["protocol"]

    @property
    def admin_url(self) -> str:
        """Base URL of the admin API."""
        return self.info["admin_url"]

    @property
    def ca_file(self) -> str | None:
        """Path of the generated CA PEM (with TLS), else None."""
        return self.info.get("ca_file")

    @property
    def base_url(self) -> str:
        """``http(s)://127.0.0.1:PORT``."""
        return f"{self.protocol}://{self.endpoint}"

    @property
    def backend(self) -> str:
        """The account backend: ``memory`` or ``mariadb``."""
        return self.info.get("backend", "memory")

    def sdk_config(self, **extra: Any) -> dict[str, Any]:
        """Keyword arguments for ``alibabacloud_tea_openapi.models.Config`` (endpoint,
        protocol, CA), merged with ``extra`` (keys, region, ...)."""
        return {"endpoint": self.endpoint, "protocol": self.protocol, "ca": self.ca_file, **extra}

    # --- admin API -----------------------------------------------------------

    def admin(self, method: str, path: str, body: Any = None, *, timeout: float = 60.0) -> Any:
        """Call the admin API; return the decoded JSON.

        Raises EmulatorError on a 4xx/5xx answer or when the emulator is unreachable.
        """
        url = self.admin_url + path
        if not url.startswith(("http://", "https://")):
            raise EmulatorError(f"not an emulator admin URL: {url}")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=data,
            method=method,
            headers={"content-type": "application/json"} if data else {},
        )
        context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:  # noqa: S310
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise EmulatorError(f"{method} {path}: {exc.code} {exc.read().decode()}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise EmulatorError(f"{method} {path}: cannot reach the emulator: {reason}") from None

    def requests(self, action: str | None = None) -> list[dict[str, Any]]:
        """The request log, optionally only one action."""
        suffix = f"?action={quote(action)}" if action else ""
        result: list[dict[str, Any]] = self.admin("GET", "/requests" + suffix)["requests"]
        return result

    def resets(self) -> list[dict[str, Any]]:
        """ResetAccount calls in the request log."""
        return self.requests(action="ResetAccount")

    def writes(self) -> list[dict[str, Any]]:
        """Calls of every action that may change state: all but Describe* and Get* (such as
        KMS's GetSecretValue), and STS's AssumeRole* (a session changes no resource)."""
        reads = ("Describe", "Get", "AssumeRole")
        return [r for r in self.requests() if not r["action"].startswith(reads)]

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.admin("DELETE", "/requests")

    def add_fault(self, **spec: Any) -> int:
        """Inject a fault (see docs/emulator.md); return its id."""
        fault_id: int = self.admin("POST", "/faults", spec)["id"]
        return fault_id

    def faults(self) -> list[dict[str, Any]]:
        """Faults not yet used up."""
        result: list[dict[str, Any]] = self.admin("GET", "/faults")["faults"]
        return result

    def clear_faults(self) -> None:
        """Remove all faults."""
        self.admin("DELETE", "/faults")

    def access_keys(self) -> list[dict[str, Any]]:
        """Every AccessKey of the seed: ``{"id", "sts", "policy"}`` (never a secret)."""
        keys: list[dict[str, Any]] = self.admin("GET", "/access-keys")["access_keys"]
        return keys

    def set_policy(self, key_id: str, policy: Mapping[str, Any]) -> None:
        """Give AccessKey ``key_id`` the RAM policy document ``policy`` (until :meth:`reset`)."""
        self.admin("PUT", f"/access-keys/{quote(key_id, safe='')}/policy", dict(policy))

    def clear_policy(self, key_id: str) -> None:
        """Take AccessKey ``key_id``'s RAM policy away: full access (until :meth:`reset`)."""
        self.admin("DELETE", f"/access-keys/{quote(key_id, safe='')}/policy")

    def delete_account(self, cluster: str, name: str) -> None:
        """Delete an account out of band."""
        self.admin("DELETE", f"/clusters/{cluster}/accounts/{name}")

    def patch_account(self, cluster: str, name: str, **changes: Any) -> dict[str, Any]:
        """Change an account out of band (type, lock_state, password, status, ...)."""
        result: dict[str, Any] = self.admin(
            "PATCH", f"/clusters/{cluster}/accounts/{name}", changes
        )
        return result

    def patch_cluster(self, cluster: str, **changes: Any) -> dict[str, Any]:
        """Change a cluster out of band (status, description)."""
        result: dict[str, Any] = self.admin("PATCH", f"/clusters/{cluster}", changes)
        return result

    def add_cluster(self, **cluster: Any) -> None:
        """Add a cluster (seed format)."""
        self.admin("POST", "/clusters", cluster)

    def verify_password(self, cluster: str, name: str, password: str) -> bool:
        """Whether ``password`` is the account's current password."""
        body = {"password": password}
        match: bool = self.admin(
            "POST", f"/clusters/{cluster}/accounts/{name}/verify-password", body
        )["match"]
        return match

    def state(self) -> dict[str, Any]:
        """Clusters, accounts, tasks in flight and KMS secrets (no values)."""
        result: dict[str, Any] = self.admin("GET", "/state")
        return result

    def account(self, cluster: str, name: str) -> dict[str, Any] | None:
        """One account from :meth:`state`, or None."""
        for c in self.state()["clusters"]:
            if c["id"] == cluster:
                for a in c["accounts"]:
                    if a["name"] == name:
                        return dict(a)
        return None

    def secrets(self) -> list[dict[str, Any]]:
        """Every KMS secret with its versions' IDs and stages (never a value)."""
        result: list[dict[str, Any]] = self.admin("GET", "/secrets")["secrets"]
        return result

    def rotate_secret(self, name: str, value: str, version_id: str | None = None) -> str:
        """Rotate KMS secret ``name``: a new version holding ``value`` becomes ACSCurrent (the
        old one ACSPrevious); return its version ID (generated unless ``version_id``)."""
        body: dict[str, Any] = {"name": name, "value": value}
        if version_id is not None:
            body["version_id"] = version_id
        new_id: str = self.admin("POST", "/secrets/rotate", body)["version_id"]
        return new_id

    def expire_sts_sessions(self) -> int:
        """End every session STS issued (AssumeRole, AssumeRoleWithOIDC) now, as if their
        time had passed; return how many were live."""
        expired: int = self.admin("POST", "/sts/expire")["expired"]
        return expired

    def reset(self) -> None:
        """Back to the seed (state, request log, faults, nonce cache; databases too)."""
        self.admin("POST", "/reset")

    def sql_login(self, cluster: str) -> dict[str, Any]:
        """Administrative SQL login of a cluster's server (``--backend mariadb``):
        ``{"host", "port", "user", "password"}``, ready for ``pymysql.connect(**login)``."""
        result: dict[str, Any] = self.admin("GET", f"/clusters/{cluster}/sql")
        return result

    def hold_tasks(self) -> None:
        """From now on no task finishes (accounts stay Creating/Deleting) until released."""
        self.admin("POST", "/tasks/hold")

    def release_tasks(self) -> int:
        """Finish every task in flight now (their database changes included); return how many."""
        finished: int = self.admin("POST", "/tasks/release")["finished"]
        return finished

    @contextlib.contextmanager
    def tasks_held(self) -> Iterator[None]:
        """``with emu.tasks_held(): ...`` — hold tasks inside, release them on the way out."""
        self.hold_tasks()
        try:
            yield
        finally:
            self.release_tasks()

    def wait_for(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float = 60.0,
        interval: float = 0.05,
        what: str = "condition",
    ) -> None:
        """Poll ``condition`` until it is true; raise EmulatorError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise EmulatorError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(interval)

    def wait_idle(self, *, timeout: float = 60.0) -> None:
        """Wait until no task is in flight (every write has taken effect)."""
        self.wait_for(lambda: not self.state()["tasks"], timeout=timeout, what="tasks to finish")

    # --- lifecycle (subclasses) ----------------------------------------------

    def stop(self) -> int | None:
        """Stop the emulator."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _seed_file(seed: SeedLike) -> tuple[Path, tempfile.TemporaryDirectory[str] | None]:
    if isinstance(seed, Mapping):
        holder = tempfile.TemporaryDirectory(prefix="polardb-emulator-seed-")
        return write_seed(Path(holder.name) / "seed.yaml", seed), holder
    return Path(seed), None


class EmulatorProcess(EmulatorAdmin):
    """``python -m polardb_emulator serve`` in a subprocess, plus admin helpers.

    Started by the constructor; stopped by :meth:`stop` or by leaving the
    ``with`` block. ``seed`` is a seed file or a seed dict (written to a
    temporary file). ``backend`` is ``memory`` (default) or ``mariadb`` (a real
    MariaDB server per MySQL cluster; ``mariadbd`` overrides the binary).
    ``env`` adds environment variables for the emulator process.
    """

    def __init__(
        self,
        seed: SeedLike,
        *,
        tls: bool = False,
        state_path: str | os.PathLike[str] | None = None,
        task_seconds: float | None = None,
        backend: str | None = None,
        mariadbd: str | os.PathLike[str] | None = None,
        quiet: bool = False,
        start_timeout: float | None = None,
        extra_args: tuple[str, ...] = (),
        env: Mapping[str, str] | None = None,
        python: str = sys.executable,
    ) -> None:
        self.seed_path, self._seed_holder = _seed_file(seed)
        self.tls = tls
        self.state_path = Path(state_path) if state_path is not None else None
        self.task_seconds = task_seconds
        self.backend_option = backend
        self.mariadbd = mariadbd
        self.quiet = quiet
        # Starting MariaDB servers takes longer than the in-memory backend.
        self.start_timeout = start_timeout or (180.0 if backend == "mariadb" else 30.0)
        self.extra_args = extra_args
        self.env = dict(env or {})
        self.python = python
        self.stderr_lines: list[str] = []
        self._proc: subprocess.Popen[str] | None = None
        self._stopping = False  # a stopping signal was sent: stop() waits, no second one
        self.info: dict[str, str] = {}
        self.start()

    # --- process lifecycle ---------------------------------------------------

    def command(self) -> list[str]:
        """The command line used to start the emulator."""
        cmd = [self.python, "-m", "polardb_emulator", "serve", "--seed", str(self.seed_path)]
        if self.tls:
            cmd.append("--tls")
        if self.state_path is not None:
            cmd += ["--state", str(self.state_path)]
        if self.task_seconds is not None:
            cmd += ["--task-seconds", str(self.task_seconds)]
        if self.backend_option is not None:
            cmd += ["--backend", self.backend_option]
        if self.mariadbd is not None:
            cmd += ["--mariadbd", str(self.mariadbd)]
        if self.quiet:
            cmd.append("--quiet")
        return cmd + list(self.extra_args)

    def start(self) -> None:
        """Start the process and wait for its first-line JSON."""
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            self.command(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._proc = proc
        self._stopping = False
        stdout, stderr = proc.stdout, proc.stderr
        assert stdout is not None and stderr is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        self._stderr_reader = threading.Thread(target=self._drain, args=(stderr,), daemon=True)
        self._stderr_reader.start()
        try:
            first = lines.get(timeout=self.start_timeout)
        except queue.Empty:
            self.stop()
            raise EmulatorError(
                f"emulator did not start in {self.start_timeout}s: {self.stderr_text()}"
            ) from None
        if not first:
            proc.wait(timeout=30)
            self._stderr_reader.join(timeout=10)  # the complete message
            raise EmulatorError(f"emulator exited ({proc.returncode}): {self.stderr_text()}")
        self.info = json.loads(first)

    def _drain(self, stream: Any) -> None:
        for line in stream:
            self.stderr_lines.append(line)

    def stderr_text(self) -> str:
        """Everything the emulator wrote to stderr so far."""
        return "".join(self.stderr_lines)

    @property
    def pid(self) -> int | None:
        """Process ID of the running emulator, or None."""
        return self._proc.pid if self._proc is not None else None

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the emulator process."""
        if self._proc is not None:
            if signum in (signal.SIGTERM, signal.SIGINT):
                self._stopping = True
            self._proc.send_signal(signum)

    def stop(self, timeout: float = 60.0) -> int | None:
        """Send SIGTERM and wait; return the exit status (None if not running).

        After :meth:`signal` sent SIGTERM or SIGINT, no second signal: the shutdown it
        started is waited for. SIGKILL only when the shutdown outlasts ``timeout``.
        """
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            if not self._stopping:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self._proc = None
        return proc.returncode

    def restart(self) -> None:
        """Stop and start again (same seed, state file and flags; a new port)."""
        self.stop()
        self.start()


class EmulatorThread(EmulatorAdmin):
    """The emulator served from a background thread of this process.

    Cheaper to start than :class:`EmulatorProcess` (no interpreter start-up);
    takes the same ``seed`` (file or dict) and options. Needs the emulator's
    dependencies (``pip install 'pulumi-polardb-reset[emulator]'``).
    """

    def __init__(
        self,
        seed: SeedLike,
        *,
        tls: bool = False,
        state_path: str | os.PathLike[str] | None = None,
        task_seconds: float | None = None,
        backend: str | None = None,
        mariadbd: str | os.PathLike[str] | None = None,
        start_timeout: float | None = None,
    ) -> None:
        self.seed_path, self._seed_holder = _seed_file(seed)
        self.tls = tls
        self.state_path = Path(state_path) if state_path is not None else None
        self.task_seconds = task_seconds
        self.backend_option = backend
        self.mariadbd = mariadbd
        self.start_timeout = start_timeout or (180.0 if backend == "mariadb" else 30.0)
        self.info: dict[str, str] = {}
        self._thread: threading.Thread | None = None
        self._stopper: Callable[[], None] | None = None
        self.start()

    def start(self) -> None:
        """Start serving and wait until the port is bound."""
        from ._runner import ServeOptions, serve_in_thread

        options = ServeOptions(
            seed_path=self.seed_path,
            state_path=self.state_path,
            tls=self.tls,
            task_seconds=self.task_seconds,
            backend=self.backend_option,
            mariadbd=Path(self.mariadbd) if self.mariadbd is not None else None,
        )
        try:
            self._thread, self._stopper, self.info = serve_in_thread(options, self.start_timeout)
        except RuntimeError as exc:
            raise EmulatorError(str(exc)) from None

    def stop(self, timeout: float = 60.0) -> int | None:
        """Stop serving (and every database server started); return 0."""
        if self._thread is None or self._stopper is None:
            return None
        self._stopper()
        self._thread.join(timeout)
        self._thread = self._stopper = None
        return 0

    def restart(self) -> None:
        """Stop and start again (same seed, state file and options; a new port)."""
        self.stop()
        self.start()


def __getattr__(name: str) -> Any:
    # OidcIssuer needs PyJWT and cryptography (the emulator extra): imported on first use.
    if name == "OidcIssuer":
        from .sts.issuer import OidcIssuer

        return OidcIssuer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EmulatorAdmin",
    "EmulatorError",
    "EmulatorProcess",
    "EmulatorThread",
    "OidcIssuer",
    "SeedLike",
    "write_seed",
]
