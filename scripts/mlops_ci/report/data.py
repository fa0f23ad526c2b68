"""The report's Data section: what DVC-tracked data and pipeline outputs changed between two revisions.

`dvc diff --json BASE NEW` gives each tracked path's status, and the files inside a directory only
where the local DVC cache holds the revisions' directory listings (.dir objects); a hosted runner
usually has no cache, so the .dvc and dvc.lock files of both revisions (read from git) add what they
record: which paths are data (.dvc files), and directories' file counts and sizes. Never the
workspace or the cache's contents, where absent data would look deleted.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlops_ci.core.proc import git

BASE, NEW = "base", "new"
CHANGE_KINDS = ("added", "modified", "deleted", "renamed")


@dataclass(frozen=True)
class DataGroup:  # pylint: disable=too-many-instance-attributes
    """The change of one DVC-tracked path (a directory or a single file) between the two revisions."""

    path: str
    is_dir: bool
    source: str = "output"           # "data" when a .dvc file tracks it, else a pipeline output
    status: str | None = None        # the change of the tracked path itself (dvc lists dirs too)
    # (change, path) of files inside a directory: dvc lists them only when the local DVC cache holds
    # the revisions' directory listings (.dir objects), so an empty tuple means "not known".
    files: tuple[tuple[str, str], ...] = ()
    nfiles: tuple[int | None, int | None] = (None, None)   # (base, new) from the .dvc/dvc.lock records
    size: tuple[int | None, int | None] = (None, None)     # (base, new) bytes, likewise

    def counts(self) -> dict[str, int]:
        """Files per change kind (added, modified, deleted, renamed), zeros left out."""
        counts: dict[str, int] = {}
        for change, _ in self.files:
            counts[change] = counts.get(change, 0) + 1
        return counts


def _diff_path(entry: Any) -> tuple[str, str | None]:
    """(path, old path of a rename) of one `dvc diff` entry."""
    path = entry.get("path") if isinstance(entry, dict) else None
    if isinstance(path, dict):
        return str(path.get("new", "")), str(path.get("old", ""))
    return str(path or ""), None


def parse_tracked(documents: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The outputs that .dvc and dvc.lock files record at one revision ({file path: its text}):
    {output path (relative to the DVC root, as `dvc diff` prints it): {"source": "data" for a .dvc
    file, "output" for dvc.lock, "md5", "nfiles", "size"}}. A malformed file is skipped: `dvc diff`
    reports it."""
    outs: dict[str, dict[str, Any]] = {}
    for name, text in documents.items():
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        if not isinstance(document, dict):
            continue
        if posixpath.basename(name) == "dvc.lock":
            # Lock schema 2 nests the stages under `stages:`; schema 1 (DVC 1.x) has them at the top.
            stages = document.get("stages") if "schema" in document else document
            entries = [out for stage in (stages or {}).values() if isinstance(stage, dict)
                       for out in stage.get("outs") or ()]
            source = "output"
        else:
            entries, source = document.get("outs") or [], "data"
        for entry in entries:
            if isinstance(entry, dict) and entry.get("path"):
                path = posixpath.normpath(posixpath.join(posixpath.dirname(name), str(entry["path"])))
                md5 = entry.get("md5")
                outs[path] = {"source": source, "md5": None if md5 is None else str(md5),
                              "nfiles": entry.get("nfiles"), "size": entry.get("size")}
    return outs


