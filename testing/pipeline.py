"""Fixtures of the `train` tests, fast and integration alike: a tiny git + DVC project and the venv's
dvc first on PATH. A test module takes them with
``from testing.pipeline import fixture_pipeline_repo, fixture_venv_path``."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import tempfile
import textwrap
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from mlops_ci.core.proc import git
from mlops_ci.training.pipeline import stage_definitions


def resolved_stages(dvc_yaml: str, params: str = "") -> dict[str, dict[str, Any]]:
    """The stages of the text `dvc_yaml` as DVC's loader resolves them, `params` being params.yaml."""
    return copy.deepcopy(_resolved_stages(dvc_yaml, params))


@lru_cache(maxsize=None)
def _resolved_stages(dvc_yaml: str, params: str) -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "dvc.yaml").write_text(dvc_yaml, encoding="utf-8")
        (Path(folder) / "params.yaml").write_text(params, encoding="utf-8")
        return stage_definitions(Path(folder))


@pytest.fixture(name="pipeline_repo")
def fixture_pipeline_repo(tmp_path: Path) -> Path:
    """A tiny git + DVC project: one stage writing metrics and a plot, no remote."""
    repo = tmp_path / "proj"
    repo.mkdir()
    (repo / "dvc.yaml").write_text(textwrap.dedent("""\
        stages:
          fit:
            cmd: python fit.py
            deps: [fit.py]
            params: [fit]
            outs: [model.txt]
            metrics: [metrics.json]
            plots: [plots/curve.csv]
    """))
    (repo / "params.yaml").write_text("fit:\n  lr: 0.1\n")
    (repo / "fit.py").write_text(textwrap.dedent("""\
        import json, os, yaml
        lr = yaml.safe_load(open("params.yaml"))["fit"]["lr"]
        open("model.txt", "w").write(str(lr))
        json.dump({"accuracy": 1 - lr}, open("metrics.json", "w"))
        os.makedirs("plots", exist_ok=True)
        open("plots/curve.csv", "w").write("epoch,loss\\n1,0.5\\n2,0.25\\n")
    """))
    (repo / "README.md").write_text("tiny\n")
    git(repo, "init", "--quiet", "--initial-branch=develop")
    git(repo, "config", "user.email", "t@example.invalid")
    git(repo, "config", "user.name", "t")
    subprocess.run([sys.executable, "-m", "dvc", "init", "--quiet"], cwd=repo, check=True)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "init")
    return repo


@pytest.fixture(name="venv_path")
def fixture_venv_path(monkeypatch):
    """The venv's bin (dvc, python) first on PATH, no MLflow server unless a test sets one."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
