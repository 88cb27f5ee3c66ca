"""scripts/provision-mariadb: what `make demo` and .ci/run do when mariadbd is missing.

The script runs in bash with a PATH of stand-ins (``id``, ``apt-get``, ``sudo``), so
no test installs anything: the stand-ins record their arguments and the ``apt-get``
stand-in "installs" mariadbd where the distribution would put it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "provision-mariadb"


def stand_in(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    """A bin directory of stand-ins plus the basics, and an empty sbin for mariadbd."""
    bin_dir, sbin = tmp_path / "bin", tmp_path / "sbin"
    bin_dir.mkdir()
    sbin.mkdir()
    for tool in ("bash", "env", "mktemp", "rm", "cat", "true", "sh", "chmod"):
        found = shutil.which(tool)
        assert found is not None, tool
        (bin_dir / tool).symlink_to(found)
    return {"bin": bin_dir, "sbin": sbin, "calls": tmp_path / "calls.log"}


def run(world: dict[str, Path]) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": str(world["bin"]),
        "PROVISION_MARIADB_SBIN": str(world["sbin"]),
        "TMPDIR": str(world["sbin"].parent),
        "HOME": os.environ.get("HOME", "/"),
    }
    return subprocess.run(
        [str(world["bin"] / "bash"), str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_nothing_to_do_when_mariadbd_is_there(world: dict[str, Path]) -> None:
    stand_in(world["sbin"], "mariadbd", "exit 0")
    stand_in(world["bin"], "apt-get", f'echo "apt-get $*" >> {world["calls"]}')
    done = run(world)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert not world["calls"].exists()


def test_without_root_or_sudo_one_line_says_how(world: dict[str, Path]) -> None:
    stand_in(world["bin"], "id", "echo 1000")
    stand_in(world["bin"], "apt-get", f'echo "apt-get $*" >> {world["calls"]}')
    stand_in(world["bin"], "sudo", "echo 'sudo: a password is required' >&2; exit 1")
    done = run(world)
    assert done.returncode == 1
    assert done.stdout.count("\n") == 1
    assert "needs root" in done.stdout and "apt-get install mariadb-server" in done.stdout
    assert not world["calls"].exists()  # nothing attempted


def test_without_apt_get_one_line_says_how(world: dict[str, Path]) -> None:
    stand_in(world["bin"], "id", "echo 0")
    done = run(world)
    assert done.returncode == 1
    assert done.stdout.count("\n") == 1 and "apt-get is not available" in done.stdout


@pytest.mark.parametrize("as_root", [True, False])
def test_installs_as_root_or_with_sudo_n(world: dict[str, Path], as_root: bool) -> None:
    calls, sbin = world["calls"], world["sbin"]
    stand_in(world["bin"], "id", "echo 0" if as_root else "echo 1000")
    stand_in(
        world["bin"],
        "sudo",
        f'echo "sudo $*" >> {calls}; [ "$1" = -n ] || exit 1; shift; exec "$@"',
    )
    stand_in(
        world["bin"],
        "apt-get",
        f'echo "apt-get $*" >> {calls}\n'
        f'case "$*" in *install*mariadb-server*) printf "#!/bin/sh\\n" > {sbin}/mariadbd; '
        f"chmod +x {sbin}/mariadbd;; esac",
    )
    done = run(world)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""
    lines = calls.read_text().splitlines()
    apt = [line for line in lines if line.startswith("apt-get")]
    assert apt == [
        "apt-get update",
        "apt-get install -y --no-install-recommends mariadb-server mariadb-client",
    ]
    assert any(line.startswith("sudo") for line in lines) is not as_root
    assert "installed" in done.stderr


def test_a_failed_install_is_one_line(world: dict[str, Path]) -> None:
    stand_in(world["bin"], "id", "echo 0")
    stand_in(world["bin"], "apt-get", "echo 'E: Unable to locate package' >&2; exit 100")
    done = run(world)
    assert done.returncode == 1
    assert done.stdout.count("\n") == 1 and "apt-get could not install MariaDB" in done.stdout
