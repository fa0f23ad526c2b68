"""Fixtures of the `report` tests, fast and integration alike: the example project trained on develop and
on a feature branch, and the venv's dvc first on PATH. A test module takes them with
``from testing.report import fixture_project, fixture_venv_path`` (each module builds its own project)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_ci.core.proc import git
from testing.project import make_project_repo

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = str(Path(sys.executable).parent)


@pytest.fixture(name="venv_path")
def fixture_venv_path(monkeypatch):
    """The venv's bin (dvc) first on PATH, outside Actions, no MLflow server unless a test sets one."""
    monkeypatch.setenv("PATH", VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)


def run_in_venv(repo: Path, *command: str) -> None:
    """Run `command` in `repo` with the venv's bin first on PATH (dvc), failing on a non-zero exit."""
    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", ""), "DVC_NO_ANALYTICS": "1"}
    subprocess.run(command, cwd=repo, env=env, check=True, capture_output=True, text=True, timeout=600)


def commit_all(repo: Path, message: str) -> None:
    """Commit everything in `repo`, if anything changed."""
    git(repo, "add", "--all")
    if git(repo, "status", "--porcelain"):
        git(repo, "commit", "--quiet", "--message", message)


@pytest.fixture(name="project", scope="session")
def fixture_project(tmp_path_factory) -> Path:
    """The example on develop after `dvc repro`, then branch feature/lr: train.lr doubled, eight
    images of class 3 deleted and one added (`dvc add data/raw`), `dvc repro` again, committed."""
    repo = make_project_repo(tmp_path_factory.mktemp("report") / "digits", ROOT)
    git(repo, "checkout", "--quiet", "develop")
    run_in_venv(repo, sys.executable, "-m", "src.ingest")
    run_in_venv(repo, "dvc", "repro", "--quiet")
    commit_all(repo, "Reproduce the pipeline")
    git(repo, "checkout", "--quiet", "-b", "feature/lr")
    params = repo / "params.yaml"
    text = params.read_text(encoding="utf-8")
    assert "  lr: 0.01\n" in text
    params.write_text(text.replace("  lr: 0.01\n", "  lr: 0.02\n"), encoding="utf-8")
    for image in sorted((repo / "data" / "raw" / "3").glob("*1.png"))[:8]:
        image.unlink()
    shutil.copy(repo / "data" / "raw" / "0" / "0000.png", repo / "data" / "raw" / "0" / "new_0.png")
    run_in_venv(repo, "dvc", "add", "--quiet", "data/raw")
    run_in_venv(repo, "dvc", "repro", "--quiet")
    commit_all(repo, "Double the learning rate; fewer threes")
    return repo
