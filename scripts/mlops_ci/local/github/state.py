"""State of the GitHub stand-in: repositories, pull requests, comments, protection, rulesets.

Pure data and operations, no HTTP. Tests seed and inspect it directly; the routes in
:mod:`mlops_ci.local.github.server` call the operations and render the results in GitHub's JSON shapes.
Errors are raised as :class:`ApiError` carrying GitHub's status code and message.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COMMENT_BODY_LIMIT = 65_536
DEFAULT_LOGIN = "github-actions[bot]"


class ApiError(Exception):
    """A GitHub API error: HTTP status, ``message`` and optional ``errors`` (422 validation details)."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.errors = errors


def now_iso() -> str:
    """The current UTC time as GitHub writes timestamps (``2026-01-31T12:00:00Z``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def fake_sha(*parts: str) -> str:
    """A stable 40-hex commit id derived from ``parts``."""
    return hashlib.sha1(":".join(parts).encode(), usedforsecurity=False).hexdigest()


def validation_failed(resource: str, field_name: str, message: str) -> ApiError:
    """GitHub's 422 ``Validation Failed`` with one custom error."""
    error = {"resource": resource, "code": "custom", "field": field_name, "message": message}
    return ApiError(422, "Validation Failed", [error])


@dataclass
class Token:
    """An API token the stand-in accepts; ``read_only`` mimics a fork PR's token, ``admin`` repo admin."""

    value: str
    login: str = DEFAULT_LOGIN
    read_only: bool = False
    admin: bool = True


@dataclass
class Comment:
    """An issue or pull-request comment."""

    id: int
    issue_number: int
    body: str
    user: str
    created_at: str
    updated_at: str


@dataclass
class Review:
    """A pull-request review; ``state`` is APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING."""

    id: int
    pull_number: int
    user: str
    state: str
    body: str
    commit_id: str
    submitted_at: str


@dataclass
class PullRequest:  # pylint: disable=too-many-instance-attributes  # a record of GitHub's fields
    """A pull request; ``head_repo`` is the head repository's full name, ``None`` for the base repo."""

    number: int
    title: str
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    body: str | None = None
    user: str = "octocat"
    state: str = "open"
    draft: bool = False
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    head_repo: str | None = None
    created_at: str = field(default_factory=now_iso)


@dataclass
class Issue:  # pylint: disable=too-many-instance-attributes  # a record of GitHub's fields
    """An issue created through the API."""

    number: int
    title: str
    body: str | None
    user: str
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    state: str = "open"
    created_at: str = field(default_factory=now_iso)


@dataclass
class Ruleset:  # pylint: disable=too-many-instance-attributes  # a record of GitHub's fields
    """A repository ruleset as GitHub stores it."""

    id: int
    name: str
    enforcement: str
    target: str = "branch"
    conditions: dict[str, Any] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)
    bypass_actors: list[dict[str, Any]] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)

    def applies_to(self, branch: str, default_branch: str) -> bool:
        """Whether this active branch ruleset's ``conditions.ref_name`` select ``branch``."""
        if self.enforcement != "active" or self.target != "branch":
            return False
        ref_name = self.conditions.get("ref_name", {})
        ref = f"refs/heads/{branch}"

        def matches(patterns: list[str]) -> bool:
            return any(ref_pattern_matches(pattern, ref, default_branch) for pattern in patterns)

        return matches(ref_name.get("include", [])) and not matches(ref_name.get("exclude", []))


def ref_pattern_matches(pattern: str, ref: str, default_branch: str) -> bool:
    """Whether a ruleset ref pattern (``~ALL``, ``~DEFAULT_BRANCH``, ``*``, ``**``, ``?``) matches ``ref``."""
    if pattern == "~ALL":
        return True
    if pattern == "~DEFAULT_BRANCH":
        pattern = f"refs/heads/{default_branch}"
    parts = re.split(r"(\*\*|\*|\?)", pattern)
    wildcards = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    regex = "".join(wildcards.get(part, re.escape(part)) for part in parts)
    return re.fullmatch(regex, ref) is not None


@dataclass
class WorkflowDispatch:
    """A ``workflow_dispatch`` event the stand-in received."""

    workflow_id: str
    ref: str
    inputs: dict[str, Any]
    received_at: str = field(default_factory=now_iso)


