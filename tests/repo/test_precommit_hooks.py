"""Our checks as pre-commit hooks: the manifest is valid and the hooks run from a project repo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pre_commit.clientlib import load_manifest

from mlops_ci.core.proc import git

ROOT = Path(__file__).resolve().parents[2]


def test_manifest_is_valid_and_names_our_commands():
    hooks = {hook["id"]: hook for hook in load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))}
    assert hooks["mlops-ci-deps"]["entry"] == "mlops-ci deps check"
    assert hooks["mlops-ci-branch-name"]["entry"] == "mlops-ci policy branch-name"


@pytest.mark.e2e
def test_hooks_run_from_a_project_repo(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("numpy\nscipy==1.17.1\n")
    git(project, "init", "--quiet", "--initial-branch=feature/PROJ-1-x")
    git(project, "add", "requirements.txt")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def try_hook(hook: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook,
                               "--files", "requirements.txt"], cwd=project, env=env, capture_output=True,
                              text=True, timeout=600, check=False)

    deps = try_hook("mlops-ci-deps")
    assert deps.returncode == 1 and "requirements.txt:1: numpy: no version" in deps.stdout, deps.stdout
    branch = try_hook("mlops-ci-branch-name")
    assert branch.returncode == 0, branch.stdout
