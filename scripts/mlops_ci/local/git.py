"""The few git queries and operations the local runner needs, as plain functions over `git`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from mlops_ci.errors import MlopsCiError

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
