"""Our checks as pre-commit hooks: the manifest is valid and the hooks run from a project repo."""

from __future__ import annotations

import os
import re
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
    assert hooks["mlops-ci-config"]["entry"] == "mlops-ci config check"
    assert hooks["mlops-ci-config"]["pass_filenames"] is False  # the command finds the file itself
    files = re.compile(hooks["mlops-ci-config"]["files"])
    assert files.search(".github/mlops-ci.yml") and not files.search("sub/.github/mlops-ci.yml")


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
