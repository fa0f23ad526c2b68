"""`mlops-ci track` on the DVC projects of our own under tests/projects/, each in the shape of a public
one (issue 23): copied as a team's repository, `git init` and `dvc init`, the `model:` section that
`mlops-ci init` writes, `dvc repro`, then `mlops-ci track` against one MLflow server. The runs must
hold each project's params, metrics (dvclive's history with its steps), plots, images and dvc.lock,
and the version its flavor. The wall time of each step is printed, never asserted on."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mlflow.models import get_model_info
from mlflow.tracking import MlflowClient

from testing.fixtures import MLFLOW_CLIENT_ENV
from testing.story import PROJECTS, shell

# What `mlops-ci init` writes into .github/mlops-ci.yml for each project: its model out and flavor.
MODELS = {"dvclive-eval": ("model.pkl", "sklearn"), "vision-segments": ("models/model.pt", "pytorch"),
          "plain-metrics": ("models/model.joblib", "sklearn")}


@dataclass
class Tracked:
    """A project after `dvc repro` and `mlops-ci track`: its folder, the result, the step times."""

    project: Path
    result: dict
    times: dict[str, float] = field(default_factory=dict)


def track_env(server_url: str, output: Path) -> dict[str, str]:
    return {**MLFLOW_CLIENT_ENV, "MLFLOW_TRACKING_URI": server_url, "MLOPS_CI_TRACK_OUTPUT": str(output),
            "MLOPS_CI_PR_NUMBER": "7"}


def reproduced(name: str, work: Path) -> Tracked:
    """Project `name` as a team's repository in `work`, with init's model section, after `dvc repro`."""
    project = work / name
    shutil.copytree(PROJECTS / name, project)
    path, flavor = MODELS[name]
    shell("git init --quiet && dvc init --quiet && git add --all && git commit --quiet -m 'the project'",
          project)
    (project / ".github").mkdir()
    (project / ".github" / "mlops-ci.yml").write_text(
        f"model:\n  name: {name}\n  path: {path}\n  flavor: {flavor}\n", encoding="utf-8")
    started = time.monotonic()
    shell("dvc repro", project)
    return Tracked(project, {}, {"dvc repro": time.monotonic() - started})


@pytest.fixture(name="tracked", scope="module")
def fixture_tracked(mlflow_server, tmp_path_factory) -> dict[str, Tracked]:
    """Each project reproduced and tracked once for the module, on the session's MLflow server."""
    work = tmp_path_factory.mktemp("projects")
    done = {}
    for name in MODELS:
        tracked = reproduced(name, work)
        output = work / f"{name}.json"
        started = time.monotonic()
        shell("mlops-ci track", tracked.project, track_env(mlflow_server.url, output))
        tracked.times["mlops-ci track"] = time.monotonic() - started
        tracked.result = json.loads(output.read_text(encoding="utf-8"))
        done[name] = tracked
    print("\n| project | dvc repro | mlops-ci track |\n|---|---|---|")
    print("\n".join(f"| {name} | {t.times['dvc repro']:.1f} s | {t.times['mlops-ci track']:.1f} s |"
                    for name, t in done.items()))
    return done


@pytest.fixture(name="client")
def fixture_client(mlflow_server, mlflow_client_env, monkeypatch) -> MlflowClient:
    """A client of the server; `models:/` URIs resolve there too."""
    del mlflow_client_env
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    return MlflowClient(mlflow_server.url)


def artifact_files(client: MlflowClient, run_id: str, folder: str = "") -> set[str]:
    """Every file among the run's artifacts, the model's excepted."""
    files = set()
    for item in client.list_artifacts(run_id, folder):
        if item.path == "model":
            continue
        files |= artifact_files(client, run_id, item.path) if item.is_dir else {item.path}
    return files


