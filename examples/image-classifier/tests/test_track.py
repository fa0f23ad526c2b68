"""MLflow tracking: a local sqlite store stands in for the tracking server."""
# Test names say what each test checks.
# pylint: disable=missing-function-docstring
import json
import socket

import mlflow
import yaml

from src import track

GITHUB_ENV = {
    "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
    "GITHUB_HEAD_REF": "feature/PROJ-1-bigger-model",
    "GITHUB_SERVER_URL": "https://github.example",
    "GITHUB_REPOSITORY": "team/digits",
    "GITHUB_RUN_ID": "42",
    "MLOPS_CI_PR_NUMBER": "7",
}


def unused_port():
    """A local TCP port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_flatten_joins_nested_keys():
    assert track.flatten({"seed": 1, "train": {"lr": 0.1, "opt": {"name": "adam"}}}) == {
        "seed": 1, "train.lr": 0.1, "train.opt.name": "adam"}


def test_inference_requirements_are_exact_pins_from_requirements_txt(tiny_project, monkeypatch):
    monkeypatch.chdir(tiny_project)
    pins = track.inference_requirements()
    assert [pin.split("==")[0] for pin in pins] == ["mlflow", "numpy", "torch"]
    assert all(pin.count("==") == 1 for pin in pins)


def test_without_tracking_uri_it_only_says_so(monkeypatch, capsys, tiny_project):
    monkeypatch.chdir(tiny_project)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert track.main() == 0
    assert "MLFLOW_TRACKING_URI is not set" in capsys.readouterr().out


def test_unreachable_server_fails_with_one_line(monkeypatch, capsys, tiny_project):
    monkeypatch.chdir(tiny_project)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{unused_port()}")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    assert track.main() == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("track: failed to log to MLflow at http://127.0.0.1:")
    assert "Traceback" not in captured.err


def test_logs_a_run_and_registers_a_tagged_version(tiny_project, monkeypatch, capsys):
    monkeypatch.chdir(tiny_project)  # a sqlite store keeps artifacts under ./mlruns
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tiny_project}/mlflow.db")
    monkeypatch.setenv("MLOPS_CI_MODEL_NAME", "digits-test")
    monkeypatch.setenv("MLOPS_CI_TRACK_OUTPUT", str(tiny_project / "track.json"))
    for name, value in GITHUB_ENV.items():
        monkeypatch.setenv(name, value)

    assert track.main() == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result == json.loads((tiny_project / "track.json").read_text(encoding="utf-8"))
    assert result["model_name"] == "digits-test" and result["model_version"] == "1"

    raw_md5 = yaml.safe_load((tiny_project / "data/raw.dvc").read_text(encoding="utf-8"))["outs"][0]["md5"]
    expected_tags = {
        "mlops_ci.commit": GITHUB_ENV["GITHUB_SHA"],
        "mlops_ci.branch": GITHUB_ENV["GITHUB_HEAD_REF"],
        "mlops_ci.pr": "7",
        "mlops_ci.run_url": "https://github.example/team/digits/actions/runs/42",
        "mlops_ci.data_version": raw_md5,
    }
    client = mlflow.MlflowClient()
    run = client.get_run(result["run_id"])
    assert client.get_experiment(run.info.experiment_id).name == "digits-classifier"
    params = yaml.safe_load((tiny_project / "params.yaml").read_text(encoding="utf-8"))
    assert run.data.params["train.lr"] == str(params["train"]["lr"])
    assert run.data.params["prepare.on_issue.duplicate"] == params["prepare"]["on_issue"]["duplicate"]
    assert sorted(run.data.metrics) == ["accuracy", "curve.train_loss", "curve.val_accuracy", "f1",
                                        "precision", "recall"]
    assert len(client.get_metric_history(run.info.run_id, "curve.val_accuracy")) == 3
    assert expected_tags.items() <= run.data.tags.items()
    artifacts = {entry.path for folder in ("plots", "eval")
                 for entry in client.list_artifacts(run.info.run_id, folder)}
    assert artifacts == {"plots/confusion_matrix.png", "plots/per_class.png", "plots/training_curve.png",
                         "eval/predictions.csv"}
    version = client.get_model_version("digits-test", "1")
    assert version.run_id == run.info.run_id
    assert expected_tags.items() <= version.tags.items()


def test_an_experiment_run_is_logged_but_registers_no_version(tiny_project, monkeypatch, capsys):
    monkeypatch.chdir(tiny_project)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tiny_project}/mlflow.db")
    monkeypatch.setenv("MLOPS_CI_MODEL_NAME", "digits-experiments")
    monkeypatch.setenv("MLOPS_CI_REGISTER", "false")

    assert track.main() == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["model_version"] is None
    client = mlflow.MlflowClient()
    assert client.get_run(result["run_id"]).data.metrics["accuracy"] >= 0
    assert not client.search_model_versions("name = 'digits-experiments'")
