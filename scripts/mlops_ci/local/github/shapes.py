"""GitHub's REST JSON shapes as the stand-in answers them: every field GitHub's OpenAPI description
documents as required (tests/test_sandbox_github_openapi.py checks them against it), with the values
our clients read taken from the stand-in's state and the rest GitHub's usual link templates or
neutral defaults (no labels, no milestone, zero counts).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request

from .state import ApiError, Comment, Issue, PullRequest, Repository, Review, Ruleset, Token

HTML_URL = "https://github.com"
CREATED_AT = "2026-01-01T00:00:00Z"  # repositories and users have no creation time in the state
USER_LINKS = {
    "events_url": "/events{/privacy}",
    "followers_url": "/followers",
    "following_url": "/following{/other_user}",
    "gists_url": "/gists{/gist_id}",
    "organizations_url": "/orgs",
    "received_events_url": "/received_events",
    "repos_url": "/repos",
    "starred_url": "/starred{/owner}{/repo}",
    "subscriptions_url": "/subscriptions",
}
REPO_LINKS = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}

PROTECTION_FLAGS = (
    "required_linear_history",
    "allow_force_pushes",
    "allow_deletions",
    "block_creations",
    "required_conversation_resolution",
    "lock_branch",
    "allow_fork_syncing",
)


@dataclass
class Call:
    """What a route handler gets: the request, the resolved repository and the caller's token."""

    request: Request
    repo: Repository
    token: Token

    @property
    def api(self) -> str:
        """The API base URL as the client addressed it (no trailing slash)."""
        return self.request.host_url.rstrip("/")

    @property
    def repo_url(self) -> str:
        """The repository's API URL."""
        return f"{self.api}/repos/{self.repo.full_name}"

    def body(self) -> dict[str, Any]:
        """The JSON object sent; 400 ``Problems parsing JSON`` otherwise."""
        body = self.request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            raise ApiError(400, "Problems parsing JSON")
        return body


def _stable_id(name: str) -> int:
    return zlib.crc32(name.encode()) % 10**8


def user_json(api: str, login: str, kind: str | None = None) -> dict[str, Any]:
    """A user (``simple-user``): a ``[bot]`` login is a Bot, else ``kind`` (default User)."""
    user_id, url = _stable_id(login), f"{api}/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": f"U_{user_id}",
        "type": "Bot" if login.endswith("[bot]") else kind or "User",
        "site_admin": False,
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{HTML_URL}/{login}",
        **{key: f"{url}{suffix}" for key, suffix in USER_LINKS.items()},
    }


def team_json(api: str, org: str, slug: str) -> dict[str, Any]:
    """An organization's team (``team``) known by its slug."""
    team_id, url = _stable_id(f"{org}/{slug}"), f"{api}/orgs/{org}/teams/{slug}"
    return {
        "id": team_id,
        "node_id": f"T_{team_id}",
        "slug": slug,
        "name": slug,
        "description": None,
        "privacy": "closed",
        "permission": "pull",
        "type": "organization",
        "parent": None,
        "url": url,
        "html_url": f"{HTML_URL}/orgs/{org}/teams/{slug}",
        "members_url": f"{url}/members{{/member}}",
        "repositories_url": f"{url}/repos",
    }


def authenticated_user_json(api: str, login: str) -> dict[str, Any]:
    """``GET /user`` for a personal token: the private view of the token's user."""
    counts = ("followers", "following", "public_gists", "public_repos", "collaborators", "disk_usage",
              "owned_private_repos", "private_gists", "total_private_repos")
    return {
        **user_json(api, login),
        **dict.fromkeys(("name", "company", "blog", "location", "email", "hireable", "bio")),
        **dict.fromkeys(counts, 0),
        "two_factor_authentication": True,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
    }


