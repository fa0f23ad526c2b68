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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from mlops_ci.core import gha
from mlops_ci.core.errors import EXIT_OK, MlopsCiError
from mlops_ci.clients.github import GitHubClient, GitHubError, repo_path
from mlops_ci.core.markers import marker, with_marker

DEFAULT_BOT = "github-actions[bot]"


def find_marked(comments: list[dict[str, Any]], key: str, author: str | None,
                whoami: Callable[[], str | None] = lambda: None) -> dict[str, Any] | None:
    """The first comment carrying the marker written by `author`. With no author given: the first
    marked one by github-actions[bot]; else, when some are marked, by the token's user (`whoami`,
    asked only then), or by any bot account when the token cannot tell (an App's; never a human's)."""
    tag = marker(key)
    marked = [comment for comment in comments if tag in (comment.get("body") or "")]
    logins = [comment["user"]["login"] for comment in marked]
    if author is None and marked and DEFAULT_BOT not in logins:
        author = whoami()
        if author is None:
            return next((comment for comment, login in zip(marked, logins) if login.endswith("[bot]")), None)
    return next((comment for comment, login in zip(marked, logins) if login == (author or DEFAULT_BOT)), None)


def token_login(github: GitHubClient) -> str | None:
    """The token's user (`GET /user`), or None for an installation token, which may not ask."""
    try:
        return str(github.get("/user")["login"])
    except GitHubError as error:
        if error.status in (401, 403, 404):
            return None
        raise


@dataclass
class Outcome:
    """What `upsert` did: created, updated or unchanged, and the comment."""

    action: str
    comment: dict[str, Any]


def upsert(github: GitHubClient, repo: str, number: int, body: str, key: str,
           author: str | None = None) -> Outcome:
    """Create or update the PR's comment for `key` so its body is `body` (marker added); whose
    comment counts as ours: see `find_marked`."""
    text = with_marker(body, key)
    comments_path = repo_path(repo, "issues", number, "comments")

    def existing() -> dict[str, Any] | None:
        return find_marked(github.paginate(comments_path), key, author, lambda: token_login(github))

    # A create that failed after reaching GitHub is looked up again rather than posted twice.
    found, created = github.create_once(comments_path, {"body": text}, existing)
    if created:
        return Outcome("created", found)
    if found["body"] == text:
        return Outcome("unchanged", found)
    updated = github.patch(repo_path(repo, "issues", "comments", found["id"]), json={"body": text})
    return Outcome("updated", updated)


def pr_for_commit(github: GitHubClient, repo: str, sha: str) -> int:
    """The open PR whose head is `sha` (else the first open PR containing it)."""
    pulls = [pull for pull in github.paginate(repo_path(repo, "commits", sha, "pulls"))
             if pull.get("state") == "open"]
    if not pulls:
        raise MlopsCiError(f"no open pull request contains commit {sha[:12]}: pass --pr", where=repo)
    heads = [pull for pull in pulls if pull["head"]["sha"] == sha]
    return int((heads or pulls)[0]["number"])


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
