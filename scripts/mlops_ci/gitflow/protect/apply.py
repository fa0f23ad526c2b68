"""GitHub reads and writes for `protect`: read the repository, every branch and its protection or
ruleset before anything is written (the plan), then send one branch's settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops_ci.clients.github import GitHubClient, GitHubError, repo_path
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.gitflow.protect.changes import Change
from mlops_ci.gitflow.protect.classic import diff_protection
from mlops_ci.gitflow.protect.config import DEFAULT_CONFIG, Config
from mlops_ci.gitflow.protect.rulesets import bypass_hidden, diff_ruleset, to_ruleset, untranslatable

CLASSIC, RULESETS = "classic", "rulesets"
NOT_PROTECTED = "Branch not protected"  # GitHub's 404 message for an unprotected branch


@dataclass
class BranchPlan:
    """One branch: what to send to make it match, and what differs now."""

    branch: str
    body: dict[str, Any]  # the PUT body (classic) or the ruleset body (rulesets)
    changes: list[Change]
    ruleset_id: int | None = None  # rulesets: the existing ruleset, None = to be created
    ruleset_name: str | None = None

    @property
    def in_sync(self) -> bool:
        """Whether nothing differs."""
        return not self.changes


@dataclass
class Target:
    """Where and how: the repository, the mode and (rulesets) the enforcement."""

    repo: str
    mode: str = CLASSIC
    enforcement: str = "active"
    config: str = str(DEFAULT_CONFIG)
    plans: list[BranchPlan] = field(default_factory=list)


def _get_or_none(client: GitHubClient, path: str) -> Any:
    try:
        return client.get(path)
    except GitHubError as error:
        if error.status == 404:
            return None
        raise


def _current_protection(client: GitHubClient, repo: str, branch: str) -> dict[str, Any] | None:
    """A branch's protection as GitHub's GET answers it; None when GitHub says it is not protected.

    GitHub answers a token without admin rights 404 too, but `Not Found`: that is a permission
    problem, not an unprotected branch, and must not show as drift.
    """
    try:
        return client.get(repo_path(repo, "branches", branch, "protection"))
    except GitHubError as error:
        if error.status != 404:
            raise
        if error.github_message == NOT_PROTECTED:
            return None
        raise MlopsCiError(f"cannot read the protection of {branch!r} in {repo} "
                           f"(404 {error.github_message}): the token likely lacks admin rights, which "
                           "reading branch protection needs (a repo admin's token, or Administration: "
                           "read)") from error


def preflight(client: GitHubClient, config: Config, target: Target, *, need_admin: bool) -> None:
    """Read the repository, every branch and its current protection or ruleset; nothing is written."""
    repo = _get_or_none(client, repo_path(target.repo))
    if repo is None:
        raise MlopsCiError(f"repository {target.repo} not found, or the token cannot see it")
    permissions = repo.get("permissions") if isinstance(repo, dict) else None
    if need_admin and isinstance(permissions, dict) and permissions.get("admin") is False:
        raise MlopsCiError(f"the token has no admin rights on {target.repo}: managing branch protection "
                           "needs them (a repo admin's token, or Administration: write)")
    for branch in config.branches:
        if _get_or_none(client, repo_path(target.repo, "branches", branch)) is None:
            raise MlopsCiError(f"branch {branch!r} does not exist in {target.repo}: create it first, "
                               f"or remove it from the config", where=config.path)
    if target.mode == CLASSIC:
        for branch, body in config.branches.items():
            current = _current_protection(client, target.repo, branch)
            target.plans.append(BranchPlan(branch, body, diff_protection(body, current)))
        return
    problems = [f"{branch}: {problem}" for branch, body in config.branches.items()
                for problem in untranslatable(body)]
    if problems:
        raise MlopsCiError(f"not expressible as a repository ruleset: {', '.join(problems)} "
                           "(use --mode classic, or leave them out)", where=config.path)
    listed = client.paginate(repo_path(target.repo, "rulesets"))
    existing = {ruleset.get("name"): ruleset for ruleset in listed
                if ruleset.get("source_type", "Repository") == "Repository"}
    for branch, body in config.branches.items():
        wanted = to_ruleset(branch, body, target.enforcement)
        found = existing.get(wanted["name"])
        current = client.get(repo_path(target.repo, "rulesets", found["id"])) if found else None
        if bypass_hidden(current):
            print(f"{branch}: the token cannot see the ruleset's bypass_actors (only those who may edit it "
                  "can): compared without them")
        target.plans.append(BranchPlan(branch, wanted, diff_ruleset(wanted, current),
                                       found["id"] if found else None, wanted["name"]))


def write(client: GitHubClient, target: Target, plan: BranchPlan) -> list[Change]:
    """Send one branch's settings; returns what GitHub's answer still reports as different."""
    if target.mode == CLASSIC:
        answer = client.put(repo_path(target.repo, "branches", plan.branch, "protection"), json=plan.body)
        return diff_protection(plan.body, answer if isinstance(answer, dict) else None)
    if plan.ruleset_id is None:
        answer = client.post(repo_path(target.repo, "rulesets"), json=plan.body)
    else:
        answer = client.put(repo_path(target.repo, "rulesets", plan.ruleset_id), json=plan.body)
    return diff_ruleset(plan.body, answer if isinstance(answer, dict) else None)
