"""`mlops-ci track`: the built-in tracker. It logs a DVC project's latest results to MLflow and
registers its model, using only what dvc.yaml declares and the `model:` section of
.github/mlops-ci.yml. It is the train workflow's default track command (docs/users/tracking.md).

- params: every param of every params file that a stage reads (or that the top-level `params:` lists),
  nested keys dotted. Those of params.yaml are named by their key, e.g. `train.lr`; those of
  another file by `FILE:KEY`, as `train experiment --set` names them.
- metrics: every number in every metrics file, named by the metric-name contract
  (registry.metric_names). dvclive's step series (`<dir>/plots/metrics/**.tsv` beside
  `<dir>/metrics.json`) become the metric's MLflow history, one point per step; dvclive's own `step`
  key is no metric.
- artifacts: the metrics and plots files, image outs, the promotion's predictions file, dvc.lock.
- tags, on the run and the version: commit, branch, PR, workflow run, pipeline fingerprint, and the
  DVC hash of each `.dvc` file's data (registry.tags).
- the model: `model.path`, loaded as `model.flavor` (training.flavors) before anything is logged,
  logged in that flavor and registered as a new version of `model.name`. Without a `model:` section
  the run is logged all the same, and nothing is registered (one line says so).

The environment is the track-command contract that a project's own tracker follows as well:
MLFLOW_TRACKING_URI (without it, the model is only loaded as a check), MLOPS_CI_EXPERIMENT,
MLOPS_CI_MODEL_NAME, MLOPS_CI_PR_NUMBER, MLOPS_CI_REGISTER=false (log the run, register nothing) and
MLOPS_CI_TRACK_OUTPUT (the file that receives the result JSON, also the last line printed).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement

from mlops_ci.clients.mlflow import bounded_mlflow_retries
from mlops_ci.config import load as load_config
from mlops_ci.config.sections import ModelConfig
from mlops_ci.core.errors import EXIT_OK, MlopsCiError
from mlops_ci.core.proc import git_output
from mlops_ci.registry.metric_names import mlflow_key
from mlops_ci.registry.tags import COMMIT_TAG, data_tag, version_tags
from mlops_ci.training import flavors
from mlops_ci.training.experiment import flatten
from mlops_ci.training.fingerprint import pipeline_fingerprint
from mlops_ci.training.pipeline import DEFAULT_PARAMS_FILE, Declared, declared

DEFAULT_PREDICTIONS = "eval/predictions.csv"
DVCLIVE_STEP = "step"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg", ".gif", ".webp")


@dataclass(frozen=True)
class TrackResult:
    """What a track command reports: the MLflow run, and the version registered from it."""

    run_id: str
    model_name: str | None
    model_version: str | None


def read_tree(path: Path) -> Any:
    """A params or metrics file (YAML, JSON or TOML) as parsed data (error, exit 2, when unreadable)."""
    try:
        text = path.read_text(encoding="utf-8")
        return tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, tomllib.TOMLDecodeError) as error:
        raise MlopsCiError(f"cannot read: {str(error).splitlines()[0]}", where=str(path)) from error


def params_of(repo: Path, files: list[str]) -> dict[str, Any]:
    """Every param of the params `files`, flat: `key.sub` in params.yaml, `FILE:key.sub` elsewhere."""
    found: dict[str, Any] = {}
    for name in files:
        if not (repo / name).is_file():
            raise MlopsCiError("no such params file, though a stage of dvc.yaml reads it", where=name)
        prefix = "" if name == DEFAULT_PARAMS_FILE else f"{name}:"
        tree = read_tree(repo / name) or {}
        found.update({f"{prefix}{key}": value for key, value in flatten(tree).items()})
    return found


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def step_series(repo: Path, metrics_file: str) -> dict[str, list[tuple[int, int, float]]]:
    """dvclive's step series beside `metrics_file`: {dotted name: [(step, timestamp ms, value)]}."""
    folder = repo / Path(metrics_file).parent / "plots" / "metrics"
    series = {}
    for tsv in sorted(folder.rglob("*.tsv")) if folder.is_dir() else []:
        name = ".".join(tsv.relative_to(folder).with_suffix("").parts)
        with tsv.open(encoding="utf-8", newline="") as file:
            rows = list(csv.DictReader(file, delimiter="\t"))
        column = tsv.stem
        series[name] = [(int(float(row["step"])), int(float(row.get("timestamp") or time.time() * 1000)),
                         float(row[column])) for row in rows if row.get(column) not in (None, "")]
    return series


