"""The metric-name contract: how a metric in a DVC metrics file is named in its MLflow run.

DVC names a metric by its file and its dotted key (`metrics/eval.json` + `per_class.0.f1`); an
MLflow run has one flat namespace. The training's track step logs, and everything that reads MLflow
metrics back (the report's champion column, promotion gates, alert rules) expects:

- a project with one metrics file: the dotted key as it is (`accuracy`, `per_class.0.f1`);
- a project with several metrics files: `<file name>.<dotted key>` (`eval.accuracy`,
  `train.accuracy`), so a key present in two files stays two metrics. A file's name is its stem;
  where files share a stem (two dvclive folders, each with a `metrics.json`), each of those is named
  by its path without the suffix (`dvclive/metrics.accuracy`, `eval/metrics.accuracy`), or by its
  whole path where even that is shared (`a.json`, `a.yaml`).

`mlops-ci track` (training.track) logs by this rule; a project's own tracker must follow it too.

A name also says which way is better, unless the `report:` config says otherwise: names with
importance, time, duration, count or a leading n_, and the progress counters step and epoch(s) (dvclive
writes `step` into metrics.json), are informational (a change is shown, never judged),
names with loss, error, rmse, mae, mse or latency lower-is-better, any other higher-is-better.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

from mlops_ci.config.sections import ReportConfig

HIGHER, LOWER, INFO = "higher", "lower", "informational"
LOWER_IS_BETTER = re.compile(r"loss|error|rmse|mae|mse|latency", re.IGNORECASE)
# Values that describe rather than score a model (feature importances, timings, counts, how far training
# went): a change in them is neither better nor worse. `n_` only at a word start: train_loss is not a
# count; step and epoch(s) only as the whole last name: dvclive's `step`, not `step_loss`.
INFORMATIONAL = re.compile(r"importance|time|duration|count|(?:^|[._/])n_|(?:^|[._/])(?:step|epochs?)$",
                           re.IGNORECASE)


def _file_names(path: str) -> tuple[str, str, str]:
    """The names a metrics file may go by, shortest first: stem, path without suffix, path."""
    return PurePosixPath(path).stem, str(PurePosixPath(path).with_suffix("")), path


def file_name(path: str, paths: Collection[str]) -> str:
    """The name that prefixes the metrics of file `path` among the project's metrics files `paths`:
    the shortest of its names that no other file shares."""
    others = set(paths) - {path}
    for level, candidate in enumerate(_file_names(path)):
        if all(_file_names(other)[level] != candidate for other in others):
            return candidate
    return path


def mlflow_key(path: str, name: str, paths: Collection[str]) -> str:
    """The MLflow metric key of metric `name` in metrics file `path`, `paths` being every metrics
    file of the project."""
    if len(set(paths) | {path}) <= 1:
        return name
    return f"{file_name(path, paths)}.{name}"


def name_direction(name: str) -> str:
    """HIGHER, LOWER or INFO by the built-in name rule."""
    if INFORMATIONAL.search(name):
        return INFO
    return LOWER if LOWER_IS_BETTER.search(name) else HIGHER


def configured_direction(config: ReportConfig, name: str, path: str = "", key: str = "") -> str:
    """HIGHER, LOWER or INFO for metric `name` in file `path` (MLflow key `key`): the `report:` config's
    lists first (patterns match the name, path:name or the key), then the built-in name rule."""
    def listed(patterns: tuple[str, ...]) -> bool:
        return any(fnmatchcase(candidate, pattern) for pattern in patterns
                   for candidate in (name, f"{path}:{name}", key or name))
    for patterns, found in ((config.informational, INFO), (config.higher_is_better, HIGHER),
                            (config.lower_is_better, LOWER)):
        if listed(patterns):
            return found
    return name_direction(name)


def lower_is_better(config: ReportConfig, name: str, path: str = "") -> bool:
    """Whether a smaller value of metric `name` (in file `path`) is an improvement."""
    return configured_direction(config, name, path) == LOWER
