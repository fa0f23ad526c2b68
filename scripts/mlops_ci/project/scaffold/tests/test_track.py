"""MLflow tracking: a local sqlite store stands in for the tracking server."""
# Test names say what each test checks.
# pylint: disable=missing-function-docstring
import json

import mlflow
from sklearn.linear_model import LogisticRegression

from src import prepare, track, train
from src.common import load_params


def test_flatten_joins_nested_keys():
    assert track.flatten({"seed": 1, "train": {"C": 0.5}}) == {"seed": 1, "train.C": 0.5}


def test_metrics_files_are_read_from_the_pipeline(workdir):
    (workdir / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: x\n"
        "    metrics: [eval/metrics.json, {eval/timing.json: {cache: false}}]\n"
        "metrics: [extra.json]\n", encoding="utf-8")
    assert [path.as_posix() for path in track.metrics_files()] == [
        "eval/metrics.json", "eval/timing.json", "extra.json"]


def test_without_tracking_uri_it_only_says_so(workdir, monkeypatch, capsys):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert track.main() == 0
    assert "MLFLOW_TRACKING_URI is not set" in capsys.readouterr().out
    assert not (workdir / "mlruns").exists()


def test_logs_the_run_and_registers_the_model(workdir, monkeypatch):
    prepare.main()
    train.main()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{workdir / 'mlflow.db'}")
    monkeypatch.setenv("MLOPS_CI_TRACK_OUTPUT", str(workdir / "track.json"))
    monkeypatch.setenv("MLOPS_CI_PR_NUMBER", "7")
    assert track.main() == 0
    result = json.loads((workdir / "track.json").read_text(encoding="utf-8"))
    assert result["model_version"] == "1"
    run = mlflow.get_run(result["run_id"])
    assert run.data.params["train.C"] == str(load_params()["train"]["C"]) and "accuracy" in run.data.metrics
    assert run.data.tags["mlops_ci.pr"] == "7"


def test_the_flavour_follows_the_models_framework():
    module = type("Module", (), {"__module__": "torch.nn.modules.module"})
    net = type("Net", (module,), {"__module__": "src.model"})  # a team's own torch model
    booster = type("XGBClassifier", (), {"__module__": "xgboost.sklearn"})
    assert [track.flavour(model()) for model in (net, booster, LogisticRegression)] == [
        "pytorch", "xgboost", "sklearn"]
