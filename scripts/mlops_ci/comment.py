"""`mlops-ci comment`: one PR comment per marker, updated in place.

The comment is found by a hidden marker (`<!-- mlops-ci:KEY -->`) across *all* pages of the PR's
comments (upstream CML searched only the first), updated when its body changed, left alone when it did
not, created when absent. Retries never produce a second comment: a create that failed after reaching
GitHub is checked by looking again before creating again.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_ci import gha
from mlops_ci.errors import EXIT_OK, MlopsCiError
from mlops_ci.github import GitHubClient, repo_path

COMMENT_LIMIT = 65_536


def marker(key: str) -> str:
    """The hidden HTML comment that identifies one report's comment."""
    if not key or "--" in key or ">" in key:
        raise MlopsCiError(f"--marker {key!r}: use letters, digits, '.', '_', '/' or single '-'")
    return f"<!-- mlops-ci:{key} -->"


def with_marker(body: str, key: str) -> str:
    """The comment body as posted: the marker on its own first line, then the text."""
    text = f"{marker(key)}\n{body.rstrip()}\n"
    if len(text) > COMMENT_LIMIT:
        raise MlopsCiError(f"the comment is {len(text):,} characters; GitHub takes at most "
                           f"{COMMENT_LIMIT:,} (mlops-ci report fits its output; shorten the body)")
    return text


def find_marked(comments: list[dict[str, Any]], key: str, author: str | None) -> dict[str, Any] | None:
    """The first comment carrying the marker (and written by `author`, when given)."""
    tag = marker(key)
    for comment in comments:
        if tag in (comment.get("body") or "") and (author is None or comment["user"]["login"] == author):
            return comment
    return None


@dataclass
class Outcome:
    """What `upsert` did: created, updated or unchanged, and the comment."""

    action: str
    comment: dict[str, Any]


def upsert(github: GitHubClient, repo: str, number: int, body: str, key: str,
           author: str | None = None) -> Outcome:
    """Create or update the PR's comment for `key` so its body is `body` (marker added)."""
    text = with_marker(body, key)
    comments_path = repo_path(repo, "issues", number, "comments")

    def existing() -> dict[str, Any] | None:
        return find_marked(github.paginate(comments_path), key, author)

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
    pulls = [pull for pull in github.get(repo_path(repo, "commits", sha, "pulls")) or []
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
            sha = args.commit or os.environ.get("GITHUB_SHA")
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
    parser.add_argument("--commit", help="find the PR from this commit (default: GITHUB_SHA)")
    parser.add_argument("--body-file", required=True, help="Markdown file with the comment's text")
    parser.add_argument("--marker", required=True, help="identifies this comment among the PR's comments")
    parser.add_argument("--repo", help="OWNER/NAME (default: GITHUB_REPOSITORY)")
    parser.add_argument("--author", help="only a comment by this login counts as ours "
                                         "(e.g. github-actions[bot])")
    parser.add_argument("--backend", choices=("api", "cml"), default="api",
                        help="api (built in, default) or cml (CML's CLI, when installed)")
    parser.set_defaults(handler=run)