def metrics_of(repo: Path, files: list[str]) -> list[tuple[str, float, int | None, int]]:
    """Every metric to log, as (MLflow key, value, timestamp ms or None = now, step): a metric with a
    step series is its series (whose last point is its value), any other one point at step 0."""
    points: list[tuple[str, float, int | None, int]] = []
    for name in files:
        if not (repo / name).is_file():
            raise MlopsCiError("no such metrics file: the pipeline did not write it", where=name)
        series = step_series(repo, name)
        for key, value in flatten(read_tree(repo / name) or {}).items():
            number = _number(value)
            # dvclive's own `step` (the last step's number) counts the history; it scores nothing
            if number is not None and key not in series and not (series and key == DVCLIVE_STEP):
                points.append((mlflow_key(name, key, files), number, None, 0))
        points += [(mlflow_key(name, key, files), value, stamp, step)
                   for key, rows in series.items() for step, stamp, value in rows]
    return points


def artifacts_of(repo: Path, pipeline: Declared, model: ModelConfig | None, predictions: str) -> list[str]:
    """The files and folders logged as the run's artifacts (each under its own relative path)."""
    images = [out for out in pipeline.outs if out.lower().endswith(IMAGE_SUFFIXES)]
    wanted = [*pipeline.metrics, *pipeline.plots, *images, predictions, "dvc.lock"]
    return [path for path in dict.fromkeys(wanted)
            if (model is None or path != model.path) and (repo / path).exists()]


def data_tags(repo: Path) -> dict[str, str]:
    """The DVC hash of the data that each tracked `.dvc` file of the project points at."""
    listed = git_output(repo, "ls-files", "--", "*.dvc")
    names = listed.split() if listed is not None else [
        str(path.relative_to(repo)) for path in repo.rglob("*.dvc") if ".dvc" not in path.parent.parts]
    tags = {}
    for name in names:
        outs = (read_tree(repo / name) or {}).get("outs") or [{}]
        digest = outs[0].get("md5") or outs[0].get("etag") or outs[0].get("checksum")
        if digest:
            tags[data_tag(name)] = str(digest)
    return tags


