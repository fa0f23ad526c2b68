"""Build GitHub event payloads from a repository's git state (pure functions of their inputs).

Only the fields workflows and act read are filled in; shapes follow GitHub's webhook payloads.
"""

from __future__ import annotations

from typing import Any


def repository_payload(slug: str, default_branch: str = "main") -> dict[str, Any]:
    """The `repository` object every event carries."""
    owner, name = slug.split("/", 1)
    return {"full_name": slug, "name": name, "owner": {"login": owner, "type": "Organization"},
            "default_branch": default_branch, "fork": False, "private": False,
            "html_url": f"https://github.com/{slug}", "clone_url": f"https://github.com/{slug}.git"}


def pull_request_event(*, slug: str, number: int, head: str, head_sha: str, base: str, base_sha: str,
                       title: str, body: str, action: str = "opened", author: str = "developer",
                       author_association: str = "MEMBER", fork_owner: str | None = None,
                       fork_deleted: bool = False) -> dict[str, Any]:
    """A `pull_request` event; `fork_owner` makes the head live in a fork, as GitHub marks it;
    `fork_deleted` sends `head.repo: null`, as GitHub does once the fork is deleted."""
    repository = repository_payload(slug)
    head_repo: dict[str, Any] | None = dict(repository)
    owner = repository["owner"]["login"]
    if fork_owner:
        name = slug.split("/", 1)[1]
        head_repo, owner = {**repository_payload(f"{fork_owner}/{name}"), "fork": True}, fork_owner
    if fork_deleted:
        head_repo = None
    pull_request = {
        "number": number, "title": title, "body": body, "state": "open", "draft": False,
        "merged": False, "user": {"login": author}, "author_association": author_association,
        "html_url": f"https://github.com/{slug}/pull/{number}",
        "head": {"ref": head, "sha": head_sha, "label": f"{owner}:{head}", "repo": head_repo},
        "base": {"ref": base, "sha": base_sha, "label": f"{repository['owner']['login']}:{base}",
                 "repo": repository},
    }
    return {"action": action, "number": number, "pull_request": pull_request,
            "repository": repository, "sender": {"login": author}}


def push_event(*, slug: str, branch: str, before: str, head_commit: dict[str, Any],
               pusher: str = "developer") -> dict[str, Any]:
    """A `push` event of one new head commit to `branch`."""
    return {"ref": f"refs/heads/{branch}", "before": before, "after": head_commit["id"],
            "created": False, "deleted": False, "forced": False,
            "head_commit": head_commit, "commits": [head_commit],
            "repository": repository_payload(slug), "pusher": {"name": pusher},
            "sender": {"login": pusher}}


def schedule_event(*, slug: str, cron: str) -> dict[str, Any]:
    """A `schedule` event for one cron expression of the workflow."""
    return {"schedule": cron, "repository": repository_payload(slug)}


def workflow_dispatch_event(*, slug: str, branch: str, inputs: dict[str, str],
                            sender: str = "developer") -> dict[str, Any]:
    """A `workflow_dispatch` event with its inputs (strings, as GitHub sends them)."""
    return {"ref": f"refs/heads/{branch}", "inputs": inputs, "repository": repository_payload(slug),
            "sender": {"login": sender}}
