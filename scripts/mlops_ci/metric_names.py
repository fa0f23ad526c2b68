"""The metric-name contract: how a metric in a DVC metrics file is named in its MLflow run.

DVC names a metric by its file and its dotted key (`metrics/eval.json` + `per_class.0.f1`); an
MLflow run has one flat namespace. The training's track step logs, and everything that reads MLflow
metrics back (the report's champion column, promotion gates, alert rules) expects:

- a project with one metrics file: the dotted key as it is (`accuracy`, `per_class.0.f1`);
- a project with several metrics files: `<file stem>.<dotted key>` (`eval.accuracy`,
  `train.accuracy`), so a key present in two files stays two metrics. Their stems must differ.

The scaffold's and the example's src/track.py apply the same rule without importing mlops-ci (a
project runs without it); tests/test_metric_names.py holds them to this module.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import PurePosixPath


def mlflow_key(path: str, name: str, paths: Collection[str]) -> str:
    """The MLflow metric key of metric `name` in metrics file `path`, `paths` being every metrics
    file of the project."""
    if len(set(paths)) <= 1:
        return name
    return f"{PurePosixPath(path).stem}.{name}"
