"""Log the pipeline's latest results to MLflow and register the model (``python -m src.track``).

Not a DVC stage on purpose: logging must happen on every CI run, and DVC skips unchanged stages.
The mlops-ci training job runs it with MLFLOW_TRACKING_URI set and reads the result JSON from
$MLOPS_CI_TRACK_OUTPUT; without MLFLOW_TRACKING_URI it only says so.
"""
import json
import os
import pickle
import sys
from pathlib import Path
from typing import Sequence

import mlflow
import mlflow.sklearn

from src.common import METRICS_FILE, MODEL_FILE, load_params

METRICS_FILES = (METRICS_FILE,)   # the pipeline's DVC metrics files (dvc.yaml `metrics:`)


def flatten(tree: dict, prefix: str = "") -> dict:
    """``{"train": {"C": 1.0}}`` -> ``{"train.C": 1.0}``: MLflow params are flat."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def mlflow_metrics(files: Sequence[Path]) -> dict[str, float]:
    """The numbers in the DVC metrics ``files`` as MLflow metrics, named by mlops-ci's metric-name
    contract (its README, "Metric names") so the report's champion column and the promotion gates
    find them: the dotted key with one metrics file, ``<file stem>.<dotted key>`` with several."""
    prefixed = len(files) > 1
    return {f"{path.stem}.{key}" if prefixed else key: value for path in files
            for key, value in flatten(json.loads(path.read_text(encoding="utf-8"))).items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)}


def track(experiment: str, model_name: str, register: bool = True) -> dict[str, str | None]:
    """One MLflow run with the params, metrics and model; the model registered as a new version."""
    mlflow.set_experiment(experiment)
    tags = {"mlops_ci.pr": os.environ["MLOPS_CI_PR_NUMBER"]} if os.environ.get("MLOPS_CI_PR_NUMBER") else {}
    with mlflow.start_run(tags=tags) as run:
        mlflow.log_params(flatten(load_params()))
        mlflow.log_metrics(mlflow_metrics(METRICS_FILES))
        info = mlflow.sklearn.log_model(pickle.loads(MODEL_FILE.read_bytes()), name="model")
    version = mlflow.register_model(info.model_uri, model_name, tags=tags).version if register else None
    return {"run_id": run.info.run_id, "model_name": model_name,
            "model_version": None if version is None else str(version)}


def main() -> int:
    """Command line entry point; the exit status."""
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        print("track: MLFLOW_TRACKING_URI is not set; nothing logged to MLflow.")
        return 0
    model = load_params()["model"]
    result = track(os.environ.get("MLOPS_CI_EXPERIMENT") or model["experiment"],
                   os.environ.get("MLOPS_CI_MODEL_NAME") or model["name"],
                   register=os.environ.get("MLOPS_CI_REGISTER") != "false")
    line = json.dumps(result)
    if os.environ.get("MLOPS_CI_TRACK_OUTPUT"):
        Path(os.environ["MLOPS_CI_TRACK_OUTPUT"]).write_text(line + "\n", encoding="utf-8")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