def _data_group(path: str, is_dir: bool, status: str | None, files: tuple[tuple[str, str], ...],
                outs: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> DataGroup:
    before, after = ((outs.get(side) or {}).get(path) or {} for side in (BASE, NEW))
    sides = (before, after)
    return DataGroup(path, is_dir or any(str(side.get("md5") or "").endswith(".dir") for side in sides),
                     "data" if "data" in (before.get("source"), after.get("source")) else "output", status,
                     tuple(sorted(files, key=lambda item: item[1])),
                     (before.get("nfiles"), after.get("nfiles")), (before.get("size"), after.get("size")))


def parse_data_diff(data: Mapping[str, Any],
                    outs: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None) -> list[DataGroup]:
    """`dvc diff BASE NEW --json` grouped per DVC-tracked path: a directory (listed by dvc with a
    trailing slash) collects the files under it; any other file is its own group. `outs` ({BASE: ...,
    NEW: ...} of parse_tracked) tells data (.dvc files, shown before the pipeline outputs) from
    outputs, and gives directories' file counts and sizes."""
    outs = outs or {}
    entries: list[tuple[str, str]] = []
    for change in CHANGE_KINDS:
        for entry in data.get(change) or ():
            path, old = _diff_path(entry)
            if path:
                entries.append((change, f"{old} -> {path}" if old else path))
    roots = {path.rstrip("/"): change for change, path in entries if path.endswith("/")}
    groups: dict[str, list[tuple[str, str]]] = {root: [] for root in roots}
    singles: dict[str, str] = {}
    for change, path in entries:
        if path.endswith("/"):
            continue
        target = path.rsplit(" -> ", 1)[-1]
        owner = max((root for root in roots if target.startswith(root + "/")), key=len, default=None)
        if owner is None:
            singles[path] = change
        else:
            groups[owner].append((change, path))
    result = [_data_group(root, True, roots[root], tuple(files), outs) for root, files in groups.items()]
    result += [_data_group(path, False, change, (), outs) for path, change in singles.items()]
    return sorted(result, key=lambda group: (group.source != "data", group.path))


# --- I/O at the edge: git ---------------------------------------------------------------------

def trained_revision(repo: Path) -> str:
    """The revision whose data the report compares with the base: HEAD, or, when the workspace has
    dvc.lock files that differ from HEAD's (the train job's freshly trained ones, brought in as an
    artifact), a commit object of HEAD's tree with those dvc.lock files. Data sources (.dvc files)
    thus always come from HEAD, pipeline outputs from what was trained, and `dvc diff` compares two
    revisions rather than the workspace, where a runner without the DVC cache has no data at all.
    The commit is made with plumbing and a throwaway index: no ref, index or file of the user moves."""
    top = Path(git(repo, "rev-parse", "--show-toplevel"))
    locks = ":(glob)**/dvc.lock"
    listed = (git(repo, "diff", "-z", "--name-only", "HEAD", "--", locks) + "\0"
              + git(repo, "ls-files", "-z", "--full-name", "--others", "--exclude-standard", "--", locks))
    changed = [name for name in listed.split("\0") if name and (top / name).is_file()]
    if not changed:
        return git(repo, "rev-parse", "HEAD")
    with tempfile.TemporaryDirectory(prefix="mlops-ci-index-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        git(top, "read-tree", "HEAD", env=env)
        for name in changed:
            blob = git(top, "hash-object", "-w", "--", name)
            git(top, "update-index", "--add", "--cacheinfo", f"100644,{blob},{name}", env=env)
        tree = git(top, "write-tree", env=env)
    return git(top, "-c", "user.name=mlops-ci", "-c", "user.email=mlops-ci@localhost", "commit-tree", tree,
               "-p", "HEAD", "-m", "mlops-ci report: HEAD with the trained dvc.lock")


def read_tracked(repo: Path, rev: str) -> dict[str, dict[str, Any]]:
    """parse_tracked of the .dvc and dvc.lock files under `repo` at `rev` (from git, not the workspace)."""
    listed = git(repo, "ls-tree", "-r", "-z", "--name-only", rev, "--", ".").split("\0")
    names = [name for name in listed if (name.endswith(".dvc") and not name.startswith(".dvc/"))
             or posixpath.basename(name) == "dvc.lock"]
    return parse_tracked({name: git(repo, "show", f"{rev}:./{name}") for name in names})
