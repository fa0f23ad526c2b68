"""`mlops-ci comment`: one PR comment per marker, updated in place.

The comment is found by a hidden marker (`<!-- mlops-ci:KEY -->`) across *all* pages of the PR's
comments (upstream CML searched only the first), updated when its body changed, left alone when it did
not, created when absent. Retries never produce a second comment: a create that failed after reaching
GitHub is checked by looking again before creating again.

Whose comment is ours: with --author, only that login's. Otherwise github-actions[bot]'s (the
GITHUB_TOKEN's) when there is one; else the token's own user when GitHub tells it (`GET /user`
answers for a personal access token, asked only when a marked comment exists), so a PAT updates its
own comment and never a human's copy; an installation token (a GitHub App's) cannot ask, so the
marked comment of a bot account counts (a human's copy of the marker never does).

Without --pr, the PR is found from a commit: --commit, else the pull_request event's head commit
(GITHUB_SHA is the test-merge commit there), else GITHUB_SHA.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
from pathlib import Path

from mlops_ci.clients.github import GitHubClient
from mlops_ci.clients.github_comments import pr_for_commit, upsert
from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, MlopsCiError


def _post_with_cml(number: int, body_file: Path, key: str) -> int:
    """The `--backend cml` path: CML's own `comment update`, for teams standardised on it."""
    cml = shutil.which("cml")
    if cml is None:
        raise MlopsCiError("--backend cml: the cml CLI is not installed (npm @dvcorg/cml); "
                           "the default api backend needs nothing extra")
    return subprocess.run([cml, "comment", "update", str(body_file), f"--target=pr/{number}",
                           f"--watermark-title={key}"], check=False).returncode


def event_head_sha(environ: dict[str, str]) -> str | None:
    """The PR head commit of a pull_request event (GITHUB_EVENT_PATH), if this run has one."""
    path = environ.get("GITHUB_EVENT_PATH")
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return None
    return ((event.get("pull_request") or {}).get("head") or {}).get("sha")


def _read_body(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise MlopsCiError(f"cannot read: {error.strerror}", where=path) from error


def run(args: argparse.Namespace) -> int:
    """Handler of `mlops-ci comment`."""
    repo = args.repo or os.environ.get("GITHUB_REPOSITORY")
    if not repo:
        raise MlopsCiError("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    body = _read_body(args.body_file)
    with GitHubClient.from_env() as github:
        number = args.pr
        if number is None:
            sha = args.commit or event_head_sha(dict(os.environ)) or os.environ.get("GITHUB_SHA")
            if not sha:
                raise MlopsCiError("no PR: pass --pr N, or --commit SHA (or set GITHUB_SHA) to find it")
            number = pr_for_commit(github, repo, sha)
        if args.backend == "cml":
            return _post_with_cml(number, Path(args.body_file), args.marker)
        outcome = upsert(github, repo, number, body, args.marker, args.author)
    url = outcome.comment.get("html_url", "")
    print(f"comment {outcome.action} on {repo}#{number}: {url}")
    gha.set_output("comment-url", url)
    gha.set_output("comment-action", outcome.action)
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mlops-ci comment` to the CLI."""
    parser = subparsers.add_parser(
        "comment", help="post or update the one PR comment for a marker",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pr", type=int, help="PR number (default: the open PR of --commit / GITHUB_SHA)")
    parser.add_argument("--commit", help="find the PR from this commit (default: the pull_request event's "
                                          "head commit, else GITHUB_SHA)")
    parser.add_argument("--body-file", required=True, help="Markdown file with the comment's text")
    parser.add_argument("--marker", required=True, help="identifies this comment among the PR's comments")
    parser.add_argument("--repo", help="OWNER/NAME (default: GITHUB_REPOSITORY)")
    parser.add_argument("--author", help="only a comment by this login counts as ours (default: the "
                                         "token's user when GET /user tells it, else the marker decides)")
    parser.add_argument("--backend", choices=("api", "cml"), default="api",
                        help="api (built in, default) or cml (CML's CLI, when installed)")
    parser.set_defaults(handler=run)
