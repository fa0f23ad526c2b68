"""The metric-name contract (`mlops-ci track` applies it: tests/unit/training/test_track.py)."""

from __future__ import annotations

from mlops_ci.registry.metric_names import mlflow_key


def test_one_metrics_file_keeps_the_dotted_key():
    assert mlflow_key("metrics.json", "per_class.0.f1", ["metrics.json"]) == "per_class.0.f1"
    assert mlflow_key("metrics.json", "accuracy", []) == "accuracy"


def test_several_metrics_files_prefix_the_file_stem():
    paths = ["metrics/train.json", "metrics/eval.json"]
    assert [mlflow_key(path, "accuracy", paths) for path in paths] == ["train.accuracy", "eval.accuracy"]
    assert mlflow_key("reports/eval.yaml", "per_class.0.f1", ["a.json", "reports/eval.yaml"]) == "eval.per_class.0.f1"


def test_files_sharing_a_stem_are_named_by_their_path_so_their_metrics_never_collide():
    paths = ["dvclive/metrics.json", "eval/metrics.json", "metrics/test.json"]
    assert [mlflow_key(path, "accuracy", paths) for path in paths] == [
        "dvclive/metrics.accuracy", "eval/metrics.accuracy", "test.accuracy"]
    same_folder = ["eval/a.json", "eval/a.yaml"]
    assert [mlflow_key(path, "x", same_folder) for path in same_folder] == ["eval/a.json.x", "eval/a.yaml.x"]
