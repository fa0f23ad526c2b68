"""The work of the host-mode shims (mlops_ci/local/shims) that is more than a line of shell.

Called by the shim actions as `python -m mlops_ci.local.shim_steps checkout|upload|download|host-tool`
with their inputs in the environment (REF; NAME, PATHS, IF_NO_FILES_FOUND; NAME, DESTINATION; TOOL,
VERSION).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from mlops_ci.core import gha
from mlops_ci.core.proc import copy_visible_files, git


def _store(name: str) -> Path:
    root = os.environ.get("MLOPS_CI_LOCAL_ARTIFACTS")
    if not root:
        raise SystemExit("::error::MLOPS_CI_LOCAL_ARTIFACTS is not set: this shim runs under mlops-ci local")
    return Path(root) / name


def matching_files(patterns: str, workspace: Path) -> list[Path]:
    """Files named by newline-separated paths or globs (folders taken whole), `!` lines excluded."""
    included: set[Path] = set()
    excluded: set[Path] = set()
    for raw in patterns.splitlines():
        pattern = raw.strip()
        if not pattern:
            continue
        target = excluded if pattern.startswith("!") else included
        for hit in glob.glob(str(workspace / pattern.lstrip("!")), recursive=True):
            path = Path(hit)
            if path.is_dir():
                target.update(p for p in path.rglob("*") if p.is_file())
            else:
                target.add(path)
    return sorted(included - excluded)


def artifact_root(patterns: str, workspace: Path) -> Path:
    """The folder paths inside the artifact are relative to, as actions/upload-artifact does it: the
    least common ancestor of the search paths (a folder given alone is the root: its files sit at
    the top of the artifact)."""
    roots = []
    for raw in patterns.splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("!"):
            continue
        literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
        path = (workspace / literal).resolve()
        roots.append(path if path.is_dir() else path.parent)
    return Path(os.path.commonpath(roots)) if roots else workspace.resolve()


def upload(workspace: Path) -> int:
    """Copy the matching files under the artifact's folder, keeping paths relative to the workspace."""
    name = os.environ.get("NAME", "artifact")
    files = matching_files(os.environ.get("PATHS", ""), workspace)
    if not files:
        level = os.environ.get("IF_NO_FILES_FOUND", "warn")
        if level != "ignore":
            print(gha.annotation("error" if level == "error" else "warning",
                                 f"no files found for artifact {name!r}"))
        return 1 if level == "error" else 0
    store = _store(name)
    root = artifact_root(os.environ.get("PATHS", ""), workspace)
    for path in files:
        resolved = path.resolve()
        relative = resolved.relative_to(root) if resolved.is_relative_to(root) else Path(path.name)
        (store / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, store / relative)
    gha.set_output("artifact-url", store.as_uri())
    print(f"artifact {name!r}: {len(files)} file(s) in {store}")
    return 0


def download(workspace: Path) -> int:
    """Copy the artifact's files into the destination folder: the named artifact, or (as the real
    action) every artifact whose name matches PATTERN, each into its own subfolder unless
    MERGE_MULTIPLE is true. A pattern that matches nothing is not an error."""
    name = os.environ.get("NAME", "")
    destination = workspace / os.environ.get("DESTINATION", ".")
    if name:
        store = _store(name)
        if not store.is_dir():
            print(gha.annotation("error", f"artifact {name!r} not found"))
            return 1
        shutil.copytree(store, destination, dirs_exist_ok=True)
    else:
        pattern = os.environ.get("PATTERN") or "*"
        merge = os.environ.get("MERGE_MULTIPLE", "false") == "true"
        stores = sorted(path for path in _store("").glob(pattern) if path.is_dir())
        for store in stores:
            shutil.copytree(store, destination if merge else destination / store.name, dirs_exist_ok=True)
        print(f"{len(stores)} artifact(s) matching {pattern!r} downloaded")
    gha.set_output("download-path", str(destination))
    return 0


def checkout(workspace: Path) -> int:
    """Fill the workspace from the run's clone, then check out REF.

    act copies the clone into the workspace itself only for a plain `actions/checkout`; with `ref:` it
    runs this shim instead, so the shim does the copy (git's visible files and the history).
    """
    clone = Path(os.environ["MLOPS_CI_LOCAL_REPO"])
    if not (workspace / ".git").exists():
        copy_visible_files(clone, workspace)
        shutil.copytree(clone / ".git", workspace / ".git")
    if os.environ.get("REF"):
        git(workspace, "checkout", "--quiet", "--force", os.environ["REF"])
    return 0


def host_tool(_workspace: Path) -> int:
    """Use the host's TOOL as it is, for the setup-dvc and setup-cml shims: they install nothing (the
    runner skips a workflow using one when the tool is missing). A VERSION other than `latest` that the
    host's does not match is a warning: the run goes on with what is installed."""
    tool, wanted = os.environ["TOOL"], os.environ.get("VERSION", "latest").removeprefix("v")
    found = shutil.which(tool)
    if not found:
        print(gha.annotation("error", f"{tool} is not installed on this machine"))
        return 1
    done = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    version = done.stdout.strip()
    if done.returncode != 0:
        print(gha.annotation("error", f"`{tool} --version` failed: {done.stderr.strip()[-500:]}"))
        return 1
    if wanted not in ("", "latest") and version != wanted and not version.startswith(f"{wanted}."):
        print(gha.annotation("warning", f"the host's {tool} is {version}, the workflow asks for {wanted}"))
    print(f"mlops-ci local - the host's {tool} {version}")
    return 0


def main(argv: list[str]) -> int:
    """`python -m mlops_ci.local.shim_steps checkout|upload|download|host-tool`."""
    workspace = Path(os.environ.get("GITHUB_WORKSPACE", "."))
    commands = {"checkout": checkout, "upload": upload, "download": download, "host-tool": host_tool}
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: python -m mlops_ci.local.shim_steps {'|'.join(commands)}", file=sys.stderr)
        return 2
    return commands[argv[0]](workspace)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
