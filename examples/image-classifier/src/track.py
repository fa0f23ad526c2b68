"""Experiment tracking: log the pipeline's latest results to MLflow and register the model.

Deliberately not a DVC stage: logging is a side effect that must happen on every CI run, and DVC
would skip (or restore from its run-cache) a stage whose inputs did not change.

    MLFLOW_TRACKING_URI=http://mlflow:5000 python -m src.track

Environment:
    MLFLOW_TRACKING_URI     where to log; without it this prints a notice and exits 0
    MLOPS_CI_EXPERIMENT     experiment name (default: params.yaml model.experiment)
    MLOPS_CI_MODEL_NAME     registered model name (default: params.yaml model.name)
    MLOPS_CI_PR_NUMBER      pull request number, recorded as the tag mlops_ci.pr
    MLOPS_CI_REGISTER       "false": log the run only, register no model version (a PR's parallel
                            experiments: only the PR's own training is a promotion candidate)
    MLOPS_CI_TRACK_OUTPUT   file that receives the result JSON as well
    GITHUB_SHA, GITHUB_HEAD_REF, GITHUB_REF_NAME, GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID
                            provenance tags when run by GitHub Actions (git is asked otherwise)

The last line on stdout is ``{"run_id": ..., "model_name": ..., "model_version": ...}``.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import mlflow
import mlflow.pytorch
import yaml
from mlflow.entities import Metric

from src.common import (METRICS_FILE, MODEL_FILE, PLOTS_DIR, PREDICTIONS_FILE, QUALITY_FILE, RAW_DVC_FILE,
                        TEST_FILE, TRAINING_CURVE_FILE, load_params, load_split, read_csv)
from src.model import load_checkpoint

REQUIREMENTS_FILE = Path("requirements.txt")
# What serving the logged model needs; their exact pins are read from requirements.txt.
INFERENCE_PACKAGES = ("mlflow", "numpy", "torch")
# A handful of test images stored with the model: MLflow derives the input signature from them.
INPUT_EXAMPLE_SIZE = 5
TAG_PREFIX = "mlops_ci."
METRICS_FILES = (METRICS_FILE,)   # the pipeline's DVC metrics files (dvc.yaml `metrics:`)


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"lr": 0.01}}`` -> ``{"train.lr": 0.01}``: MLflow params and metrics are flat."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def mlflow_metrics(files: Sequence[Path]) -> dict[str, float]:
    """The numbers in the DVC metrics ``files`` as MLflow metrics, named by mlops-ci's metric-name
    contract (its docs/users/metrics.md) so the report's champion column and the promotion gates
    find them: the dotted key with one metrics file, ``<file stem>.<dotted key>`` with several."""
    prefixed = len(files) > 1
    return {f"{path.stem}.{key}" if prefixed else key: value for path in files
            for key, value in flatten(json.loads(path.read_text(encoding="utf-8"))).items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)}


def git_output(*args: str) -> str | None:
    """Output of a git command, or None when git or the repository is not there."""
    try:
        result = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout.strip() or None


def current_branch() -> str | None:
    """The branch this run belongs to: the PR's source branch in Actions, else git's current one."""
    for variable in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME"):
        if os.environ.get(variable):
            return os.environ[variable]
    branch = git_output("rev-parse", "--abbrev-ref", "HEAD")
    return None if branch == "HEAD" else branch  # "HEAD" means a detached checkout: no branch


def run_url() -> str | None:
    """Link to the GitHub Actions run, when running inside one."""
    parts = [os.environ.get(name) for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    if not all(parts):
        return None
    server, repository, run_id = parts
    return f"{server}/{repository}/actions/runs/{run_id}"


def data_version(dvc_file: Path = RAW_DVC_FILE) -> str | None:
    """The DVC hash of ``data/raw`` as recorded in ``data/raw.dvc``: which data trained the model."""
    if not dvc_file.exists():
        return None
    outs = yaml.safe_load(dvc_file.read_text(encoding="utf-8")).get("outs") or [{}]
    return outs[0].get("md5")


def provenance_tags() -> dict[str, str]:
    """Tags that tie the run and the model version to code, branch, PR, CI run and data."""
    tags = {
        "commit": os.environ.get("GITHUB_SHA") or git_output("rev-parse", "HEAD"),
        "branch": current_branch(),
        "pr": os.environ.get("MLOPS_CI_PR_NUMBER"),
        "run_url": run_url(),
        "data_version": data_version(),
    }
    return {TAG_PREFIX + name: value for name, value in tags.items() if value}


def inference_requirements(path: Path = REQUIREMENTS_FILE) -> list[str]:
    """The pinned lines of requirements.txt for the packages the model needs at inference time."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#")[0].strip()
        if "==" in requirement:
            pins[requirement.split("==")[0].strip().lower()] = requirement
    return [pins[name] for name in INFERENCE_PACKAGES if name in pins]


