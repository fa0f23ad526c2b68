"""A scratch project repository: the bundled example plus our caller templates, in git-flow shape.

The demo plays its story in one, and the end-to-end tests run workflows in one; so both exercise what
a team gets when it copies the example and the templates into a new repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from mlops_ci.project import templates
from mlops_ci.core.proc import copy_visible_files, git

EXAMPLE = Path("examples") / "image-classifier"


def make_project_repo(destination: Path, source: Path, *, slug: str = "acme/digits", org: str = "org",
                      ref: str = "v1", example: Path | None = None) -> Path:
    """Create `destination` as a git repo with `main` and `develop`, holding the example project and
    every caller template of the mlops-ci checkout `source` (as `org/mlops-ci/...@ref`).

    The example's ignored files (DVC outputs, caches) are left out, as a fresh clone would have it.
    """
    copy_visible_files(example or source / EXAMPLE, destination)
    workflows = destination / ".github" / "workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    for template in templates.template_files(source):
        text = templates.instantiate(template.read_text(encoding="utf-8"), org=org, ref=ref)
        (workflows / template.name).write_text(text, encoding="utf-8")
    return init_git_flow_repo(destination, slug, "Start the project from the mlops-ci example")


def init_git_flow_repo(folder: Path, slug: str, message: str) -> Path:
    """Make the files in `folder` a git repository: one commit on `main`, `develop` beside it, and an
    origin remote naming GitHub repository `slug` (never fetched: it only gives the repository's name)."""
    git(folder, "init", "--quiet", "--initial-branch=main")
    git(folder, "config", "user.name", "mlops-ci demo")
    git(folder, "config", "user.email", "demo@mlops-ci.invalid")
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "--message", message)
    git(folder, "branch", "develop")
    git(folder, "remote", "add", "origin", f"https://github.com/{slug}.git")
    return folder


def commit_change(repo: Path, branch: str, path: str, text: str, message: str, *, start: str | None = None) -> str:
    """Create or update `branch` (from `start` when new) with one file written, committed; its SHA."""
    if start is not None:
        git(repo, "checkout", "--quiet", "-B", branch, start)
    else:
        git(repo, "checkout", "--quiet", branch)
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    git(repo, "add", "--", path)
    git(repo, "commit", "--quiet", "--message", message)
    return git(repo, "rev-parse", "HEAD")


def merge(repo: Path, head: str, base: str, message: str) -> str:
    """Merge `head` into `base` with a merge commit, as GitHub's merge button does; the merge SHA."""
    git(repo, "checkout", "--quiet", base)
    git(repo, "merge", "--quiet", "--no-ff", "--message", message, head)
    return git(repo, "rev-parse", "HEAD")


def seed_dvc_remote(repo: Path, remote: Path | str, credentials: Mapping[str, str] | None = None) -> None:
    """Give the project a DVC remote (a local folder, or an `s3://` URL with `credentials` such as
    S3Server.env()) holding its data and the trained outputs of `develop`, run-cache included: the
    state the team's object store is in after develop's last training.

    Training happens here, on this machine, and its `dvc.lock` is committed to `main` (and `develop`
    moved along) with the remote: model and metric hashes depend on the CPU that trained them, so
    the committed lock of the example only describes the machine it was made on."""
    env = {**os.environ, **(credentials or {}),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def run(*command: str) -> None:
        subprocess.run(command, cwd=repo, env=env, check=True, capture_output=True, timeout=900)

    run("dvc", "remote", "add", "--default", "storage", str(remote))
    run(sys.executable, "-m", "src.ingest")
    run("dvc", "repro")
    run("dvc", "push", "--run-cache")
    git(repo, "add", "--update")
    git(repo, "add", ".dvc/config")
    git(repo, "commit", "--quiet", "--message", "Train develop and store data and outputs in the DVC remote")
    git(repo, "branch", "--force", "develop", "main")