@dataclass
class Repository:  # pylint: disable=too-many-instance-attributes,too-many-public-methods
    """One repository and everything the stand-in keeps for it.

    ``branches`` maps branch name to head sha; ``protection`` maps branch name to the PUT body
    received; ids (comments, reviews, rulesets) and issue/PR numbers count up per repository.
    One method per GitHub operation the stand-in serves, plus seeding helpers. The methods take bodies
    already valid against GitHub's schema (the stand-in checks it first) and add what no schema says.
    """

    full_name: str
    default_branch: str = "main"
    branches: dict[str, str] = field(default_factory=dict)
    organization: bool = True
    private: bool = False
    pulls: dict[int, PullRequest] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    reviews: dict[int, Review] = field(default_factory=dict)
    protection: dict[str, dict[str, Any]] = field(default_factory=dict)
    rulesets: dict[int, Ruleset] = field(default_factory=dict)
    dispatches: list[WorkflowDispatch] = field(default_factory=list)
    workflows: dict[str, list[str]] = field(default_factory=dict)
    next_number: int = 1
    next_id: int = 1

    # -- seeding ---------------------------------------------------------------------------------

    def add_branch(self, name: str, sha: str | None = None) -> str:
        """Create or move branch ``name``; returns its head sha."""
        self.branches[name] = sha or fake_sha(self.full_name, name)
        return self.branches[name]

    def add_workflow(self, name: str, inputs: Sequence[str] = ()) -> None:
        """Declare the workflow file ``name`` with a ``workflow_dispatch`` trigger taking ``inputs``."""
        self.workflows[name] = list(inputs)

    def add_pull(self, head: str, base: str | None = None, **fields: Any) -> PullRequest:
        """Open a pull request from ``head`` into ``base`` (default branch); missing branches are created.

        ``fields`` sets any other :class:`PullRequest` attribute (``title``, ``merged_at``, ...).
        """
        base = base or self.default_branch
        fork = fields.get("head_repo") not in (None, self.full_name)
        for branch in (base,) if fork else (head, base):
            if branch not in self.branches:
                self.add_branch(branch)
        values: dict[str, Any] = {
            "title": f"Merge {head} into {base}",
            "head_sha": fake_sha(str(fields.get("head_repo")), head) if fork else self.branches[head],
            "base_sha": self.branches[base],
        }
        values.update(fields)
        pull = PullRequest(number=self._number(), head_ref=head, base_ref=base, **values)
        self.pulls[pull.number] = pull
        return pull

    def add_comment(self, number: int, body: str, user: str = "octocat") -> Comment:
        """Add a comment to issue or pull request ``number`` (must exist)."""
        self._issue_or_pull(number)
        stamp = now_iso()
        comment = Comment(self._id(), number, body, user, stamp, stamp)
        self.comments[comment.id] = comment
        return comment

    def add_review(self, number: int, user: str, state: str = "APPROVED", body: str = "") -> Review:
        """Add a review to pull request ``number``."""
        pull = self.pull(number)
        review = Review(self._id(), number, user, state, body, pull.head_sha, now_iso())
        self.reviews[review.id] = review
        return review

    def merge_pull(self, number: int, merge_commit_sha: str) -> PullRequest:
        """Mark pull request ``number`` merged as ``merge_commit_sha`` (a merge, squash or rebase
        commit) and move its base branch there, as GitHub's merge button does."""
        pull = self.pull(number)
        pull.state, pull.merged_at, pull.merge_commit_sha = "closed", now_iso(), merge_commit_sha
        self.add_branch(pull.base_ref, merge_commit_sha)
        return pull

    # -- lookups -----------------------------------------------------------------------------------

    def branch_sha(self, branch: str) -> str:
        """The head sha of ``branch``; 404 ``Branch not found``."""
        if branch not in self.branches:
            raise ApiError(404, "Branch not found")
        return self.branches[branch]

    def pull(self, number: int) -> PullRequest:
        """Pull request ``number``; 404 when there is none."""
        if number not in self.pulls:
            raise ApiError(404, "Not Found")
        return self.pulls[number]

    def issue(self, number: int) -> Issue:
        """Issue ``number``; 404 when there is none."""
        if number not in self.issues:
            raise ApiError(404, "Not Found")
        return self.issues[number]

    def comment(self, comment_id: int) -> Comment:
        """Comment ``comment_id``; 404 when there is none."""
        if comment_id not in self.comments:
            raise ApiError(404, "Not Found")
        return self.comments[comment_id]

    def comments_on(self, number: int) -> list[Comment]:
        """Comments on issue or pull request ``number``, ascending id."""
        self._issue_or_pull(number)
        return sorted((c for c in self.comments.values() if c.issue_number == number), key=lambda c: c.id)

    def reviews_of(self, number: int) -> list[Review]:
        """Reviews of pull request ``number``, ascending id."""
        self.pull(number)
        return sorted((r for r in self.reviews.values() if r.pull_number == number), key=lambda r: r.id)

    def pulls_for_commit(self, sha: str) -> list[PullRequest]:
        """Pull requests whose head is ``sha`` or that were merged as ``sha``."""
        return [p for p in self.pulls.values() if sha in (p.head_sha, p.merge_commit_sha)]

    def list_pulls(
        self, state: str = "open", head: str | None = None, base: str | None = None
    ) -> list[PullRequest]:
        """Pull requests filtered like ``GET /pulls`` (``state`` open/closed/all, ``head`` owner:ref)."""
        def selected(pull: PullRequest) -> bool:
            head_owner = (pull.head_repo or self.full_name).split("/")[0]
            return (
                state in ("all", pull.state)
                and head in (None, f"{head_owner}:{pull.head_ref}")
                and base in (None, pull.base_ref)
            )

        return [p for p in sorted(self.pulls.values(), key=lambda p: p.number) if selected(p)]

    def list_issues(self, state: str = "open", labels: str | None = None) -> list[Issue | PullRequest]:
        """Issues and pull requests filtered like ``GET /issues`` (``state`` open/closed/all, ``labels``
        comma-separated names an item must all carry; pull requests carry none here), newest first."""
        wanted = {name.strip() for name in (labels or "").split(",") if name.strip()}
        items: list[Issue | PullRequest] = [*self.issues.values(), *self.pulls.values()]
        return [
            item
            for item in sorted(items, key=lambda item: item.number, reverse=True)
            if state in ("all", item.state) and wanted <= set(getattr(item, "labels", []))
        ]

    def ruleset(self, ruleset_id: int) -> Ruleset:
        """Ruleset ``ruleset_id``; 404 when there is none."""
        if ruleset_id not in self.rulesets:
            raise ApiError(404, "Not Found")
        return self.rulesets[ruleset_id]

    def rules_for_branch(self, branch: str) -> list[tuple[Ruleset, dict[str, Any]]]:
        """The rules of every active ruleset that applies to ``branch`` (which need not exist)."""
        return [
            (ruleset, rule)
            for ruleset in self.rulesets.values()
            if ruleset.applies_to(branch, self.default_branch)
            for rule in ruleset.rules
        ]

    def protection_of(self, branch: str) -> dict[str, Any]:
        """The protection PUT body stored for ``branch``; 404 unknown branch / not protected."""
        self.branch_sha(branch)
        if branch not in self.protection:
            raise ApiError(404, "Branch not protected")
        return self.protection[branch]

    # -- writes ----------------------------------------------------------------------------------

    def create_comment(self, number: int, body: dict[str, Any], user: str) -> Comment:
        """``POST /issues/{n}/comments`` with JSON ``body``: validates it and stores a comment."""
        return self.add_comment(number, _comment_text(body), user)

    def update_comment(self, comment_id: int, body: dict[str, Any]) -> Comment:
        """``PATCH /issues/comments/{id}`` with JSON ``body``: replaces the text."""
        comment = self.comment(comment_id)
        comment.body = _comment_text(body)
        comment.updated_at = now_iso()
        return comment

    def delete_comment(self, comment_id: int) -> None:
        """``DELETE /issues/comments/{id}``."""
        del self.comments[self.comment(comment_id).id]

    def create_issue(self, body: dict[str, Any], user: str) -> Issue:
        """``POST /issues``: ``labels`` may be names or ``{"name": ...}`` objects."""
        labels = [label["name"] if isinstance(label, dict) else label for label in body.get("labels", [])]
        assignees = list(body.get("assignees", []))
        issue = Issue(self._number(), str(body["title"]), body.get("body"), user, labels, assignees)
        self.issues[issue.number] = issue
        return issue

    def set_protection(self, branch: str, body: dict[str, Any]) -> dict[str, Any]:
        """``PUT /branches/{b}/protection``: user and team restrictions need an organization."""
        self.branch_sha(branch)
        if body["restrictions"] is not None and not self.organization:
            raise ApiError(422, "Only organization repositories can have users and team restrictions")
        self.protection[branch] = body
        return body

    def remove_protection(self, branch: str) -> None:
        """``DELETE /branches/{b}/protection``."""
        self.protection_of(branch)
        del self.protection[branch]

    def create_ruleset(self, body: dict[str, Any]) -> Ruleset:
        """``POST /rulesets``: names are unique."""
        ruleset = Ruleset(id=self._id(), name="", enforcement="")
        self._apply_ruleset(ruleset, body)
        self.rulesets[ruleset.id] = ruleset
        return ruleset

    def update_ruleset(self, ruleset_id: int, body: dict[str, Any]) -> Ruleset:
        """``PUT /rulesets/{id}``: replaces the fields given."""
        ruleset = self.ruleset(ruleset_id)
        self._apply_ruleset(ruleset, body)
        ruleset.updated_at = now_iso()
        return ruleset

    def delete_ruleset(self, ruleset_id: int) -> None:
        """``DELETE /rulesets/{id}``."""
        del self.rulesets[self.ruleset(ruleset_id).id]

    def dispatch_workflow(self, workflow_id: str, body: dict[str, Any]) -> WorkflowDispatch:
        """``POST /actions/workflows/{id}/dispatches``: the workflow must be declared
        (:meth:`add_workflow`), ``ref`` must name a branch and every input must be declared."""
        if workflow_id not in self.workflows:
            raise ApiError(404, "Not Found")
        ref = str(body["ref"]).removeprefix("refs/heads/")
        if ref not in self.branches:
            raise ApiError(422, f"No ref found for: {body['ref']}")
        inputs = dict(body.get("inputs") or {})
        if unexpected := sorted(set(inputs) - set(self.workflows[workflow_id])):
            raise ApiError(422, f"Unexpected inputs provided: {json.dumps(unexpected)}")
        dispatch = WorkflowDispatch(workflow_id, ref, inputs)
        self.dispatches.append(dispatch)
        return dispatch

    # -- internals -------------------------------------------------------------------------------

    def _apply_ruleset(self, ruleset: Ruleset, body: dict[str, Any]) -> None:
        name = body.get("name", ruleset.name)
        if any(other.name == name and other.id != ruleset.id for other in self.rulesets.values()):
            raise validation_failed("Ruleset", "name", "Name must be unique")
        ruleset.name, ruleset.enforcement = name, body.get("enforcement", ruleset.enforcement)
        for key in ("target", "conditions", "rules", "bypass_actors"):
            if key in body:
                setattr(ruleset, key, body[key])

    def _issue_or_pull(self, number: int) -> None:
        if number not in self.pulls and number not in self.issues:
            raise ApiError(404, "Not Found")

    def _number(self) -> int:
        self.next_number += 1
        return self.next_number - 1

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Repository:
        """Rebuild a repository from :func:`dataclasses.asdict` output (JSON turns int keys into str)."""
        values = dict(data)
        for key, item_cls in (
            ("pulls", PullRequest),
            ("issues", Issue),
            ("comments", Comment),
            ("reviews", Review),
            ("rulesets", Ruleset),
        ):
            values[key] = {int(k): item_cls(**v) for k, v in data.get(key, {}).items()}
        values["dispatches"] = [WorkflowDispatch(**d) for d in data.get("dispatches", [])]
        return cls(**values)


