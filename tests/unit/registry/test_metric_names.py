"""The metric-name contract, and the track.py of the scaffold and the example held to it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_ci.registry.metric_names import mlflow_key

ROOT = Path(__file__).resolve().parents[3]


def test_one_metrics_file_keeps_the_dotted_key():
    assert mlflow_key("metrics.json", "per_class.0.f1", ["metrics.json"]) == "per_class.0.f1"
    assert mlflow_key("metrics.json", "accuracy", []) == "accuracy"


def test_several_metrics_files_prefix_the_file_stem():
    paths = ["metrics/train.json", "metrics/eval.json"]
    assert [mlflow_key(path, "accuracy", paths) for path in paths] == ["train.accuracy", "eval.accuracy"]
    assert mlflow_key("reports/eval.yaml", "per_class.0.f1", ["a.json", "reports/eval.yaml"]) == "eval.per_class.0.f1"


# track.py cannot import mlops_ci (a project runs without it): it applies the rule itself.
@pytest.mark.parametrize("project", [ROOT / "examples" / "image-classifier", ROOT / "scripts" / "mlops_ci" / "project" / "scaffold"],
                         ids=["example", "scaffold"])
def test_track_py_logs_the_keys_the_contract_names(project, tmp_path):
    contents = {"metrics/train.json": {"accuracy": 0.99, "loss": 0.1},
                "metrics/eval.json": {"accuracy": 0.9, "per_class": {"0": {"f1": 0.8}}, "ok": True}}
    for path, content in contents.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(json.dumps(content), encoding="utf-8")
    script = ("import json, sys\nfrom pathlib import Path\nfrom src.track import mlflow_metrics\n"
              "for files in (sys.argv[1:], sys.argv[2:]):\n"
              "    print(json.dumps(mlflow_metrics([Path(name) for name in files])))\n")
    done = subprocess.run([sys.executable, "-c", script, *(str(tmp_path / path) for path in contents)],
                          cwd=project, capture_output=True, text=True, check=True, timeout=120)
    several, one = (json.loads(line) for line in done.stdout.splitlines())
    expected = {mlflow_key(path, name, list(contents)): value for path, values in
                {"metrics/train.json": {"accuracy": 0.99, "loss": 0.1},
                 "metrics/eval.json": {"accuracy": 0.9, "per_class.0.f1": 0.8}}.items()
                for name, value in values.items()}
    assert several == expected
    assert one == {mlflow_key("metrics/eval.json", name, ["metrics/eval.json"]): value
                   for name, value in {"accuracy": 0.9, "per_class.0.f1": 0.8}.items()}
