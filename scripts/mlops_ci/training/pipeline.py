"""The files a DVC pipeline declares in dvc.yaml: each stage's outs, metrics and plots, the params
files its stages read, and the top-level `metrics:`, `plots:` and `params:` that dvclive adds.

dvc.yaml is read by DVC's own loader, so `vars:`, `${}` interpolation and `foreach`/`matrix` stages
are resolved as `dvc repro` resolves them, and a stage's `wdir:` is applied. A top-level plot may be
a path or a named definition whose `x`/`y` map files to fields. Paths are relative to the folder of
dvc.yaml.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from mlops_ci.core.errors import MlopsCiError

DEFAULT_PARAMS_FILE = "params.yaml"


@dataclass(frozen=True)
class Declared:
    """What dvc.yaml declares, each list in its order without repeats."""

    outs: list[str] = field(default_factory=list)       # every stage out, metrics and plots included
    metrics: list[str] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)
    params_files: list[str] = field(default_factory=list)


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
    return list(dict.fromkeys(str(path).rstrip("/") for path in paths if path))


def declared(repo: Path) -> Declared:
    """The files the dvc.yaml of DVC project `repo` declares (error, exit 2, when DVC cannot load it)."""
    # pylint: disable=import-outside-toplevel  # DVC's import costs about a second: only where it is read
    from dvc.dependency.param import ParamsDependency
    from dvc.dvcfile import load_file
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    path = repo / "dvc.yaml"
    if not path.is_file():
        raise MlopsCiError("no dvc.yaml: not a DVC pipeline", where=str(repo))
    try:
        # uninitialized: a checkout's dvc.yaml is readable before `dvc init` or without .dvc/
        with Repo(str(repo), uninitialized=True) as dvc_repo:
            root = dvc_repo.root_dir
            pipeline = load_file(dvc_repo, os.path.join(root, path.name))
            stages = list(pipeline.stages.values())
            top_metrics, top_plots, top_params = pipeline.metrics, pipeline.plots, pipeline.params
    except DvcException as error:
        lines = str(error).strip().splitlines()
        raise MlopsCiError(f"cannot read: {lines[0] if lines else type(error).__name__}",
                           where=str(path)) from error

    def relative(file: Any) -> str:
        return PurePath(os.path.relpath(str(file), root)).as_posix()

    outs = [relative(out.fs_path) for stage in stages for out in stage.outs]
    metrics = [relative(out.fs_path) for stage in stages for out in stage.outs if out.metric]
    plots = [relative(out.fs_path) for stage in stages for out in stage.outs if out.plot]
    params_files = [relative(dep.fs_path) for stage in stages for dep in stage.deps
                    if isinstance(dep, ParamsDependency)]
    return Declared(outs=_unique(outs), metrics=_unique([*metrics, *top_metrics]),
                    plots=_unique([*plots, *(file for entry in top_plots for file in _plot_files(entry))]),
                    params_files=_unique([*params_files, *top_params]))
