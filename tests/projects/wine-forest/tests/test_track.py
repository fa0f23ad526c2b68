"""MLflow tracking: a local sqlite store stands in for the tracking server."""
# Test names say what each test checks.
# pylint: disable=missing-function-docstring
import json

import mlflow

from src import prepare, track, train
from src.common import load_params


def test_without_tracking_uri_it_only_says_so(workdir, monkeypatch, capsys):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert track.main() == 0
    assert "MLFLOW_TRACKING_URI is not set" in capsys.readouterr().out
    assert not (workdir / "mlruns").exists()


def test_logs_nested_params_and_both_metrics_files_and_registers_the_model(workdir, monkeypatch):
    prepare.main()
    train.main()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{workdir / 'mlflow.db'}")
    monkeypatch.setenv("MLOPS_CI_TRACK_OUTPUT", str(workdir / "track.json"))
    assert track.main() == 0
    result = json.loads((workdir / "track.json").read_text(encoding="utf-8"))
    assert result["model_version"] == "1"
    run = mlflow.get_run(result["run_id"])
    forest = load_params()["train"]["forest"]
    assert run.data.params["train.forest.n_estimators"] == str(forest["n_estimators"])
    assert {"metrics.accuracy", "metrics.f1_macro", "timing.n_trees"} <= set(run.data.metrics)