def training_curve_metrics() -> list[Metric]:
    """The per-epoch training curve as MLflow metric entries (step = epoch), so MLflow charts it too."""
    timestamp = int(time.time() * 1000)
    return [Metric(f"curve.{column}", float(row[column]), timestamp, int(row["epoch"]))
            for row in read_csv(TRAINING_CURVE_FILE) for column in ("train_loss", "val_accuracy")]


def log_results(run_id: str) -> None:
    """Log params, metrics, the training curve and the report files to run ``run_id``."""
    mlflow.log_params(flatten(load_params()))
    mlflow.log_metrics(mlflow_metrics(METRICS_FILES))
    # One request for the whole curve rather than one per point.
    mlflow.MlflowClient().log_batch(run_id, metrics=training_curve_metrics())
    for png in sorted(PLOTS_DIR.glob("*.png")):
        mlflow.log_artifact(str(png), artifact_path="plots")
    mlflow.log_artifact(str(PREDICTIONS_FILE), artifact_path="eval")
    mlflow.log_artifact(str(METRICS_FILE))
    mlflow.log_artifact(str(QUALITY_FILE), artifact_path="data")


def log_model() -> mlflow.models.model.ModelInfo:
    """Log the trained network as an MLflow model in the active run."""
    return mlflow.pytorch.log_model(
        load_checkpoint(MODEL_FILE),
        name="model",
        input_example=load_split(TEST_FILE).images[:INPUT_EXAMPLE_SIZE],
        pip_requirements=inference_requirements(),
    )


def track(experiment: str, model_name: str, register: bool = True) -> dict[str, str | None]:
    """Log one run to ``experiment`` and (unless ``register`` is false) register its model as a new
    version of ``model_name``."""
    tags = provenance_tags()
    mlflow.set_experiment(experiment)
    with mlflow.start_run(tags=tags) as run:
        log_results(run.info.run_id)
        model_info = log_model()
    if not register:
        return {"run_id": run.info.run_id, "model_name": model_name, "model_version": None}
    version = mlflow.register_model(model_info.model_uri, model_name, tags=tags)
    return {"run_id": run.info.run_id, "model_name": model_name, "model_version": str(version.version)}


def first_line(error: Exception) -> str:
    """``ErrorType: first line of its message``: enough to act on, short enough for a CI log."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def main() -> int:
    """Command line entry point; returns the exit status."""
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI")
    if not tracking_uri:
        print("track: MLFLOW_TRACKING_URI is not set; nothing logged to MLflow.")
        return 0
    try:
        model = load_params()["model"]
        result = track(experiment=os.environ.get("MLOPS_CI_EXPERIMENT") or model["experiment"],
                       model_name=os.environ.get("MLOPS_CI_MODEL_NAME") or model["name"],
                       register=os.environ.get("MLOPS_CI_REGISTER", "true").lower() != "false")
    except Exception as error:  # pylint: disable=broad-exception-caught
        # Whatever went wrong (server down, pipeline outputs missing), CI shows one readable line.
        print(f"track: failed to log to MLflow at {tracking_uri}: {first_line(error)}", file=sys.stderr)
        return 1
    line = json.dumps(result)
    if os.environ.get("MLOPS_CI_TRACK_OUTPUT"):
        Path(os.environ["MLOPS_CI_TRACK_OUTPUT"]).write_text(line + "\n", encoding="utf-8")
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
