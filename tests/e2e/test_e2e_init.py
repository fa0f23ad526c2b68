"""End to end: the pull_request workflow of a project `mlops-ci init` made passes through act."""

from __future__ import annotations

import json

import pytest

from mlops_ci.cli import main
from mlops_ci.core.proc import git
from testing.project import commit_change
from testing.scaffold import fixture_project  # noqa: F401  fixture


@pytest.mark.e2e
def test_pull_request_workflow_of_a_new_project_passes(project, tmp_path, github_api, mlflow_server, monkeypatch):
    """The scaffold's own PR workflow on its first feature branch: policy, quality gate, training
    (logged and registered in MLflow) and the reviewer's report as the PR's comment."""
    branch = "feature/PROJ-1-first-model"
    params = (project / "params.yaml").read_text().replace("C: 1.0", "C: 0.5")
    commit_change(project, branch, "params.yaml", params, "PROJ-1: a first model", start="develop")
    remote = github_api.state.add_repo("acme/churn-model", branches=["develop"])
    remote.add_branch(branch, git(project, "rev-parse", branch))
    number = remote.add_pull(branch, "develop", title="PROJ-1: a first model").number
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    code = main(["local", "pull_request", "--repo", str(project), "--repository", "acme/churn-model",
                 "--head", branch, "--base", "develop", "--title", "PROJ-1: a first model",
                 "--pr-number", str(number), "--job", "train", "--out", str(tmp_path / "out"),
                 "--github-api-url", github_api.url, "--secret", "GITHUB_TOKEN",
                 "--var", f"MLFLOW_TRACKING_URI={mlflow_server.url}"])
    jobs = json.loads((tmp_path / "out" / "result.json").read_text())["jobs"]
    results = {entry["name"].rsplit("/", 1)[-1]: entry["result"] for entry in jobs}
    assert code == 0 and results == {"branch-policy": "success", "lint-test": "success", "plan": "success",
                                     "train": "success", "report": "success", "experiment": "skipped",
                                     "docker-integration": "skipped"}, jobs
    [comment] = remote.comments_on(number)
    assert "## 📊 Model report" in comment.body
