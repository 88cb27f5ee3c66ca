"""scripts/install-pulumi: concurrent runs on one cache build once.

Two checkouts and a test run that start ``install-pulumi`` at once must not each build the
CLI for a quarter of an hour: the second run waits for the first one's lock and then reuses
what it put in the cache. Here the test holds the lock itself (as a first run building would),
fills the cache while the script waits, and releases it; a ``go`` stand-in on PATH records any
attempt to build.
"""

from __future__ import annotations

import fcntl
import re
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-pulumi"
VERSION = "3.260.0"
HOSTS = (
    "pulumi-resource-pulumi-python",
    "pulumi-language-python-exec",
    "pulumi-language-python",
    "pulumi-language-nodejs",
    "pulumi-language-yaml",
    "pulumi-language-go",
)


def executable(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def test_a_second_run_waits_for_the_first_build_and_reuses_it(tmp_path: Path) -> None:
    bin_dir, cache = tmp_path / "bin", tmp_path / "cache"
    bin_dir.mkdir()
    for tool in ("bash", "env", "sed", "head", "dirname", "tr", "mkdir", "flock", "seq", "sleep"):
        found = shutil.which(tool)
        assert found is not None, tool
        (bin_dir / tool).symlink_to(found)
    go_calls = tmp_path / "go-calls.log"
    executable(bin_dir / "go", f'echo "go $*" >> {go_calls}; exit 1')
    (tmp_path / "constraints.txt").write_text(f"pulumi=={VERSION}\n")
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    shutil.copy(SCRIPT, scripts / "install-pulumi")

    cache.mkdir()
    lock_path = cache / f".install-v{VERSION}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a first run, building
        waiting = subprocess.Popen(
            [str(bin_dir / "bash"), str(scripts / "install-pulumi")],
            env={
                "PATH": str(bin_dir),
                "HOME": str(tmp_path),
                "PULUMI_POLARDB_CACHE": str(cache),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert waiting.stderr is not None
        first_line = waiting.stderr.readline()
        assert "another install-pulumi is building v3.260.0" in first_line, first_line
        assert waiting.poll() is None
        # The first run finishes its build into the cache, then lets go of the lock.
        built = cache / f"pulumi-v{VERSION}" / "bin"
        built.mkdir(parents=True)
        executable(built / "pulumi", f'[ "$1" = version ] && echo v{VERSION}')
        for host in HOSTS:
            executable(built / host, "exit 0")
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert out.strip().splitlines()[-1] == str(built)
    assert "reusing cached build" in err
    assert not go_calls.exists(), go_calls.read_text()


def test_the_docs_quote_the_scripts_measured_build_time() -> None:
    """One figure for a cold build: the script's progress line, the docs and the benchmark."""
    root = SCRIPT.parents[1]
    match = re.search(r"about (\d+) minutes on 2 cores", SCRIPT.read_text())
    assert match is not None
    figure = f"about {match.group(1)} minutes on 2 cores"
    for doc in ("README.md", "docs/getting-started.md"):
        assert figure in (root / doc).read_text(), doc
    measured = (root / "benchmarks" / "results" / "install_pulumi.md").read_text()
    assert f"| {match.group(1)} min " in measured