def repo_json(call: Call, full_name: str | None = None) -> dict[str, Any]:
    """A repository (``full-repository``; ``full_name`` other than the call's repo: a fork's head repo)."""
    repo, name = call.repo, full_name or call.repo.full_name
    owner = name.split("/")[0]
    fork = name != repo.full_name
    repo_id, url = _stable_id(name), f"{call.api}/repos/{name}"
    return {
        "id": repo_id,
        "node_id": f"R_{repo_id}",
        "name": name.split("/")[1],
        "full_name": name,
        "owner": user_json(call.api, owner, "Organization" if repo.organization and not fork else "User"),
        "private": repo.private,
        "visibility": "private" if repo.private else "public",
        "fork": fork,
        "default_branch": repo.default_branch,
        "url": url,
        "html_url": f"{HTML_URL}/{name}",
        "clone_url": f"{HTML_URL}/{name}.git",
        "git_url": f"git://github.com/{name}.git",
        "ssh_url": f"git@github.com:{name}.git",
        "svn_url": f"{HTML_URL}/{name}",
        **{key: f"{url}{suffix}" for key, suffix in REPO_LINKS.items()},
        **dict.fromkeys(("description", "homepage", "language", "license", "mirror_url")),
        **dict.fromkeys(("forks", "forks_count", "open_issues", "open_issues_count", "stargazers_count",
                         "watchers", "watchers_count", "size", "network_count", "subscribers_count"), 0),
        **dict.fromkeys(("has_issues", "has_projects", "has_wiki", "has_downloads"), True),
        **dict.fromkeys(("has_pages", "has_discussions", "archived", "disabled"), False),
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
        "pushed_at": CREATED_AT,
        "permissions": {"admin": call.token.admin, "push": not call.token.read_only, "pull": True},
    }


def commit_json(call: Call, sha: str) -> dict[str, Any]:
    """A commit (``commit``) the state knows only by its sha."""
    url = f"{call.repo_url}/commits/{sha}"
    return {
        "sha": sha,
        "node_id": f"C_{sha}",
        "url": url,
        "html_url": f"{HTML_URL}/{call.repo.full_name}/commit/{sha}",
        "comments_url": f"{url}/comments",
        "commit": {
            "url": f"{call.repo_url}/git/commits/{sha}",
            "author": None,
            "committer": None,
            "message": "",
            "comment_count": 0,
            "tree": {"sha": sha, "url": f"{call.repo_url}/git/trees/{sha}"},
        },
        "author": None,
        "committer": None,
        "parents": [],
    }