def registered(client: MlflowClient, tracked: Tracked):
    """(the version the result names, its run, the run's flavors), once checked against each other."""
    name, version = tracked.result["model_name"], tracked.result["model_version"]
    found = client.get_model_version(name, version)
    assert found.run_id == tracked.result["run_id"] and found.tags["mlops_ci.pr"] == "7"
    return found, client.get_run(found.run_id), set(get_model_info(f"models:/{name}/{version}").flavors)


def test_dvclive_eval_logs_both_dvclive_folders_with_their_history(tracked, client):
    version, run, flavors = registered(client, tracked["dvclive-eval"])
    assert {"sklearn", "python_function"} <= flavors
    assert run.data.params["featurize.max_features"] == "200" and run.data.params["train.epochs"] == "8"
    # dvclive/ (training) and eval/ (evaluation) both write metrics.json with an `accuracy`: named by
    # folder, never one over the other; dvclive's `step` is no metric.
    assert set(run.data.metrics) == {"dvclive/metrics.accuracy", "dvclive/metrics.loss", "eval/metrics.accuracy",
                                     "eval/metrics.avg_prec", "eval/metrics.roc_auc"}
    history = client.get_metric_history(run.info.run_id, "dvclive/metrics.loss")
    assert [point.step for point in history] == list(range(8))
    assert history[-1].value == pytest.approx(run.data.metrics["dvclive/metrics.loss"])
    assert {"dvc.lock", "dvclive/metrics.json", "dvclive/plots/metrics/loss.tsv", "eval/metrics.json",
            "eval/plots/sklearn/roc/test.json", "eval/plots/sklearn/cm/train.json",
            "eval/plots/images/importance.png"} <= artifact_files(client, run.info.run_id)
    assert version.version == tracked["dvclive-eval"].result["model_version"]


def test_vision_segments_registers_its_torchscript_model_with_its_confusion_image(tracked, client):
    _, run, flavors = registered(client, tracked["vision-segments"])
    assert {"pytorch", "python_function"} <= flavors
    assert run.data.params["synthesize.per_class"] == "40" and run.data.params["train.lr"] == "0.02"
    assert set(run.data.metrics) == {"accuracy", "loss", "n_test"}
    assert 0 <= run.data.metrics["accuracy"] <= 1
    assert {"dvc.lock", "reports/metrics.json", "reports/confusion.png", "reports/history.csv",
            "reports/predictions.csv"} <= artifact_files(client, run.info.run_id)


def test_plain_metrics_resolves_its_foreach_stages_and_keys_params_by_file(tracked, client):
    _, run, flavors = registered(client, tracked["plain-metrics"])
    assert "sklearn" in flavors
    assert {"seed", "data.rows", "config/model.yaml:model.n_estimators",
            "config/features.yaml:features.degree"} <= set(run.data.params)
    assert set(run.data.metrics) == {f"{split}.{name}" for split in ("train", "test")
                                     for name in ("rmse", "mae", "r2", "n_rows")}
    assert {"dvc.lock", "metrics/train.json", "metrics/test.json", "plots/train/residuals.csv",
            "plots/test/residuals.csv"} <= artifact_files(client, run.info.run_id)


def test_without_a_model_section_the_run_is_logged_and_nothing_registered(tracked, client, mlflow_server,
                                                                         tmp_path):
    project = tmp_path / "plain-metrics"
    shutil.copytree(tracked["plain-metrics"].project, project)
    (project / ".github" / "mlops-ci.yml").write_text("policy: {}\n", encoding="utf-8")
    output = tmp_path / "result.json"
    printed = shell("mlops-ci track", project, {**track_env(mlflow_server.url, output),
                                                "MLOPS_CI_EXPERIMENT": "plain-metrics-unregistered"})
    assert "no model is registered" in printed
    result = json.loads(output.read_text(encoding="utf-8"))
    assert result["model_name"] is None and result["model_version"] is None
    run = client.get_run(result["run_id"])
    assert "test.rmse" in run.data.metrics and "config/model.yaml:model.max_depth" in run.data.params
    assert "model" not in {item.path for item in client.list_artifacts(run.info.run_id)}
