"""Log the pipeline's latest results to MLflow and register the model (``python -m src.track``).

Not a DVC stage on purpose: logging must happen on every CI run, and DVC skips unchanged stages.
The mlops-ci training job runs it with MLFLOW_TRACKING_URI set and reads the result JSON from
$MLOPS_CI_TRACK_OUTPUT; without MLFLOW_TRACKING_URI it only says so.
"""
import importlib
import json
import os
import pickle
import sys
from pathlib import Path
from typing import Sequence

import mlflow
import mlflow.sklearn
import numpy as np
import skops.io
import yaml

from src.common import MODEL_FILE, TRAIN_FILE, load_params, load_split

PIPELINE_FILE = Path("dvc.yaml")


def flatten(tree: dict, prefix: str = "") -> dict:
    """``{"train": {"C": 1.0}}`` -> ``{"train.C": 1.0}``: MLflow params are flat."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def metrics_files(pipeline: Path = PIPELINE_FILE) -> list[Path]:
    """The pipeline's DVC metrics files: every stage's ``metrics:`` and the top-level ``metrics:`` of
    ``dvc.yaml`` (an entry is a path, or a one-key mapping from the path to its options), so a stage
    writing a second metrics file needs no change here."""
    pipeline_doc = yaml.safe_load(pipeline.read_text(encoding="utf-8")) or {}
    entries = [entry for stage in (pipeline_doc.get("stages") or {}).values()
               for entry in stage.get("metrics") or []] + list(pipeline_doc.get("metrics") or [])
    return [Path(next(iter(entry)) if isinstance(entry, dict) else entry) for entry in entries]


def mlflow_metrics(files: Sequence[Path]) -> dict[str, float]:
    """The numbers in the DVC metrics ``files`` as MLflow metrics, named by mlops-ci's metric-name
    contract (its docs/users/metrics.md) so the report's champion column and the promotion gates
    find them: the dotted key with one metrics file, ``<file stem>.<dotted key>`` with several."""
    prefixed = len(files) > 1
    return {f"{path.stem}.{key}" if prefixed else key: value for path in files
            for key, value in flatten(json.loads(path.read_text(encoding="utf-8"))).items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)}


# MLflow flavours of frameworks whose models are not scikit-learn estimators (or are, like
# XGBClassifier, but have a flavour of their own), by the top-level package of a class the model is
# an instance of. Any other model is logged with the scikit-learn flavour.
FLAVOURS = {"torch": "pytorch", "xgboost": "xgboost", "lightgbm": "lightgbm"}


def flavour(model: object) -> str:
    """The name of the ``mlflow.<flavour>`` module that logs ``model``."""
    packages = [cls.__module__.partition(".")[0] for cls in type(model).__mro__]
    return next((FLAVOURS[package] for package in packages if package in FLAVOURS), "sklearn")


def log_model(model: object, example: np.ndarray):
    """Log ``model`` as the run's ``model`` artifact in its framework's flavour, with a few rows of
    its input as the example (the signature comes from it); MLflow's ModelInfo."""
    name = flavour(model)
    if name != "sklearn":
        # MLflow saves torch models as pt2 (no pickle inside), traced on the example: torch's float32.
        example = example.astype(np.float32) if name == "pytorch" else example
        return importlib.import_module(f"mlflow.{name}").log_model(model, name="model", input_example=example)
    # MLflow saves scikit-learn models with skops, which refuses types outside its allow-list (every
    # tree model's sklearn.tree._tree.Tree, for one). This model is the one the pipeline just trained,
    # so the types it holds are trusted: the list goes into the MLmodel file for loading it back.
    trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    return mlflow.sklearn.log_model(model, name="model", input_example=example, skops_trusted_types=trusted)


def track(experiment: str, model_name: str, register: bool = True) -> dict[str, str | None]:
    """One MLflow run with the params, metrics and model; the model registered as a new version."""
    mlflow.set_experiment(experiment)
    tags = {"mlops_ci.pr": os.environ["MLOPS_CI_PR_NUMBER"]} if os.environ.get("MLOPS_CI_PR_NUMBER") else {}
    with mlflow.start_run(tags=tags) as run:
        mlflow.log_params(flatten(load_params()))
        mlflow.log_metrics(mlflow_metrics(metrics_files()))
        features, _ = load_split(TRAIN_FILE)
        # np.asarray only for pylint, which cannot tell what np.load returns.
        info = log_model(pickle.loads(MODEL_FILE.read_bytes()), np.asarray(features)[:5])
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
