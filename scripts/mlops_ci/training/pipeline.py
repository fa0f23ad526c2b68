"""The files a DVC pipeline declares in dvc.yaml: each stage's outs, metrics and plots, the params
files its stages read, and the top-level `metrics:`, `plots:` and `params:` that dvclive adds.

An entry is a path, or a one-key mapping from the path to its options (`- models/model.pkl:
{cache: false}`); a top-level plot may instead be a named definition whose `x`/`y` map files to
fields. Paths are relative to the folder of dvc.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_ci.core.errors import MlopsCiError

DEFAULT_PARAMS_FILE = "params.yaml"


@dataclass(frozen=True)
class Declared:
    """What dvc.yaml declares, each list in its order without repeats."""

    outs: list[str] = field(default_factory=list)       # every stage out, metrics and plots included
    metrics: list[str] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)
    params_files: list[str] = field(default_factory=list)


def _paths(entries: Iterable[Any] | None) -> list[str]:
    return [str(next(iter(entry)) if isinstance(entry, dict) else entry).rstrip("/")
            for entry in entries or [] if entry]


def _plot_files(entry: Any) -> list[str]:
    """The files of one top-level `plots:` entry: a path, `{path: options}`, or `{id: {x:, y:}}`
    whose x or y maps files to fields."""
    if not isinstance(entry, dict):
        return [str(entry)]
    name, options = next(iter(entry.items()))
    files = [str(path) for axis in ("x", "y") if isinstance((options or {}).get(axis), dict)
             for path in options[axis]]
    return files or [str(name)]


def _unique(paths: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(paths))


def declared(repo: Path) -> Declared:
    """The files the dvc.yaml of DVC project `repo` declares (error, exit 2, when it cannot be read)."""
    path = repo / "dvc.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise MlopsCiError(f"cannot read: {str(error).splitlines()[0]}", where=str(path)) from error
    if not isinstance(document, dict):
        raise MlopsCiError("not a mapping of stages", where=str(path))
    stages = [stage for stage in (document.get("stages") or {}).values() if isinstance(stage, dict)]
    metrics = [*(p for s in stages for p in _paths(s.get("metrics"))), *_paths(document.get("metrics"))]
    plots = [*(p for s in stages for p in _paths(s.get("plots"))),
             *(p for entry in document.get("plots") or [] for p in _plot_files(entry))]
    params_files = [DEFAULT_PARAMS_FILE if not isinstance(entry, dict) else str(name)
                    for stage in stages for entry in stage.get("params") or []
                    for name in (entry if isinstance(entry, dict) else [entry])]
    params_files += _paths(document.get("params"))
    outs = [p for s in stages for kind in ("outs", "metrics", "plots") for p in _paths(s.get(kind))]
    return Declared(outs=_unique(outs), metrics=_unique(metrics), plots=_unique(plots),
                    params_files=_unique(params_files))
