"""The files a DVC pipeline declares in dvc.yaml: each stage's outs, metrics and plots, the params
files its stages read, and the top-level `metrics:`, `plots:` and `params:` that dvclive adds.

dvc.yaml is read by DVC's own loader, so its schema is checked and templated pipelines (`vars`,
`foreach`, `matrix`, `${...}`) count as `dvc repro` sees them. An entry is then a path, or a one-key
mapping from the path to its options (`- models/model.pkl: {cache: false}`); a top-level plot may
instead be a named definition whose `x`/`y` map files to fields. A stage's paths are relative to its
`wdir`; the results here are relative to the folder of dvc.yaml.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
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
    stages: int = 0                                      # stages once foreach/matrix are expanded

    def has_out(self, path: str) -> bool:
        """Whether `path` (relative to dvc.yaml's folder) is an out of some stage."""
        return posixpath.normpath(path.rstrip("/")) in self.outs


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


def _problem(error: Exception) -> str:
    """One line from a DVC loading error: its message, and the YAML or schema detail DVC keeps in its
    cause (the line of a syntax error; each key that the schema refuses)."""
    cause = error.__cause__
    detail = ""
    if getattr(cause, "errors", None):  # voluptuous's MultipleInvalid: one per refused key
        detail = "; ".join(f"{item.msg} at {'.'.join(map(str, item.path)) or 'the top'}"
                           for item in cause.errors)
    elif getattr(cause, "problem", None):  # ruamel.yaml's MarkedYAMLError
        mark = cause.problem_mark
        detail = f"{cause.problem} (line {mark.line + 1}, column {mark.column + 1})"
    return f"{error}: {detail}" if detail else str(error)


def _resolved(repo: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """dvc.yaml's stages with their templates expanded, and its top-level sections."""
    # DVC imports in ~0.3 s: only the commands that read a pipeline pay for it.
    from dvc.dvcfile import ProjectFile  # pylint: disable=import-outside-toplevel
    from dvc.exceptions import DvcException  # pylint: disable=import-outside-toplevel
    from dvc.repo import Repo  # pylint: disable=import-outside-toplevel

    path = repo / "dvc.yaml"
    try:
        # uninitialized: a folder with a dvc.yaml but no .dvc/ (a fresh checkout's subfolder) reads too.
        with Repo(str(repo), uninitialized=True) as dvc_repo:
            dvcfile = ProjectFile(dvc_repo, dvc_repo.fs.join(dvc_repo.root_dir, "dvc.yaml"))
            resolver = dvcfile.resolver
            stages: dict[str, Any] = {}
            for name in resolver.get_keys():
                stages.update(resolver.resolve_one(name))
            return stages, {"metrics": dvcfile.metrics, "plots": dvcfile.plots, "params": dvcfile.params}
    except DvcException as error:
        raise MlopsCiError(f"cannot read: {_problem(error)}", where=str(path)) from error


def _in_wdir(stage: dict[str, Any], paths: list[str]) -> list[str]:
    wdir = str(stage.get("wdir") or ".")
    return [posixpath.normpath(posixpath.join(wdir, path)) for path in paths]


def declared(repo: Path) -> Declared:
    """The files the dvc.yaml of DVC project `repo` declares (error, exit 2, when DVC cannot load it)."""
    resolved, top = _resolved(repo)
    stages = [stage for stage in resolved.values() if isinstance(stage, dict)]
    metrics = [*(p for s in stages for p in _in_wdir(s, _paths(s.get("metrics")))), *_paths(top["metrics"])]
    plots = [*(p for s in stages for p in _in_wdir(s, _paths(s.get("plots")))),
             *(p for entry in top["plots"] or [] for p in _plot_files(entry))]
    params_files = [path for stage in stages for path in _in_wdir(stage, [
        DEFAULT_PARAMS_FILE if not isinstance(entry, dict) else str(name)
        for entry in stage.get("params") or [] for name in (entry if isinstance(entry, dict) else [entry])])]
    params_files += _paths(top["params"])
    outs = [p for s in stages for kind in ("outs", "metrics", "plots")
            for p in _in_wdir(s, _paths(s.get(kind)))]
    return Declared(outs=_unique(outs), metrics=_unique(metrics), plots=_unique(plots),
                    params_files=_unique(params_files), stages=len(stages))
