"""The fingerprint of a DVC pipeline's inputs: equal fingerprints mean the pipeline trains the same model.

`train plan` asks the registry for a version carrying the fingerprint of the PR head, and `train run`
tags every version it registers with it, so a pipeline that was trained once (a re-run of a PR, a
release PR develop -> main) reuses that version instead of training and registering it again.

It is sha256 over canonical JSON of, per stage of dvc.yaml as `dvc repro` resolves it at the commit
(DVC's own loader: comments and layout don't count; `foreach`/`matrix` stages are expanded to
`evaluate@train`, ..., `vars:` (read at the commit) and `${...}` substituted):
- the stage's definition as written after resolution (cmd, deps, params, outs, metrics, plots, ...);
- for each dependency: nothing when it is another stage's output (that stage's inputs are in the
  fingerprint), the hash recorded in the `.dvc` file that tracks it (DVC-tracked data), else git's
  object id at the commit (a blob or a tree: content-addressed, equal on every branch), else null;
- the values of the params it declares, read from its params files (a whole file when it names no key).
A stage's paths are relative to its `wdir`.

Not included: what no stage declares (a requirements file, the track command, the Python or CUDA
version, a param no stage lists, docs), dvc.lock (it records outputs, which differ by machine) and
dvc.yaml's top-level `plots`. Declare a file as a stage dependency to make it count. A value that
`${...}` takes from a `vars:` file counts where a stage uses it (it is in the resolved definition).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from mlops_ci.core.errors import MlopsCiError
from mlops_ci.core.proc import git, git_output
from mlops_ci.training.pipeline import stage_definitions

SCHEME = "mlops-ci-fingerprint/1"   # change it when what goes in changes: old tags then match nothing


class NotFingerprintable(MlopsCiError):
    """The commit has no pipeline to fingerprint: it must train."""


def _path(entry: Any, wdir: str) -> str:
    """A stage's path (a string, or `{path: options}`) relative to the project folder."""
    name = next(iter(entry)) if isinstance(entry, dict) else str(entry)
    return posixpath.normpath(posixpath.join(wdir, str(name).rstrip("/")))


def _wdir(stage: dict[str, Any]) -> str:
    return str(stage.get("wdir") or ".")


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")


def _tracked_hash(path: str, read: Callable[[str], str | None]) -> str | None:
    """The hash a `.dvc` file records for `path` or a folder above it; None when none tracks it."""
    parts = path.split("/")
    for depth in range(len(parts), 0, -1):
        folder = "/".join(parts[:depth])
        text = read(folder + ".dvc")
        if text is None:
            continue
        for out in (yaml.safe_load(text) or {}).get("outs") or []:
            if posixpath.normpath(posixpath.join(posixpath.dirname(folder), out.get("path", ""))) == folder:
                return str(out.get("md5") or out.get("etag") or out.get("checksum"))
    return None


def _lookup(document: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(document, dict) or part not in document:
            return None
        document = document[part]
    return document


def _params(stage: dict[str, Any], read: Callable[[str], str | None]) -> dict[str, Any]:
    """{file: {key: value}} of the params the stage declares (a whole file's content under "*")."""
    declared: dict[str, list[str]] = {}
    for entry in stage.get("params") or []:
        if isinstance(entry, dict):
            for params_file, keys in entry.items():
                declared.setdefault(params_file, []).extend(keys or ["*"])
        else:
            declared.setdefault("params.yaml", []).append(str(entry))
    values: dict[str, Any] = {}
    for params_file, keys in declared.items():
        text = read(_path(params_file, _wdir(stage)))
        try:
            document = yaml.safe_load(text or "")
        except yaml.YAMLError:
            document = text   # not YAML (e.g. TOML): the whole text counts
        values[params_file] = {key: document if key == "*" or not isinstance(document, dict)
                               else _lookup(document, key) for key in keys}
    return values


def fingerprint(stages: dict[str, dict[str, Any]], read: Callable[[str], str | None],
                object_id: Callable[[str], str | None]) -> str:
    """The fingerprint of the pipeline whose resolved stage definitions are `stages` (name ->
    definition, pipeline.stage_definitions). `read(path)` is a file's text at the commit (None when
    absent), `object_id(path)` git's object id of a file or folder (None when absent); paths are
    relative to the DVC project folder."""
    outputs = {_path(entry, _wdir(stage)) for stage in stages.values()
               for kind in ("outs", "metrics", "plots") for entry in stage.get(kind) or []}
    inputs = {}
    for name, stage in sorted(stages.items()):
        deps = {}
        for dep in (_path(entry, _wdir(stage)) for entry in stage.get("deps") or []):
            if any(_under(dep, out) for out in outputs):
                continue
            deps[dep] = _tracked_hash(dep, read) or object_id(dep)
        inputs[name] = {"definition": stage, "deps": deps, "params": _params(stage, read)}
    canonical = json.dumps({"scheme": SCHEME, "stages": inputs}, sort_keys=True, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def pipeline_fingerprint(repo: Path, rev: str = "HEAD") -> str:
    """The fingerprint of the pipeline of `repo` (a DVC project folder) as commit `rev` has it; ""
    (and why, printed) when it has none: no git, no committed dvc.yaml, or one DVC cannot load. Without
    one the pipeline trains and its version carries no fingerprint."""

    def read(path: str) -> str | None:
        return git_output(repo, "show", f"{rev}:{prefix}{path}")

    def object_id(path: str) -> str | None:
        found = git_output(repo, "rev-parse", "--verify", "--quiet", f"{rev}:{prefix}{path}")
        return (found or "").strip() or None

    try:
        prefix = git(repo, "rev-parse", "--show-prefix")
        if read("dvc.yaml") is None:
            raise NotFingerprintable(f"no dvc.yaml committed at {rev}")
        return fingerprint(stage_definitions(repo, rev), read, object_id)
    except MlopsCiError as why:
        print(f"train: no pipeline fingerprint: {why}")
        return ""
