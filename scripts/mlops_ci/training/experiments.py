"""A PR's parallel experiments: the result file `mlops-ci train experiment` writes and
`mlops-ci report --experiments DIR` reads.

    {"name": "train.lr=0.05", "params": {"train.lr": "0.05"}, "run_id": "...",
     "metrics": [{"path": "metrics.json", "name": "accuracy", "value": 0.97}], "stages_ran": [...]}
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_ci.core.errors import MlopsCiError


@dataclass(frozen=True)
class Experiment:
    """One experiment: the params it set and the metrics it got, keyed by (metrics file, name)."""

    name: str
    params: Mapping[str, str]
    metrics: Mapping[tuple[str, str], float]
    run_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The experiment as in the result file and the report's JSON."""
        return {"name": self.name, "params": dict(self.params), "run_id": self.run_id,
                "metrics": [{"path": path, "name": name, "value": value}
                            for (path, name), value in self.metrics.items()]}


def label(params: Mapping[str, str]) -> str:
    """How an unnamed experiment is called: its settings."""
    return " ".join(f"{key}={value}" for key, value in params.items())


def slug(params: Mapping[str, str]) -> str:
    """A file- and artifact-name-safe id of a param set, readable and unique."""
    text = " ".join(f"{key}={value}" for key, value in sorted(params.items()))
    readable = re.sub(r"[^A-Za-z0-9._=-]+", "_", text)[:60].strip("_")
    return f"{readable}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def parse(document: Any, where: str) -> Experiment:
    """One result file's content as an Experiment."""
    if not isinstance(document, dict) or not isinstance(document.get("params"), dict) \
            or not isinstance(document.get("metrics"), list):
        raise MlopsCiError('not an experiment result: expected {"name", "params": {...}, "metrics": [...]}',
                           where=where)
    try:
        metrics = {(str(row["path"]), str(row["name"])): float(row["value"]) for row in document["metrics"]}
    except (KeyError, TypeError, ValueError) as error:
        raise MlopsCiError(f"metrics: each needs path, name and a numeric value ({error})",
                           where=where) from error
    params = {str(key): str(value) for key, value in document["params"].items()}
    return Experiment(str(document.get("name") or label(params)), params, metrics, document.get("run_id"))


def load_experiments(folder: Path) -> tuple[Experiment, ...]:
    """The results (*.json) in `folder`, by name; none when the folder does not exist (none ran)."""
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise MlopsCiError(f"cannot read the experiment result: {error}", where=str(path)) from error
        found.append(parse(document, str(path)))
    return tuple(sorted(found, key=lambda experiment: experiment.name))
