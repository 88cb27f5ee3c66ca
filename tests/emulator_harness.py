"""Start the PolarDB emulator as a subprocess and drive its admin API (stdlib only)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import queue
import signal
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

ACCESS_KEY_ID = "LTAI5tEmulatorKey01"
ACCESS_KEY_SECRET = "emulator-secret-01"
STS_KEY_ID = "STS.EmulatorKey02"
STS_KEY_SECRET = "emulator-secret-02"
STS_TOKEN = "emulator-sts-token"
API_VERSION = "2017-08-01"

DEFAULT_SEED: dict[str, Any] = {
    "access_keys": [
        {"id": ACCESS_KEY_ID, "secret": ACCESS_KEY_SECRET},
        {"id": STS_KEY_ID, "secret": STS_KEY_SECRET, "security_token": STS_TOKEN},
    ],
    "settings": {"task_seconds": 0.3, "concurrent_tasks_per_cluster": 1},
    "clusters": [
        {
            "id": "pc-mysql00000001",
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "status": "Running",
            "accounts": [
                {"name": "dbadmin", "type": "Super", "password": "Adm1n!pass"},
                {"name": "app_rw", "type": "Normal", "password": "Bb2@bbbbb"},
            ],
        },
        {
            "id": "pc-mysql00000002",
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "status": "Running",
            "accounts": [{"name": "polar_super", "type": "Super", "password": "Sup3r!pass"}],
        },
        {
            "id": "pc-pgsql00000001",
            "region": "cn-hangzhou",
            "db_type": "PostgreSQL",
            "status": "Running",
            "accounts": [{"name": "pgadmin", "type": "Super", "password": "Pg4dmin!pass"}],
        },
        {
            "id": "pc-maint0000001",
            "region": "cn-hangzhou",
            "db_type": "MySQL",
            "status": "Maintaining",
            "accounts": [{"name": "dbadmin", "type": "Super", "password": "Adm1n!pass"}],
        },
    ],
}

#: ``sdk_client`` fixture type: keyword arguments in, a PolarDB SDK client out.
SdkClientFactory = Callable[..., Any]

#: Every plaintext password of DEFAULT_SEED (for leak scans).
SEED_PASSWORDS = ("Adm1n!pass", "Bb2@bbbbb", "Sup3r!pass", "Pg4dmin!pass")


def write_seed(path: Path, data: dict[str, Any] | None = None) -> Path:
    """Write ``data`` (default: DEFAULT_SEED) as YAML to ``path``; return the path."""
    path.write_text(yaml.safe_dump(data if data is not None else DEFAULT_SEED), encoding="utf-8")
    return path


class EmulatorError(RuntimeError):
    """The emulator did not start, or an admin call failed."""


class EmulatorProcess:
    """``python -m polardb_emulator serve`` in a subprocess, plus admin helpers."""

    def __init__(
        self,
        seed_path: Path,
        *,
        tls: bool = False,
        state_path: Path | None = None,
        task_seconds: float | None = None,
        start_timeout: float = 20.0,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.seed_path = seed_path
        self.tls = tls
        self.state_path = state_path
        self.task_seconds = task_seconds
        self.start_timeout = start_timeout
        self.extra_args = extra_args
        self.stderr_lines: list[str] = []
        self._proc: subprocess.Popen[str] | None = None
        self.info: dict[str, str] = {}
        self.start()

    # --- process lifecycle ---------------------------------------------------

    def command(self) -> list[str]:
        """The command line used to start the emulator."""
        cmd = [sys.executable, "-m", "polardb_emulator", "serve", "--seed", str(self.seed_path)]
        if self.tls:
            cmd.append("--tls")
        if self.state_path is not None:
            cmd += ["--state", str(self.state_path)]
        if self.task_seconds is not None:
            cmd += ["--task-seconds", str(self.task_seconds)]
        return cmd + list(self.extra_args)

    def start(self) -> None:
        """Start the process and wait for its JSON line."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        proc = subprocess.Popen(
            self.command(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._proc = proc
        lines: queue.Queue[str] = queue.Queue()
        assert proc.stdout is not None and proc.stderr is not None
        threading.Thread(target=lambda: lines.put(proc.stdout.readline()), daemon=True).start()  # type: ignore[union-attr]
        threading.Thread(target=self._drain_stderr, args=(proc,), daemon=True).start()
        try:
            first = lines.get(timeout=self.start_timeout)
        except queue.Empty:
            self.stop()
            raise EmulatorError(f"emulator did not start in {self.start_timeout}s") from None
        if not first:
            proc.wait(timeout=5)
            raise EmulatorError(f"emulator exited ({proc.returncode}): {self.stderr_text()}")
        self.info = json.loads(first)

    def _drain_stderr(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.stderr_lines.append(line)

    def stderr_text(self) -> str:
        """Everything the emulator wrote to stderr so far."""
        return "".join(self.stderr_lines)

    def stop(self) -> int | None:
        """Send SIGTERM and wait; return the exit status."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
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

    # --- connection facts ----------------------------------------------------

    @property
    def endpoint(self) -> str:
        """``127.0.0.1:PORT`` (what the SDK Config.endpoint takes)."""
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
        """Path of the generated CA PEM (with --tls)."""
        return self.info.get("ca_file")

    @property
    def base_url(self) -> str:
        """``http(s)://127.0.0.1:PORT``."""
        return f"{self.protocol}://{self.endpoint}"

    # --- admin API -----------------------------------------------------------

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call the admin API; return the decoded JSON; raise EmulatorError on 4xx/5xx."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.admin_url + path,
            data=data,
            method=method,
            headers={"content-type": "application/json"} if data else {},
        )
        context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        try:
            with urllib.request.urlopen(req, timeout=10, context=context) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise EmulatorError(f"{method} {path}: {exc.code} {exc.read().decode()}") from None

    def requests(self, action: str | None = None) -> list[dict[str, Any]]:
        """The request log, optionally only one action."""
        suffix = f"?action={quote(action)}" if action else ""
        result: list[dict[str, Any]] = self.admin("GET", "/requests" + suffix)["requests"]
        return result

    def resets(self) -> list[dict[str, Any]]:
        """ResetAccount calls in the request log."""
        return self.requests(action="ResetAccount")

    def writes(self) -> list[dict[str, Any]]:
        """Calls of every action that may change state (all but Describe*)."""
        return [r for r in self.requests() if not r["action"].startswith("Describe")]

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
        """Clusters, accounts and tasks in flight."""
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

    def reset(self) -> None:
        """Back to the seed (state, request log, faults, nonce cache)."""
        self.admin("POST", "/reset")


# --- an independent V3 signer for hand-crafted requests -------------------------


def _pe(value: str) -> str:
    return quote(value, safe="-_.~")


def sign_v3(
    secret: str,
    key_id: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes = b"",
) -> dict[str, str]:
    """Return ``headers`` plus x-acs-content-sha256 and Authorization (all headers signed)."""
    out = {k.lower(): v for k, v in headers.items()}
    out["x-acs-content-sha256"] = hashlib.sha256(body).hexdigest()
    names = sorted(out)
    canonical = "\n".join(
        [
            "POST",
            "/",
            "&".join(f"{_pe(k)}={_pe(v)}" for k, v in sorted(query.items())),
            "".join(f"{n}:{out[n].strip()}\n" for n in names),
            ";".join(names),
            out["x-acs-content-sha256"],
        ]
    )
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    out["authorization"] = (
        f"ACS3-HMAC-SHA256 Credential={key_id},SignedHeaders={';'.join(names)},"
        f"Signature={signature}"
    )
    return out


def raw_post(
    base_url: str, query: dict[str, str], headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """POST / with exactly these query/headers/body; return status, JSON body, headers."""
    url = base_url + "/?" + "&".join(f"{_pe(k)}={_pe(v)}" for k, v in query.items())
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read()), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), dict(exc.headers)
