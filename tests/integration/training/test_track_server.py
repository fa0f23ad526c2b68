"""`mlops-ci track` against a real MLflow server: a DVC project's run logged from what dvc.yaml
declares, its model registered in its flavor and loadable back for serving."""

from __future__ import annotations

import json

import mlflow.pyfunc
import pytest
from mlflow.tracking import MlflowClient

from mlops_ci.cli import main
from mlops_ci.core.proc import git
from testing.tracked import training_rows, write_project

GIT_IDENTITY = ("-c", "user.name=t", "-c", "user.email=t@t.invalid")


@pytest.fixture(name="tracking")
def fixture_tracking(mlflow_server, mlflow_client_env, monkeypatch, tmp_path):
    """The environment of the train job's track step, output file included; the result file's path."""
    del mlflow_client_env
    output = tmp_path / "track.json"
    for name, value in (("MLFLOW_TRACKING_URI", mlflow_server.url), ("MLOPS_CI_PR_NUMBER", "5"),
                        ("MLOPS_CI_TRACK_OUTPUT", str(output))):
        monkeypatch.setenv(name, value)
    for name in ("MLOPS_CI_MODEL_NAME", "MLOPS_CI_EXPERIMENT", "MLOPS_CI_REGISTER", "GITHUB_SHA"):
        monkeypatch.delenv(name, raising=False)
    return output


def committed_project(root, kind, name):
    """write_project, committed in git (the commit and the fingerprint tags come from git)."""
    write_project(root, kind, name=name)
    git(root, "init", "--quiet")
    git(root, "add", ".")
    git(root, *GIT_IDENTITY, "commit", "--quiet", "-m", "trained")
    return root


def test_track_logs_params_metrics_history_artifacts_and_tags_and_registers(tmp_path, tracking, mlflow_server):
    project = committed_project(tmp_path / "project", "sklearn", "tracked-sklearn")
    assert main(["track", "--repo", str(project)]) == 0
    result = json.loads(tracking.read_text(encoding="utf-8"))
    assert result["model_name"] == "tracked-sklearn" and result["model_version"]

    client = MlflowClient(mlflow_server.url)
    version = client.get_model_version("tracked-sklearn", result["model_version"])
    run = client.get_run(result["run_id"])
    assert version.run_id == run.info.run_id
    assert run.data.params == {"train.lr": "0.1", "train.layers.hidden": "8", "unused_by_stages": "1",
                               "search.yaml:depth": "3", "search.yaml:width": "[1, 2]"}
    assert run.data.metrics == {"accuracy": 0.9, "loss.val": 0.25}   # dvclive's step is no metric
    history = client.get_metric_history(run.info.run_id, "loss.val")
    assert [(point.step, point.value) for point in history] == [(0, 0.9), (1, 0.5), (2, 0.25)]
    head = git(project, "rev-parse", "HEAD")
    for tags in (run.data.tags, version.tags):
        assert tags["mlops_ci.commit"] == head and tags["mlops_ci.pr"] == "5" and tags["mlops_ci.pr.5"] == "true"
        assert len(tags["mlops_ci.fingerprint"]) == 64
    logged = {item.path for folder in ("", "eval", "plots") for item in client.list_artifacts(run.info.run_id,
                                                                                             folder)}
    assert {"eval/metrics.json", "eval/plots", "eval/confusion.csv", "eval/predictions.csv",
            "plots/confusion.png"} <= logged
    assert client.get_experiment(run.info.experiment_id).name == "tracked-sklearn"


@pytest.mark.parametrize("kind", ["pytorch", "onnx", "lightgbm", "pyfunc", "skops"])
def test_each_flavor_registers_a_model_that_serves(tmp_path, tracking, mlflow_server, kind):
    name = f"tracked-{kind}"
    project = committed_project(tmp_path / "project", kind, name)
    assert main(["track", "--repo", str(project)]) == 0
    result = json.loads(tracking.read_text(encoding="utf-8"))
    served = mlflow.pyfunc.load_model(f"models:/{name}/{result['model_version']}")
    features, _ = training_rows(5)
    predictions = served.predict(features if kind != "pyfunc" else features.tolist())
    if kind == "onnx":   # an ONNX model answers with its named outputs
        predictions = predictions["scores"]
    assert len(predictions) == 5


def test_a_pyfunc_loader_from_an_installed_package_registers(tmp_path, tracking, mlflow_server):
    # fastai.learner:load_learner, say: nothing of the project to ship with the model.
    project = tmp_path / "project"
    write_project(project, "joblib", name="tracked-installed-loader")
    (project / ".github" / "mlops-ci.yml").write_text(
        "model:\n  name: tracked-installed-loader\n  path: models/model.joblib\n  flavor: pyfunc\n"
        "  loader: joblib:load\n", encoding="utf-8")
    git(project, "init", "--quiet")
    git(project, "add", ".")
    git(project, *GIT_IDENTITY, "commit", "--quiet", "-m", "trained")
    assert main(["track", "--repo", str(project)]) == 0
    result = json.loads(tracking.read_text(encoding="utf-8"))
    served = mlflow.pyfunc.load_model(f"models:/tracked-installed-loader/{result['model_version']}")
    assert len(served.predict(training_rows(5)[0].tolist())) == 5


def test_a_run_that_must_not_register_logs_without_a_version(tmp_path, tracking, mlflow_server, monkeypatch):
    project = committed_project(tmp_path / "project", "sklearn", "tracked-unregistered")
    monkeypatch.setenv("MLOPS_CI_REGISTER", "false")
    monkeypatch.setenv("MLOPS_CI_EXPERIMENT", "tracked-experiments")
    assert main(["track", "--repo", str(project)]) == 0
    result = json.loads(tracking.read_text(encoding="utf-8"))
    assert result["model_version"] is None
    client = MlflowClient(mlflow_server.url)
    assert not client.search_model_versions("name='tracked-unregistered'")
    assert client.get_experiment(client.get_run(result["run_id"]).info.experiment_id).name == "tracked-experiments"
