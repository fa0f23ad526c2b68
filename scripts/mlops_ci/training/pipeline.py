"""The files a DVC pipeline declares in dvc.yaml: each stage's outs, metrics and plots, the params
files its stages read, and the top-level `metrics:`, `plots:` and `params:` that dvclive adds; and the
project's DVC remotes.

dvc.yaml is read by DVC's own loader, so `foreach`/`matrix` stages, `vars:` and `${...}` templating
are resolved as `dvc repro` resolves them. A top-level plot may be a named definition whose `x`/`y`
map files to fields. A stage's paths are relative to its `wdir`; the results here are relative to the
folder of dvc.yaml. A file DVC refuses (YAML, schema, an unresolved `${...}`) is one line naming why.

`stage_definitions` gives each stage's definition as DVC resolves it, in the workspace or at a git
revision (dvc.yaml and its `vars:` files as that commit has them): the one reading of stage
definitions that the train plan and the pipeline fingerprint share.
"""

from __future__ import annotations

import copy
import os
import posixpath
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.core.proc import rev_parse

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

    def produces(self, path: str) -> bool:
        """Whether a stage writes `path`: it is an out, or lies in an out folder (dvclive's params.yaml)."""
        path = posixpath.normpath(path)
        return any(path == out or path.startswith(out + "/") for out in self.outs)


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


def _first_line(error: Exception) -> str:
    """One line from a DVC error: its message, and the YAML or schema detail DVC keeps in its cause
    (the line of a syntax error; each key that the schema refuses)."""
    message = next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
    cause = error.__cause__
    if getattr(cause, "errors", None):  # voluptuous's MultipleInvalid: one per refused key
        return message + ": " + "; ".join(f"{item.msg} at {'.'.join(map(str, item.path)) or 'the top'}"
                                          for item in cause.errors)
    if getattr(cause, "problem", None):  # ruamel.yaml's MarkedYAMLError
        mark = cause.problem_mark
        return f"{message}: {cause.problem} (line {mark.line + 1}, column {mark.column + 1})"
    return message


@contextmanager
def _dvc_repo(repo: Path, rev: str | None = None) -> Iterator[Any]:
    """DVC's view of the project folder `repo`, initialised or not: the workspace, or with `rev` the
    git tree of that commit (DVC's fs is then git's, so every file it reads is the commit's); reading
    it writes nothing there."""
    try:
        # pylint: disable=import-outside-toplevel  # DVC is an extra (mlops-ci[dvc]), loaded when needed
        from dvc.exceptions import DvcException
        from dvc.fs import GitFileSystem, localfs
        from dvc.repo import Repo
        from dvc.scm import SCM
    except ImportError as error:
        raise MlopsCiError("dvc is not installed (pip install 'mlops-ci[dvc]')", where=str(repo)) from error
    try:
        if rev is None:
            dvc_repo = Repo(str(repo), fs=localfs, uninitialized=True)
        else:
            # Repo(rev=...) roots itself at the git root; a project may be a folder inside the repository.
            scm = SCM(str(repo))
            folder = Path(os.path.relpath(os.path.realpath(repo), os.path.realpath(scm.root_dir)))
            dvc_repo = Repo(posixpath.normpath(f"/{folder.as_posix()}"), fs=GitFileSystem(scm=scm, rev=rev),
                            scm=scm, uninitialized=True)
    except DvcException as error:
        what = f"the DVC project at {rev}" if rev else "the DVC project"
        raise MlopsCiError(f"cannot open {what}: {_first_line(error)}", where=str(repo)) from error
    with dvc_repo:
        yield dvc_repo