def _comment_text(body: dict[str, Any]) -> str:
    """The ``body`` of a comment request, within GitHub's length limit."""
    text = str(body["body"])
    if len(text) > COMMENT_BODY_LIMIT:
        limit = f"body is too long (maximum is {COMMENT_BODY_LIMIT} characters)"
        raise validation_failed("IssueComment", "body", limit)
    return text


@dataclass
class GitHubState:
    """Everything the stand-in knows: repositories by full name and the tokens it accepts.

    With no tokens configured every request is accepted as an admin.
    """

    repos: dict[str, Repository] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)

    def add_token(
        self, value: str, login: str = DEFAULT_LOGIN, *, read_only: bool = False, admin: bool = True
    ) -> Token:
        """Accept ``value`` as a token acting as ``login``."""
        self.tokens[value] = Token(value, login, read_only, admin)
        return self.tokens[value]

    def add_repo(
        self,
        full_name: str,
        default_branch: str = "main",
        branches: tuple[str, ...] | list[str] = (),
        **fields: Any,
    ) -> Repository:
        """Create repository ``owner/name`` with its default branch and ``branches``."""
        repo = Repository(full_name, default_branch, **fields)
        for branch in (default_branch, *branches):
            repo.add_branch(branch)
        self.repos[full_name] = repo
        return repo

    def repo(self, full_name: str) -> Repository:
        """Repository ``owner/name`` (case-insensitive like GitHub); 404 when unknown."""
        for name, repo in self.repos.items():
            if name.lower() == full_name.lower():
                return repo
        raise ApiError(404, "Not Found")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GitHubState:
        """Rebuild the state from :meth:`to_dict` output (also after a JSON round trip)."""
        return cls(
            repos={name: Repository.from_dict(repo) for name, repo in data.get("repos", {}).items()},
            tokens={value: Token(**token) for value, token in data.get("tokens", {}).items()},
        )

    def dump(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_dict` as JSON to ``path`` atomically (readers never see half a file)."""
        target = Path(path)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, target)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> GitHubState:
        """Read a state written by :meth:`dump`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
