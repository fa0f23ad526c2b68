"""The serving tests' MLflow models and `mlops-ci serve` processes (tests of serve and canary)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

import mlops_ci
from testing.fixtures import MLFLOW_CLIENT_ENV

# The served model of the serve tests (the iris data set that scikit-learn ships).
MODEL = "iris"


def register_iris(url: str, name: str) -> tuple[str, list, list]:  # pylint: disable=too-many-locals
    """Model `name` with a champion (logistic regression, promoted_at tagged) and a challenger that
    always answers the most frequent class; (name, the iris features, labels)."""
    # pylint: disable=import-outside-toplevel  # sklearn and mlflow's logging are for this fixture only
    import mlflow
    import mlflow.sklearn
    from mlflow.tracking import MlflowClient
    from sklearn.datasets import load_iris
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    with pytest.MonkeyPatch.context() as patch:
        for key, setting in {**MLFLOW_CLIENT_ENV, "MLFLOW_TRACKING_URI": url}.items():
            patch.setenv(key, setting)
        mlflow.set_experiment("serve")
        client = MlflowClient()
        arms = (("champion", LogisticRegression(max_iter=500)), ("challenger", DummyClassifier()))
        for alias, model in arms:
            model.fit(features, labels)
            with mlflow.start_run():
                mlflow.log_metric("accuracy", float(model.score(features, labels)))
                info = mlflow.sklearn.log_model(model, name="model", registered_model_name=name,
                                                input_example=features[:2])
            client.set_registered_model_alias(name, alias, str(info.registered_model_version))
        client.set_model_version_tag(name, "1", "mlops_ci.promoted_at", "2026-01-02T03:04:05Z")
    return name, features.tolist(), labels.tolist()


def start_server(args: list[str]) -> tuple[subprocess.Popen, str]:
    """`mlops-ci serve ARGS --port 0` from this checkout; the process and its base URL."""
    env = {**os.environ, "PYTHONPATH": str(Path(mlops_ci.__file__).resolve().parents[1])}
    # The caller stops it: the process outlives this function.
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "mlops_ci", "serve", *args, "--port", "0"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("serving "):
        proc.kill()
        pytest.fail(f"the server did not start: {line}{proc.stderr.read()}")
    return proc, line.split(" on ")[-1].strip()


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a Prometheus text exposition: (name, labels) -> value."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    """The value of series `name` with exactly `labels` in `samples`' result."""
    return found[(name, frozenset(labels.items()))]


def log(path: Path, accuracy: float, version: str, rows: int = 300) -> str:
    """A serve-style prediction log: `rows` labelled rows of `version`, `accuracy` of them right."""
    right = round(rows * accuracy)
    lines = [json.dumps({"request_id": f"{version}-{i}", "version": version, "arm": "x", "label": 1,
                         "prediction": 1 if i < right else 0}) for i in range(rows)]
    # Rows of another version (an earlier canary) are left out of the comparison.
    lines += [json.dumps({"request_id": f"old-{i}", "version": "9", "label": 1, "prediction": 0})
              for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)