def _project_file(repo: Path) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """dvc.yaml as DVC resolves it: its stages, and its top-level metrics, plots and params."""
    # pylint: disable=import-outside-toplevel  # DVC is an extra (mlops-ci[dvc]), loaded when needed
    path = repo / "dvc.yaml"
    if not path.is_file():
        raise MlopsCiError("cannot read: no such file", where=str(path))
    with _dvc_repo(repo) as dvc_repo:
        from dvc.dvcfile import load_file
        from dvc.exceptions import DvcException
        try:
            project_file = load_file(dvc_repo, str(path))
            return (list(project_file.stages.values()), project_file.metrics, project_file.plots,
                    project_file.params)
        except DvcException as error:
            raise MlopsCiError(f"cannot read: {_first_line(error)}", where=str(path)) from error


def declared(repo: Path) -> Declared:
    """The files the dvc.yaml of DVC project `repo` declares (error, exit 2, when it cannot be read)."""
    stages, top_metrics, top_plots, top_params = _project_file(repo)
    outs = [(Path(os.path.relpath(out.fs_path, repo)).as_posix(), out)
            for stage in stages for out in stage.outs]
    params_files = [Path(os.path.relpath(dependency.fs_path, repo)).as_posix()
                    for stage in stages for dependency in stage.params]
    return Declared(outs=_unique(path for path, _ in outs),
                    metrics=_unique([*(path for path, out in outs if out.metric), *_paths(top_metrics)]),
                    plots=_unique([*(path for path, out in outs if out.plot),
                                   *(p for entry in top_plots for p in _plot_files(entry))]),
                    params_files=_unique([*params_files, *_paths(top_params)]), stages=len(stages))


def stage_definitions(repo: Path, rev: str | None = None) -> dict[str, dict[str, Any]]:
    """Each stage of the dvc.yaml of DVC project `repo` as `dvc repro` resolves it, name -> definition
    as written after resolution (`foreach`/`matrix` expanded to `evaluate@train`, ..., `vars:` and
    `${...}` substituted): at git revision `rev` (its `vars:` files too), else in the workspace. Error
    (exit 2), one line, when DVC cannot load it there. A commit is resolved once per process."""
    if rev is None:
        return _resolved(str(repo), None)
    return copy.deepcopy(_resolved_at_commit(os.path.realpath(repo), rev_parse(repo, rev)))


@lru_cache(maxsize=8)
def _resolved_at_commit(repo: str, commit: str) -> dict[str, dict[str, Any]]:
    # A commit's tree never changes: `train plan` reads it for the plan and for the fingerprint.
    return _resolved(repo, commit)


def _resolved(repo: str, rev: str | None) -> dict[str, dict[str, Any]]:
    where = str(Path(repo) / "dvc.yaml") + (f" at {rev}" if rev else "")
    with _dvc_repo(Path(repo), rev) as dvc_repo:
        # pylint: disable=import-outside-toplevel  # DVC is an extra (mlops-ci[dvc]), loaded when needed
        from dvc.dvcfile import ProjectFile
        from dvc.exceptions import DvcException
        path = dvc_repo.fs.join(dvc_repo.root_dir, "dvc.yaml") if rev else str(Path(repo) / "dvc.yaml")
        try:
            resolver = ProjectFile(dvc_repo, path).resolver
            return {name: definition for key in resolver.get_keys()
                    for name, definition in resolver.resolve_one(key).items()}
        except DvcException as error:
            raise MlopsCiError(f"cannot read: {_first_line(error)}", where=where) from error


@dataclass(frozen=True)
class Remotes:
    """The DVC remotes of a project (its config, with the user's and the system's), name -> URL."""

    urls: dict[str, str] = field(default_factory=dict)
    default: str | None = None


def remotes(repo: Path) -> Remotes:
    """The DVC remotes DVC project `repo` sees, and its default (error, exit 2, on a bad config)."""
    with _dvc_repo(repo) as dvc_repo:
        from dvc.exceptions import DvcException  # pylint: disable=import-outside-toplevel
        try:
            config = dvc_repo.config
            urls = {name: str(options.get("url", "")) for name, options in config["remote"].items()}
            return Remotes(urls=urls, default=config["core"].get("remote"))
        except DvcException as error:
            raise MlopsCiError(f"cannot read the DVC config: {_first_line(error)}",
                               where=str(repo)) from error