def pull_json(call: Call, pull: PullRequest) -> dict[str, Any]:
    """A pull request (``pull-request``, the list endpoints' ``pull-request-simple`` is a subset)."""
    head_repo = pull.head_repo or call.repo.full_name
    url = f"{call.repo_url}/pulls/{pull.number}"
    html_url = f"{HTML_URL}/{call.repo.full_name}/pull/{pull.number}"
    issue_url = f"{call.repo_url}/issues/{pull.number}"
    statuses_url = f"{call.repo_url}/statuses/{pull.head_sha}"

    def end(ref: str, sha: str, full_name: str) -> dict[str, Any]:
        owner = full_name.split("/")[0]
        return {"ref": ref, "sha": sha, "label": f"{owner}:{ref}", "repo": repo_json(call, full_name),
                "user": user_json(call.api, owner)}

    links = {"self": url, "html": html_url, "issue": issue_url, "comments": f"{issue_url}/comments",
             "review_comments": f"{url}/comments", "commits": f"{url}/commits", "statuses": statuses_url,
             "review_comment": f"{call.repo_url}/pulls/comments{{/number}}"}
    return {
        "id": pull.number,
        "node_id": f"PR_{pull.number}",
        "number": pull.number,
        "state": pull.state,
        "locked": False,
        "title": pull.title,
        "body": pull.body,
        "user": user_json(call.api, pull.user),
        "draft": pull.draft,
        "head": end(pull.head_ref, pull.head_sha, head_repo),
        "base": end(pull.base_ref, pull.base_sha, call.repo.full_name),
        "merged": pull.merged_at is not None,
        "merged_at": pull.merged_at,
        "merged_by": None,
        "merge_commit_sha": pull.merge_commit_sha,
        "mergeable": None,
        "mergeable_state": "unknown",
        "maintainer_can_modify": False,
        "created_at": pull.created_at,
        "updated_at": pull.merged_at or pull.created_at,
        "closed_at": pull.merged_at,
        "author_association": "MEMBER",
        "auto_merge": None,
        "assignee": None,
        "labels": [],
        "milestone": None,
        **dict.fromkeys(("comments", "review_comments", "commits", "additions", "deletions",
                         "changed_files"), 0),
        "url": url,
        "html_url": html_url,
        "issue_url": issue_url,
        "diff_url": f"{html_url}.diff",
        "patch_url": f"{html_url}.patch",
        "commits_url": links["commits"],
        "comments_url": links["comments"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "statuses_url": statuses_url,
        "_links": {name: {"href": href} for name, href in links.items()},
    }


def issue_json(call: Call, item: Issue | PullRequest) -> dict[str, Any]:
    """An issue (``issue``); a pull request is an issue too, with a ``pull_request`` key."""
    url = f"{call.repo_url}/issues/{item.number}"
    kind = "pull" if isinstance(item, PullRequest) else "issues"
    html_url = f"{HTML_URL}/{call.repo.full_name}/{kind}/{item.number}"
    labels = item.labels if isinstance(item, Issue) else []
    assignees = item.assignees if isinstance(item, Issue) else []
    body = {
        "id": item.number,
        "node_id": f"I_{item.number}",
        "number": item.number,
        "title": item.title,
        "body": item.body,
        "state": item.state,
        "locked": False,
        "user": user_json(call.api, item.user),
        "labels": [{"name": label} for label in labels],
        "assignee": user_json(call.api, assignees[0]) if assignees else None,
        "assignees": [user_json(call.api, login) for login in assignees],
        "milestone": None,
        "comments": len(call.repo.comments_on(item.number)),
        "created_at": item.created_at,
        "updated_at": item.created_at,
        "closed_at": None,
        "url": url,
        "repository_url": call.repo_url,
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": html_url,
    }
    if isinstance(item, PullRequest):
        pull_url = f"{call.repo_url}/pulls/{item.number}"
        body["pull_request"] = {"url": pull_url, "html_url": html_url, "diff_url": f"{html_url}.diff",
                                "patch_url": f"{html_url}.patch", "merged_at": item.merged_at}
    return body


def comment_json(call: Call, comment: Comment) -> dict[str, Any]:
    """An issue comment (``issue-comment``)."""
    return {
        "id": comment.id,
        "node_id": f"IC_{comment.id}",
        "body": comment.body,
        "user": user_json(call.api, comment.user),
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
        "author_association": "NONE" if comment.user.endswith("[bot]") else "MEMBER",
        "url": f"{call.repo_url}/issues/comments/{comment.id}",
        "issue_url": f"{call.repo_url}/issues/{comment.issue_number}",
        "html_url": f"{HTML_URL}/{call.repo.full_name}/pull/{comment.issue_number}#issuecomment-{comment.id}",
    }


def review_json(call: Call, review: Review) -> dict[str, Any]:
    """A pull request review (``pull-request-review``)."""
    pull_url = f"{call.repo_url}/pulls/{review.pull_number}"
    html_url = f"{HTML_URL}/{call.repo.full_name}/pull/{review.pull_number}#pullrequestreview-{review.id}"
    return {
        "id": review.id,
        "node_id": f"PRR_{review.id}",
        "user": user_json(call.api, review.user),
        "body": review.body,
        "state": review.state,
        "commit_id": review.commit_id,
        "submitted_at": review.submitted_at,
        "author_association": "MEMBER",
        "html_url": html_url,
        "pull_request_url": pull_url,
        "_links": {"html": {"href": html_url}, "pull_request": {"href": pull_url}},
    }


def ruleset_json(call: Call, ruleset: Ruleset, *, full: bool = True) -> dict[str, Any]:
    """A ruleset; the list endpoint returns the summary (``full=False``) without conditions and rules.

    ``bypass_actors`` only appear for a caller who may edit the ruleset (an admin token), as on GitHub.
    """
    body: dict[str, Any] = {
        "id": ruleset.id,
        "name": ruleset.name,
        "target": ruleset.target,
        "source_type": "Repository",
        "source": call.repo.full_name,
        "enforcement": ruleset.enforcement,
        "node_id": f"RRS_{ruleset.id}",
        "_links": {"self": {"href": f"{call.repo_url}/rulesets/{ruleset.id}"}},
        "created_at": ruleset.created_at,
        "updated_at": ruleset.updated_at,
    }
    if full:
        body.update(
            conditions=ruleset.conditions,
            rules=ruleset.rules,
            current_user_can_bypass="never",
        )
        if call.token.admin:
            body["bypass_actors"] = ruleset.bypass_actors
    return body


def protection_json(url: str, put_body: dict[str, Any]) -> dict[str, Any]:
    """Branch protection as GET returns it, from the PUT body stored.

    Booleans become ``{"enabled": bool}``, sections carry ``url`` fields, users and teams become
    objects, and sections that were PUT as null are absent.
    """
    body: dict[str, Any] = {"url": url}
    if (checks := put_body["required_status_checks"]) is not None:
        listed = checks.get("checks") or [{"context": context} for context in checks.get("contexts", [])]
        body["required_status_checks"] = {
            "url": f"{url}/required_status_checks",
            "strict": bool(checks.get("strict", False)),
            "contexts": [check["context"] for check in listed],
            "contexts_url": f"{url}/required_status_checks/contexts",
            # GitHub answers null for "any app" (-1 in the PUT body)
            "checks": [{"context": check["context"], "app_id": None if check.get("app_id") == -1 else
                        check.get("app_id")} for check in listed],
        }
    if (reviews := put_body["required_pull_request_reviews"]) is not None:
        body["required_pull_request_reviews"] = _reviews_json(f"{url}/required_pull_request_reviews", reviews)
    if (restrictions := put_body["restrictions"]) is not None:
        body["restrictions"] = _restrictions_json(f"{url}/restrictions", restrictions)
    body["enforce_admins"] = {"url": f"{url}/enforce_admins", "enabled": bool(put_body["enforce_admins"])}
    body["required_signatures"] = {"url": f"{url}/required_signatures", "enabled": False}
    body.update({flag: {"enabled": bool(put_body.get(flag, False))} for flag in PROTECTION_FLAGS})
    return body


def _reviews_json(url: str, reviews: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "url": url,
        "dismiss_stale_reviews": bool(reviews.get("dismiss_stale_reviews", False)),
        "require_code_owner_reviews": bool(reviews.get("require_code_owner_reviews", False)),
        "required_approving_review_count": int(reviews.get("required_approving_review_count", 1)),
        "require_last_push_approval": bool(reviews.get("require_last_push_approval", False)),
    }
    if reviews.get("dismissal_restrictions"):
        dismissal = reviews["dismissal_restrictions"]
        body["dismissal_restrictions"] = _restrictions_json(f"{url}/dismissal_restrictions", dismissal)
    return body


def _restrictions_json(url: str, restrictions: dict[str, Any]) -> dict[str, Any]:
    api, _, path = url.partition("/repos/")
    org = path.split("/")[0]
    return {
        "url": url,
        "users_url": f"{url}/users",
        "teams_url": f"{url}/teams",
        "apps_url": f"{url}/apps",
        "users": [user_json(api, login) for login in restrictions.get("users", [])],
        "teams": [team_json(api, org, slug) for slug in restrictions.get("teams", [])],
        "apps": [{"slug": slug, "name": slug} for slug in restrictions.get("apps", [])],
    }
