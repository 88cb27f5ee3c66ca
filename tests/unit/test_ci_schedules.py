"""The drift-remediation example's CI schedules are valid for the systems that run them.

* ``.github/workflows/polardb-drift.yml``: ``actionlint`` (built from Go modules by
  ``scripts/install-actionlint``) with the example's ``.github/actionlint.yaml``;
* ``.gitlab-ci.yml``: GitLab's CI schema (check-jsonschema's vendored ``gitlab-ci``), plus
  the rules the schema does not express.

Without actionlint (no Go, no script) the workflow check is skipped locally and fails under
``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "drift-remediation"
WORKFLOW = EXAMPLE / ".github" / "workflows" / "polardb-drift.yml"
GITLAB = EXAMPLE / ".gitlab-ci.yml"


def actionlint() -> str:
    script = REPO / "scripts" / "install-actionlint"
    found: str | None = None
    if script.exists():
        done = subprocess.run([str(script)], capture_output=True, text=True, timeout=900)
        if done.returncode == 0 and done.stdout.strip():
            found = done.stdout.strip().splitlines()[-1]
    found = found or shutil.which("actionlint")
    if found is None:
        reason = "actionlint not found (scripts/install-actionlint builds it with Go)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    return found


def lint(workflow: Path) -> subprocess.CompletedProcess[str]:
    config = EXAMPLE / ".github" / "actionlint.yaml"
    return subprocess.run(
        [actionlint(), "-no-color", "-config-file", str(config), str(workflow)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_github_workflow_passes_actionlint(tmp_path: Path) -> None:
    done = lint(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr
    # The check can fail: an unknown input and a bad runner label are reported.
    broken = tmp_path / "broken.yml"
    text = WORKFLOW.read_text().replace("inputs.all &&", "inputs.everything &&")
    broken.write_text(text.replace("polardb-vpc]", "polardb-vcp]"))
    done = lint(broken)
    assert done.returncode == 1, done.stdout
    assert "everything" in done.stdout and "polardb-vcp" in done.stdout


def test_github_workflow_shape() -> None:
    flow: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    triggers = flow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"][0]["cron"]
    detect, remediate = flow["jobs"]["detect"], flow["jobs"]["remediate"]
    assert detect["strategy"]["matrix"]["shard"] == remediate["strategy"]["matrix"]["shard"]
    assert remediate["needs"] == "detect" and remediate["environment"] == "polardb-production"
    runs = [s.get("run", "") for s in detect["steps"]]
    assert any("polardb-reset detect" in r and "--junit-xml" in r for r in runs)
    uploads = [s for s in detect["steps"] if str(s.get("uses", "")).startswith("actions/upload")]
    assert uploads and uploads[0]["if"] == "always()"
    assert any("polardb-reset remediate" in s.get("run", "") for s in remediate["steps"])


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.gitlab-ci",
            "--no-cache",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_gitlab_ci_matches_gitlabs_schema(tmp_path: Path) -> None:
    done = check_jsonschema(GITLAB)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / ".gitlab-ci.yml"
    broken.write_text(GITLAB.read_text().replace("when: on_failure", "when: on_drift"))
    done = check_jsonschema(broken)
    assert done.returncode == 1, done.stdout + done.stderr


def test_gitlab_ci_rules_the_schema_does_not_check() -> None:
    pipeline: dict[str, Any] = yaml.safe_load(GITLAB.read_text())
    jobs = {k: v for k, v in pipeline.items() if isinstance(v, dict) and "script" in v}
    assert set(jobs) == {"drift-detect", "drift-remediate"}
    for name, job in jobs.items():
        # GitLab refuses a job-level `when` beside `rules` (the schema allows it).
        assert "when" not in job, name
        assert job["extends"] == ".polardb-reset"
        assert job["stage"] in pipeline["stages"]
    remediate = jobs["drift-remediate"]
    assert all(rule["when"] == "on_failure" for rule in remediate["rules"])
    assert remediate["environment"]["name"] == "polardb-production"
    detect = jobs["drift-detect"]
    assert "--junit-xml detect.xml" in detect["script"][0]
    assert detect["artifacts"]["reports"]["junit"].endswith("detect.xml")
