"""The one way mlops-ci runs git and dvc: plain functions over the subprocesses, one error wording."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from mlops_ci.core.errors import MlopsCiError

# The longest a dvc command may take (a diff over a large cache).
DVC_TIMEOUT = 900
# dvc's stderr lines worth passing on as warnings.
_DVC_NOTE = re.compile(r"^(?:ERROR|WARNING):|failed", re.IGNORECASE)
_GITHUB_REMOTE = re.compile(r"(?:github\.com[:/]|/)(?P<owner>[\w.-]+)/(?P<name>[\w.-]+?)(?:\.git)?/?$")


def git(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Run git in `repo` (with `env` added to the environment) and return its stdout (stripped); a
    failure is an input error."""
    try:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True,
                              timeout=120, env={**os.environ, **env} if env else None)
    except FileNotFoundError as error:
        raise MlopsCiError("git is not installed") from error
    except subprocess.CalledProcessError as error:
        detail = (error.stderr or error.stdout).strip().splitlines()
        raise MlopsCiError(f"git {' '.join(args)} failed: {detail[-1] if detail else error.returncode}",
                           where=str(repo)) from error
    return done.stdout.strip()


def git_output(repo: Path, *args: str, timeout: float = 120) -> str | None:
    """`git ARGS` in `repo`: its stdout as printed, or None when git fails, times out or is not
    installed (for questions whose "no" is an answer: is there such a commit, such a file at a rev)."""
    try:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def rev_parse(repo: Path, rev: str) -> str:
    """The full commit SHA of `rev`, with a clear error when it does not exist."""
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except MlopsCiError as error:
        raise MlopsCiError(f"no branch or commit named {rev!r}", where=str(repo)) from error


def current_branch(repo: Path) -> str:
    """The checked-out branch name (error when HEAD is detached)."""
    name = git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    if name == "HEAD":
        raise MlopsCiError("HEAD is detached: name the branch to run for", where=str(repo))
    return name


def repository_slug(repo: Path) -> str | None:
    """`owner/name` from the `origin` remote, the way act derives GITHUB_REPOSITORY; None if no origin."""
    try:
        url = git(repo, "remote", "get-url", "origin")
    except MlopsCiError:
        return None
    match = _GITHUB_REMOTE.search(url)
    return f"{match['owner']}/{match['name']}" if match else None


def commit_info(repo: Path, rev: str) -> dict[str, str]:
    """Message, author and timestamp of one commit, for push payloads."""
    sha, name, email, timestamp, message = git(
        repo, "show", "-s", "--format=%H%x00%an%x00%ae%x00%aI%x00%B", rev).split("\0", 4)
    return {"id": sha, "tree_id": git(repo, "rev-parse", f"{sha}^{{tree}}"), "message": message.strip(),
            "timestamp": timestamp, "author": {"name": name, "email": email}}


def clone_at(repo: Path, destination: Path, branch: str, sha: str, slug: str) -> None:
    """A clean clone of `repo` with `branch` checked out at `sha`, its origin named like GitHub's.

    A clone, not the working tree: what runs is exactly what was committed, as on GitHub, and the
    user's checkout is never touched. Remote-tracking branches (origin/develop, ...) stay available
    for comparisons against a base branch.
    """
    git(repo.parent, "clone", "--quiet", "--no-checkout", str(repo.resolve()), str(destination))
    git(destination, "checkout", "--quiet", "-B", branch, sha)
    git(destination, "remote", "set-url", "origin", f"https://github.com/{slug}.git")


def copy_visible_files(root: Path, destination: Path) -> Path:
    """Copy the files under `root` that git would track (uncommitted edits included, ignored files
    left out); outside a git repository, every file."""
    try:
        listed = git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        names = [name for name in listed.split("\0") if name]
    except MlopsCiError:
        names = [str(path.relative_to(root)) for path in root.rglob("*")]
    for name in names:
        if (root / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, destination / name)
    return destination


def dvc_command() -> list[str]:
    """How to run dvc: the `dvc` on PATH, else `python -m dvc` when this Python has it."""
    found = shutil.which("dvc")
    if found:
        return [found]
    if find_spec("dvc") is not None:
        return [sys.executable, "-m", "dvc"]
    raise MlopsCiError("dvc is not installed (pip install dvc), or not on PATH")


def dvc_error(stderr: str, returncode: int) -> str:
    """One line from dvc's error output: its ERROR line (else its first line), and its last
    unindented line when there are more (the detail of a multi-line message)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line[:1].isspace()]
    if not lines:
        return f"exit code {returncode}"
    first = next((line for line in lines if line.startswith("ERROR:")), lines[0])
    detail = first.removeprefix("ERROR:").strip()
    return detail if first == lines[-1] else f"{detail} ({lines[-1]})"


def run_dvc(repo: Path, *args: str, timeout: float | None = None,
            site_cache: Path | None = None) -> tuple[Any, list[str]]:
    """Run `dvc ARGS --json` in `repo`: (its parsed JSON, its warning lines). Failure, or no answer
    within `timeout` seconds (default DVC_TIMEOUT; a remote that doesn't answer): MlopsCiError.
    `site_cache`: DVC's site cache folder for this process (its index databases), for commands run
    side by side in one repository."""
    timeout = DVC_TIMEOUT if timeout is None else timeout
    command = [*dvc_command(), *args, "--json"]
    label = "dvc " + " ".join(arg for arg in args[:2])
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    if site_cache is not None:
        env["DVC_SITE_CACHE_DIR"] = str(site_cache)
    try:
        done = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired as error:
        raise MlopsCiError(f"{label} took longer than {timeout:g} s", where=str(repo)) from error
    except OSError as error:
        raise MlopsCiError(f"cannot run dvc: {error.strerror}", where=str(repo)) from error
    notes = [line.strip() for line in done.stderr.splitlines() if _DVC_NOTE.search(line)]
    if done.returncode != 0:
        raise MlopsCiError(f"{label} failed: {dvc_error(done.stderr, done.returncode)}", where=str(repo))
    try:
        return json.loads(done.stdout), [f"{label}: {note}" for note in notes]
    except ValueError as error:
        detail = notes[-1] if notes else "its output is not JSON"
        raise MlopsCiError(f"{label} failed: {detail}", where=str(repo)) from error


def dvc(repo: Path, *args: str, echo: bool = True) -> subprocess.CompletedProcess:
    """Run `dvc ARGS` in `repo` (no --json: a command whose log is the answer, such as `dvc repro`),
    echoing the command and its output to the job's log unless `echo` is False; the finished process,
    whose failure is the caller's to report."""
    if echo:
        print(f"$ dvc {' '.join(args)}", flush=True)
    done = subprocess.run(["dvc", *args], cwd=repo, capture_output=True, text=True, check=False)
    if echo:
        print(done.stdout + done.stderr, end="", flush=True)
    return done
