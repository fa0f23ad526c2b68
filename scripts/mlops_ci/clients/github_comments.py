"""Pull-request comments carrying a marker: find ours among every page, create or update it once,
and find the PR of a commit. Whose comment is ours: see `find_marked`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from mlops_ci.clients.github import GitHubClient, GitHubError, repo_path
from mlops_ci.core.errors import MlopsCiError
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
