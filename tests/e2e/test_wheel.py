"""The package as users get it: a built wheel in a fresh virtualenv outside the repository.

The sdist and wheel are built from a copy of the sources (``python -m build``: the sdist
first, the wheel from the sdist) and pass ``twine check``. A virtualenv in a temporary
directory gets the wheel (not the checkout, not editable) with its ``emulator`` extra and
the newest Pulumi SDK the package index serves within the declared range
(``scripts/pulumi-sdk-versions``), and ``pip check`` finds nothing broken. A Pulumi project
is written from the README's "Using the resource" snippet, and a shell runs what a user
runs: the wheel's ``polardb-emulator``, ``pulumi stack init``, ``pulumi config set``,
``pulumi up``. The emulator's request log is the witness: one ResetAccount, then a no-op
``up`` with no API call at all, then a nonce bump with one more. The state's pickled
provider names the public path.
"""

from __future__ import annotations

import base64
import json
import os
import pickletools
import re
import subprocess
import sys
from pathlib import Path

import pytest
from emulator_harness import write_seed
from pulumi_harness import pulumi_bin

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CLUSTER, ACCOUNT = "pc-bp1abcdefghijklmn", "dbadmin"  # the snippet's
ACCESS_KEY, SECRET = "LTAI5tWheelTest00001", "wheel-test-secret-not-real"


def snippet() -> str:
    """The README's "Using the resource" program, verbatim."""
    readme = (REPO / "README.md").read_text()
    found = re.search(
        r"<!-- readme-snippet: using-the-resource -->\s*```python\n(.*?)```", readme, re.S
    )
    assert found, "README.md lost its 'Using the resource' snippet"
    return found.group(1)


def newest_sdk() -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "pulumi-sdk-versions"), "--newest"],
        capture_output=True,
        text=True,
        check=True,
        timeout=180,
    )
    return done.stdout.strip()


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


SESSION = r"""
exec {emu}< <(exec venv/bin/polardb-emulator serve --seed seed.yaml --quiet 2>emulator.err)
trap 'kill $! 2>/dev/null || true' EXIT
IFS= read -r -u "$emu" info
endpoint=$(venv/bin/python -c 'import json,sys; print(json.loads(sys.argv[1])["endpoint"])' "$info")
calls() {  # every API call the emulator answered so far
  curl -s "http://$endpoint/_emulator/requests" > "requests-$1.json"
}
pulumi stack init dev
pulumi config set alicloud:region cn-hangzhou
pulumi config set alicloud:accessKey "$ACCESS_KEY"
printf %s "$SECRET" | pulumi config set --secret alicloud:secretKey
pulumi config set alicloud:endpoints "[{\"polardb\": \"http://$endpoint\"}]"
pulumi up --yes
calls first
pulumi up --yes
calls noop
pulumi config set --type int resetNonce 2
pulumi up --yes
calls bump
pulumi stack export > state.json
"""


def test_the_built_wheel_deploys_from_a_fresh_virtualenv(
    tmp_path: Path, package_distributions: tuple[Path, Path]
) -> None:
    sdk = newest_sdk()
    sdist, wheel = package_distributions
    assert wheel.name.startswith("pulumi_polardb_reset-") and sdist.name.endswith(".tar.gz")

    project = tmp_path / "my-project"  # outside the repository
    project.mkdir()
    assert REPO not in project.parents
    python = Path(sys.base_prefix) / "bin" / "python3"  # a plain interpreter, not our venv
    run([str(python), "-m", "venv", "venv"], cwd=project)
    pip = [str(project / "venv" / "bin" / "python"), "-m", "pip"]
    run([*pip, "install", "--quiet", f"{wheel}[emulator]", f"pulumi=={sdk}"], cwd=project)
    run([*pip, "check"], cwd=project)
    installed = json.loads(run([*pip, "list", "--format=json"], cwd=project))
    versions = {p["name"].lower(): p["version"] for p in installed}
    assert versions["pulumi"] == sdk
    shown = run([*pip, "show", "--files", "pulumi-polardb-reset"], cwd=project)
    assert "Editable project location" not in shown  # the wheel, not the checkout
    where = run(
        [
            str(project / "venv" / "bin" / "python"),
            "-c",
            "import pulumi_polardb_reset as p; print(p.__file__)",
        ],
        cwd=tmp_path,
    )
    assert Path(where.strip()).is_relative_to(project / "venv")

    (project / "Pulumi.yaml").write_text(
        "name: my-project\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n"
    )
    (project / "__main__.py").write_text(snippet())
    write_seed(
        project / "seed.yaml",
        {
            "access_keys": [{"id": ACCESS_KEY, "secret": SECRET}],
            "settings": {"task_seconds": 0},
            "clusters": [
                {
                    "id": CLUSTER,
                    "region": "cn-hangzhou",
                    "db_type": "MySQL",
                    "status": "Running",
                    "accounts": [{"name": ACCOUNT, "type": "Super", "password": "Seed!Passw0rd"}],
                }
            ],
        },
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "PULUMI_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(
        PATH=os.pathsep.join([pulumi_bin(), env["PATH"]]),
        PULUMI_HOME=str(tmp_path / "pulumi-home"),
        PULUMI_BACKEND_URL=f"file://{tmp_path / 'state'}",
        PULUMI_CONFIG_PASSPHRASE="wheel-test-passphrase",
        PULUMI_SKIP_UPDATE_CHECK="true",
        NO_COLOR="1",
        ACCESS_KEY=ACCESS_KEY,
        SECRET=SECRET,
    )
    (tmp_path / "state").mkdir()
    run(["bash", "-euo", "pipefail", "-c", SESSION], cwd=project, env=env)

    def log(step: str) -> list[dict[str, object]]:
        requests: list[dict[str, object]] = json.loads(
            (project / f"requests-{step}.json").read_text()
        )["requests"]
        return requests

    first, noop, bump = log("first"), log("noop"), log("bump")
    resets = [r for r in first if r["action"] == "ResetAccount"]
    assert [(r["params"]["DBClusterId"], r["status"]) for r in resets] == [(CLUSTER, 200)]  # type: ignore[index]
    assert noop == first  # the no-op up made no API call at all
    new = bump[len(noop) :]
    assert [r["action"] for r in new].count("ResetAccount") == 1
    assert [r for r in bump if r["action"] == "ResetAccount"][-1]["status"] == 200

    state = json.loads((project / "state.json").read_text())
    (resource,) = [
        r for r in state["deployment"]["resources"] if r["type"].endswith(":PrivilegedAccountReset")
    ]
    raw = base64.b64decode(resource["outputs"]["__provider"])
    names = [arg for op, arg, _ in pickletools.genops(raw) if op.name == "SHORT_BINUNICODE"]
    assert names == ["pulumi_polardb_reset.provider", "PrivilegedAccountResetProvider"]
    assert resource["outputs"]["reset_count"] == 2
    assert SECRET not in (project / "state.json").read_text()