def lineage_tags(repo: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The tags of the run and the version: registry.tags.version_tags (commit from git when the
    workflow gives none) and the data's hashes."""
    tags = version_tags(environ, environ.get("MLOPS_CI_PR_NUMBER") or None, pipeline_fingerprint(repo))
    if COMMIT_TAG not in tags and (head := git_output(repo, "rev-parse", "HEAD")):
        tags[COMMIT_TAG] = head.strip()
    return {**tags, **data_tags(repo)}


def serving_requirements(repo: Path, model: ModelConfig) -> list[str] | str:
    """What serving the model needs: for a pyfunc model the project's whole requirements.txt (the
    loader's imports are the project's); else MLflow's default requirements of the flavor, with the
    project's own pins where requirements.txt has them. Never MLflow's inference of them, which
    loads the model again in a subprocess (some 20 s)."""
    path = repo / "requirements.txt"
    if model.flavor == "pyfunc" and path.is_file():
        return str(path)
    defaults = flavors.default_requirements(model.flavor)
    pins = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            requirement = line.split("#")[0].strip()
            if "==" in requirement:
                pins[requirement.split("==")[0].strip().lower()] = requirement
    return [pins.get(Requirement(default).name.lower(), default) for default in defaults]


def checked_model(repo: Path, model: ModelConfig, pipeline: Declared) -> Any:
    """The loaded model, once its path is known to be a DVC out (exit 2 otherwise)."""
    if not pipeline.has_out(model.path):
        raise MlopsCiError(f"model.path: {model.path} is not an out of any stage in dvc.yaml, so DVC "
                           "neither versions nor restores it")
    return flavors.load(model, repo)


def log_run(repo: Path, model: ModelConfig | None, *, experiment: str, name: str | None, registering: bool,
            environ: Mapping[str, str], predictions: str) -> TrackResult:
    """One MLflow run of the project's results with the model (when there is one); the model
    registered unless not."""
    import mlflow  # pylint: disable=import-outside-toplevel  # ~2 s import, only where it logs
    from mlflow.entities import Metric, Param  # pylint: disable=import-outside-toplevel

    pipeline = declared(repo)
    loaded = checked_model(repo, model, pipeline) if model is not None else None
    params = params_of(repo, pipeline.params_files)
    points = metrics_of(repo, pipeline.metrics)
    tags = lineage_tags(repo, environ)
    now = int(time.time() * 1000)
    mlflow.set_experiment(experiment)
    with mlflow.start_run(tags=tags) as active:
        mlflow.MlflowClient().log_batch(
            active.info.run_id, params=[Param(key, str(value)) for key, value in params.items()],
            metrics=[Metric(key, value, stamp or now, step) for key, value, stamp, step in points])
        for path in artifacts_of(repo, pipeline, model, predictions):
            parent = str(Path(path).parent) if Path(path).parent != Path(".") else None
            if (repo / path).is_dir():
                mlflow.log_artifacts(str(repo / path), artifact_path=path)
            else:
                mlflow.log_artifact(str(repo / path), artifact_path=parent)
        if model is None:
            return TrackResult(active.info.run_id, None, None)
        info = flavors.log(loaded, model, repo, serving_requirements(repo, model))
    version = mlflow.register_model(info.model_uri, name, tags=tags).version if registering else None
    return TrackResult(active.info.run_id, name, None if version is None else str(version))


def track(repo: Path, config_option: str | None, environ: Mapping[str, str]) -> TrackResult | None:
    """`mlops-ci track` in DVC project `repo`: the result, or None when there is no MLflow to log to
    (the model is still loaded, as a check). Without a model section, the experiment is
    MLOPS_CI_EXPERIMENT or the project folder's name."""
    config = load_config(config_option, repo=repo)
    model = config.model
    if model is None:
        print(f"track: no model: section in {config.source or repo / '.github' / 'mlops-ci.yml'}: params, "
              "metrics and artifacts are logged, no model is registered "
              "(model: {name, path, flavor} names one)")
    try:
        if not environ.get("MLFLOW_TRACKING_URI"):
            if model is not None:
                checked_model(repo, model, declared(repo))
            print("track: MLFLOW_TRACKING_URI is not set: "
                  + ("the model loads; " if model is not None else "") + "nothing logged to MLflow.")
            return None
        with bounded_mlflow_retries():
            experiment = environ.get("MLOPS_CI_EXPERIMENT") or (
                (model.experiment or model.name) if model is not None else repo.resolve().name)
            return log_run(repo, model, experiment=experiment,
                           name=None if model is None else environ.get("MLOPS_CI_MODEL_NAME") or model.name,
                           registering=environ.get("MLOPS_CI_REGISTER", "true").lower() != "false",
                           environ=environ, predictions=config.promotion.predictions or DEFAULT_PREDICTIONS)
    except MlopsCiError as error:
        if error.where is None and error.message.startswith("model."):
            error.where = config.source
        raise
    except Exception as error:  # pylint: disable=broad-exception-caught  # MLflow's and its HTTP stack's
        lines = str(error).strip().splitlines()
        raise MlopsCiError(f"logging to MLflow failed: {type(error).__name__}: {lines[0] if lines else ''}",
                           where=environ.get("MLFLOW_TRACKING_URI")) from error


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci track`."""
    result = track(Path(args.repo), args.config, dict(os.environ))
    if result is None:
        return EXIT_OK
    line = json.dumps(asdict(result))
    if os.environ.get("MLOPS_CI_TRACK_OUTPUT"):
        Path(os.environ["MLOPS_CI_TRACK_OUTPUT"]).write_text(line + "\n", encoding="utf-8")
    print(line, flush=True)
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:  # pylint: disable=protected-access
    """Add `mlops-ci track`."""
    parser = subparsers.add_parser(
        "track", help="log a DVC project's params, metrics, plots and model to MLflow; register the model",
        description=__doc__.split("\n\n", 1)[0].replace("\n", " "))
    parser.add_argument("--repo", default=".", help="the DVC project folder (default .)")
    parser.add_argument("--config", help="the config file (default REPO/.github/mlops-ci.yml)")
    parser.set_defaults(handler=run)
