"""`mlops-ci track` without a server: what it reads from a DVC project, and the model check that
comes before anything is logged (the logging itself: tests/integration/training/test_track_server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_ci.cli import main
from mlops_ci.config.sections import ModelConfig
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.training import flavors
from mlops_ci.training.pipeline import declared
from mlops_ci.training.track import (artifacts_of, data_tags, metrics_of, params_of,
                                     serving_requirements)
from testing.tracked import MODEL_FILES, write_project


@pytest.fixture(name="no_mlflow")
def fixture_no_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def test_the_pipeline_declares_outs_metrics_plots_and_params_files(tmp_path):
    pipeline = declared(write_project(tmp_path))
    assert pipeline.outs == ["models/model.pkl", "eval/predictions.csv", "plots/confusion.png",
                             "eval/metrics.json", "eval/plots"]
    assert pipeline.metrics == ["eval/metrics.json"]
    assert pipeline.plots == ["eval/plots", "eval/confusion.csv"]
    assert pipeline.params_files == ["params.yaml", "search.yaml"]


def test_dvclive_adds_top_level_metrics_plots_and_params(tmp_path):
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: python train.py\n    outs: [{model.pkl: {cache: false}}]\n"
        "metrics: [dvclive/metrics.json]\nplots: [dvclive/plots/metrics: {x: step}]\n"
        "params: [dvclive/params.yaml]\n", encoding="utf-8")
    pipeline = declared(tmp_path)
    assert (pipeline.outs, pipeline.metrics) == (["model.pkl"], ["dvclive/metrics.json"])
    assert (pipeline.plots, pipeline.params_files) == (["dvclive/plots/metrics"], ["dvclive/params.yaml"])


def test_every_param_of_every_read_file_is_logged_flat(tmp_path):
    write_project(tmp_path)
    assert params_of(tmp_path, ["params.yaml", "search.yaml"]) == {
        "train.lr": 0.1, "train.layers.hidden": 8, "unused_by_stages": 1,
        "search.yaml:depth": 3, "search.yaml:width": [1, 2]}


def test_a_missing_params_file_is_an_input_error(tmp_path):
    with pytest.raises(Exception, match="no such params file"):
        params_of(tmp_path, ["params.yaml"])


def test_metrics_are_numbers_and_a_step_series_is_their_history(tmp_path):
    write_project(tmp_path)
    points = metrics_of(tmp_path, ["eval/metrics.json"])
    assert ("accuracy", 0.9, None, 0) in points
    assert not [key for key, *_ in points if key == "step"]   # dvclive's step counter is no metric
    assert [(step, value) for key, value, _, step in points if key == "loss.val"] == [(0, 0.9), (1, 0.5),
                                                                                       (2, 0.25)]
    assert not [key for key, *_ in points if key == "ok"]   # a boolean is no metric


def test_several_metrics_files_name_metrics_by_file_stem(tmp_path):
    (tmp_path / "a.json").write_text('{"x": 1}', encoding="utf-8")
    (tmp_path / "b.yaml").write_text("x: 2\n", encoding="utf-8")
    assert metrics_of(tmp_path, ["a.json", "b.yaml"]) == [("a.x", 1.0, None, 0), ("b.x", 2.0, None, 0)]


def test_a_step_key_is_a_metric_where_no_dvclive_series_is_beside_it(tmp_path):
    (tmp_path / "m.json").write_text('{"step": 3}', encoding="utf-8")
    assert metrics_of(tmp_path, ["m.json"]) == [("step", 3.0, None, 0)]


def test_two_dvclive_folders_with_the_same_metric_names_stay_apart(tmp_path):
    for folder, accuracy in (("dvclive", 0.7), ("eval", 0.8)):
        (tmp_path / folder / "plots" / "metrics").mkdir(parents=True)
        (tmp_path / folder / "metrics.json").write_text(f'{{"accuracy": {accuracy}, "step": 1}}',
                                                        encoding="utf-8")
        (tmp_path / folder / "plots" / "metrics" / "accuracy.tsv").write_text(
            f"timestamp\tstep\taccuracy\n1700000000000\t0\t0.5\n1700000001000\t1\t{accuracy}\n",
            encoding="utf-8")
    points = metrics_of(tmp_path, ["dvclive/metrics.json", "eval/metrics.json"])
    assert {key: value for key, value, _, step in points if step == 1} == {
        "dvclive/metrics.accuracy": 0.7, "eval/metrics.accuracy": 0.8}
    assert len(points) == 4


def test_templated_stages_resolve_as_dvc_resolves_them(tmp_path):
    (tmp_path / "dvc.yaml").write_text(
        "vars:\n  - out: results\nstages:\n  train:\n    cmd: python train.py ${train.epochs}\n"
        "    params:\n      - train\n      - config/model.yaml:\n          - model\n"
        "    outs:\n      - ${out}/model.joblib\n"
        "  evaluate:\n    foreach: [train, test]\n    do:\n      cmd: python evaluate.py ${item}\n"
        "      metrics:\n        - metrics/${item}.json:\n            cache: false\n"
        "      plots:\n        - plots/${item}.csv\n", encoding="utf-8")
    (tmp_path / "params.yaml").write_text("train: {epochs: 3}\n", encoding="utf-8")
    pipeline = declared(tmp_path)
    assert pipeline.outs == ["results/model.joblib", "metrics/train.json", "plots/train.csv",
                             "metrics/test.json", "plots/test.csv"]
    assert pipeline.metrics == ["metrics/train.json", "metrics/test.json"]
    assert pipeline.plots == ["plots/train.csv", "plots/test.csv"]
    assert pipeline.params_files == ["params.yaml", "config/model.yaml"]


def test_a_dvc_yaml_dvc_cannot_resolve_is_an_input_error(tmp_path):
    (tmp_path / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo ${nowhere}\n", encoding="utf-8")
    with pytest.raises(MlopsCiError, match="dvc.yaml: cannot read: "):
        declared(tmp_path)


def test_artifacts_are_metrics_plots_images_predictions_and_dvc_lock_never_the_model(tmp_path):
    write_project(tmp_path)
    (tmp_path / "dvc.lock").write_text("schema: '2.0'\n", encoding="utf-8")
    model = ModelConfig(name="scorer", path="models/model.pkl", flavor="sklearn")
    assert artifacts_of(tmp_path, declared(tmp_path), model, "eval/predictions.csv") == [
        "eval/metrics.json", "eval/plots", "eval/confusion.csv", "plots/confusion.png",
        "eval/predictions.csv", "dvc.lock"]


def test_data_tags_hold_each_dvc_files_hash(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw.dvc").write_text("outs:\n- md5: abc123.dir\n  path: raw\n", encoding="utf-8")
    assert data_tags(tmp_path) == {"mlops_ci.data.data/raw": "abc123.dir"}


def test_serving_requirements_take_the_projects_pins_over_mlflows(tmp_path):
    (tmp_path / "requirements.txt").write_text("scikit-learn==1.0.0  # old\npandas==2.0\n", encoding="utf-8")
    model = ModelConfig(name="m", path="m.pkl", flavor="sklearn")
    assert serving_requirements(tmp_path, model) == ["scikit-learn==1.0.0"]
    pyfunc = ModelConfig(name="m", path="w.json", flavor="pyfunc", loader="m:load")
    assert serving_requirements(tmp_path, pyfunc) == str(tmp_path / "requirements.txt")


@pytest.mark.parametrize("kind", ["sklearn", "joblib", "skops", "pytorch", "onnx", "lightgbm", "pyfunc"])
def test_each_flavor_loads_its_file(tmp_path, kind):
    write_project(tmp_path, kind)
    flavor = {"joblib": "sklearn", "skops": "sklearn"}.get(kind, kind)
    model = ModelConfig(name="m", path=MODEL_FILES[kind], flavor=flavor,
                        loader="scorer.model:load" if kind == "pyfunc" else "")
    assert flavors.load(model, tmp_path) is not None


@pytest.mark.parametrize(("flavor", "message"), [
    ("onnx", "model.path: models/model.pkl cannot be loaded as onnx: "),
    ("pytorch", "model.path: models/model.pkl cannot be loaded as pytorch: "),
    ("lightgbm", "model.path: models/model.pkl cannot be loaded as lightgbm: "),
])
def test_a_file_its_flavor_cannot_load_is_refused_naming_key_and_file(tmp_path, flavor, message):
    write_project(tmp_path)
    with pytest.raises(Exception) as raised:
        flavors.load(ModelConfig(name="m", path="models/model.pkl", flavor=flavor), tmp_path)
    assert str(raised.value).startswith(message)


def test_track_without_mlflow_only_checks_that_the_model_loads(tmp_path, no_mlflow, capsys):
    write_project(tmp_path, "pytorch")
    assert main(["track", "--repo", str(tmp_path)]) == 0
    assert "the model loads; nothing logged" in capsys.readouterr().out


@pytest.mark.parametrize(("config", "message"), [
    ("model: {name: s, path: models/other.pkl, flavor: sklearn}\n",
     "model.path: models/other.pkl is not an out of any stage in dvc.yaml"),
    ("model: {name: s, path: models/model.pkl, flavor: onnx}\n",
     "model.path: models/model.pkl cannot be loaded as onnx"),
    ("model: {name: s, path: models/model.pkl, flavor: pyfunc, loader: nowhere:load}\n",
     "model.loader: cannot import nowhere:load"),
])
def test_a_model_track_cannot_log_is_exit_2_with_one_line_naming_the_config(tmp_path, no_mlflow, capsys,
                                                                            config, message):
    write_project(tmp_path)
    (tmp_path / ".github" / "mlops-ci.yml").write_text(config, encoding="utf-8")
    assert main(["track", "--repo", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"error: {tmp_path / '.github' / 'mlops-ci.yml'}: {message}"), error
    assert len(error.splitlines()) == 1


def test_a_model_file_the_pipeline_did_not_write_is_refused(tmp_path, no_mlflow, capsys):
    write_project(tmp_path)
    Path(tmp_path / "models" / "model.pkl").unlink()
    assert main(["track", "--repo", str(tmp_path)]) == 2
    assert "model.path: models/model.pkl does not exist" in capsys.readouterr().err


def test_a_project_without_a_model_section_is_tracked_and_says_it_registers_nothing(tmp_path, no_mlflow,
                                                                                    capsys):
    write_project(tmp_path)
    (tmp_path / ".github" / "mlops-ci.yml").write_text("policy: {}\n", encoding="utf-8")
    assert main(["track", "--repo", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "track: no model: section in " in printed and "no model is registered" in printed
    assert "nothing logged to MLflow" in printed and "the model loads" not in printed
