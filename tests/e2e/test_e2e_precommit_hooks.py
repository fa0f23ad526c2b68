"""End to end: the pre-commit hooks of .pre-commit-hooks.yaml run from a project repository."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mlops_ci.core.proc import git
from testing.fixtures import ROOT


@pytest.mark.e2e
def test_hooks_run_from_a_project_repo(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("numpy\nscipy==1.17.1\n")
    git(project, "init", "--quiet", "--initial-branch=feature/PROJ-1-x")
    git(project, "add", "requirements.txt")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def try_hook(hook: str, file: str = "requirements.txt") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook,
                               "--files", file], cwd=project, env=env, capture_output=True,
                              text=True, timeout=600, check=False)

    deps = try_hook("mlops-ci-deps")
    assert deps.returncode == 1 and "requirements.txt:1: numpy: no version" in deps.stdout, deps.stdout
    branch = try_hook("mlops-ci-branch-name")
    assert branch.returncode == 0, branch.stdout
    (project / ".github").mkdir()
    (project / ".github" / "mlops-ci.yml").write_text("report: {precision: 2}\nreprot: {}\n")
    git(project, "add", ".github/mlops-ci.yml")
    config = try_hook("mlops-ci-config", ".github/mlops-ci.yml")
    assert config.returncode == 1, config.stdout
    assert ".github/mlops-ci.yml:2: reprot: unknown key" in config.stdout, config.stdout
