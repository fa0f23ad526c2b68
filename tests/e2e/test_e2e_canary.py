"""End to end: the canary caller template, our reusable canary workflow and its composite actions, run
by act against a real MLflow server: prediction logs committed to the project in which the canary is
worse make compare say rollback, so the step aborts the canary and fails the job."""

from __future__ import annotations

import json

import pytest

from testing.fixtures import registered_model
from mlops_ci.cli import main
from testing.project import commit_change

pytestmark = pytest.mark.e2e


def prediction_log(version: str, accuracy: float, rows: int = 200) -> str:
    """A `serve --log-dir` style log of `version`: `rows` labelled predictions, `accuracy` right."""
    right = round(rows * accuracy)
    return "".join(json.dumps({"request_id": f"v{version}-{index}", "version": version, "label": index % 3,
                               "prediction": index % 3 if index < right else (index + 1) % 3}) + "\n"
                   for index in range(rows))


@pytest.mark.usefixtures("mlflow_client_env")
def test_a_worse_canary_is_aborted_by_the_scheduled_step(project_repo, github_api, mlflow_server, tmp_path,
                                                          monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    model, client = registered_model(mlflow_server.url, "digits-canary", 2)
    assert main(["canary", "start", "--model", model, "--version", "2", "--fraction", "0.25"]) == 0

    commit_change(project_repo, "main", "canary/champion.jsonl", prediction_log("1", 0.95), "PROJ-9: logs")
    commit_change(project_repo, "main", "canary/challenger.jsonl", prediction_log("2", 0.60), "PROJ-9: logs")
    out = tmp_path / "run"
    assert main(["local", "workflow_dispatch", "--branch", "main", "--repo", str(project_repo),
                 "-W", ".github/workflows/mlops-ci-canary.yml", "--out", str(out),
                 "--github-api-url", github_api.url, "--input", "action=step",
                 "--var", f"MLFLOW_TRACKING_URI={mlflow_server.url}",
                 "--var", f"MLOPS_CI_MODEL_NAME={model}",
                 "--var", "CANARY_CONTROL_LOG=canary/champion.jsonl",
                 "--var", "CANARY_TREATMENT_LOG=canary/challenger.jsonl",
                 "--env", "MLFLOW_HTTP_REQUEST_MAX_RETRIES=1", "--env", "MLFLOW_HTTP_REQUEST_TIMEOUT=10"]) == 1
    [job] = json.loads((out / "result.json").read_text())["jobs"]
    assert job["result"] == "failure", job
    assert "❌ aborted" in job["summary"] and "compare: ❌ rollback" in job["summary"]

    registered = client.get_registered_model(model)
    assert registered.aliases == {"champion": "1"}
    assert not any(key.startswith("mlops_ci.canary") for key in registered.tags)
    tags = client.get_model_version(model, "2").tags
    assert tags["mlops_ci.validation_status"] == "rolled_back"
    assert tags["mlops_ci.rollback_reason"].startswith("compare said rollback: ")
