"""A project's local GitHub: its work folder, its recorded pull requests, reviews and merges.

`mlops-ci local` keeps, per project repository, a GitHub state (the stand-in's JSON, see
:mod:`mlops_ci.local.github.state`) in ``<repo>/.mlops-ci/``: the pull requests opened with
``mlops-ci local pr open``, the comments and reviews the runs posted, the merges. The functions here
read and change that state and the user's repository; they start no server (see
:mod:`mlops_ci.local.stack`).
"""

from __future__ import annotations

from pathlib import Path

from mlops_ci.core.errors import CheckFailed, MlopsCiError
from mlops_ci.core.proc import git
from mlops_ci.local.github.state import Comment, GitHubState, PullRequest, Repository

FOLDER = ".mlops-ci"
STATE_FILE = "github-state.json"
DEFAULT_BRANCHES = ("main", "master")
AUTHOR = "developer"  # the PR author's login, as the event payloads name the sender


def work_folder(repo: Path) -> Path:
    """``<repo>/.mlops-ci``, created with a ``.gitignore`` of its own so that nothing in it is ever
    committed, whatever the project's .gitignore says."""
    folder = repo / FOLDER
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    return folder


def next_run_folder(folder: Path, what: str) -> Path:
    """``runs/NNN-<what>`` under the work folder, numbered after the highest one there."""
    runs = folder / "runs"
    numbers = [int(path.name[:3]) for path in runs.glob("[0-9][0-9][0-9]-*")] if runs.is_dir() else []
    safe = "".join(char if char.isalnum() or char in "-." else "-" for char in what)
    return runs / f"{max(numbers, default=0) + 1:03d}-{safe}"


def load_state(folder: Path) -> GitHubState:
    """The project's GitHub state (empty before the first run)."""
    path = folder / STATE_FILE
    return GitHubState.load(path) if path.exists() else GitHubState()


def save_state(folder: Path, state: GitHubState) -> None:
    """Write the project's GitHub state."""
    state.dump(folder / STATE_FILE)


def branch_heads(repo: Path) -> dict[str, str]:
    """Every local branch of `repo` and the commit it points at."""
    listed = git(repo, "for-each-ref", "--format=%(refname:short)%00%(objectname)", "refs/heads")
    return dict(line.split("\0", 1) for line in listed.splitlines() if line)


def synced_repo(state: GitHubState, slug: str, heads: dict[str, str]) -> Repository:
    """The state's repository `slug` (created on first use: default branch main, else master, else the
    first branch) with its branches where the user's repository has them now."""
    remote = next((repo for name, repo in state.repos.items() if name.lower() == slug.lower()), None)
    if remote is None:
        default = next((name for name in DEFAULT_BRANCHES if name in heads), min(heads, default="main"))
        remote = state.add_repo(slug, default_branch=default)
    for name, sha in heads.items():
        remote.add_branch(name, sha)
    for pull in remote.pulls.values():
        if pull.state == "open":
            pull.head_sha = remote.branches.get(pull.head_ref, pull.head_sha)
            pull.base_sha = remote.branches.get(pull.base_ref, pull.base_sha)
    return remote


def open_pull(remote: Repository, head: str, base: str, title: str, body: str) -> PullRequest:
    """Record a new open pull request `head` -> `base` (both must be branches), numbered next."""
    for branch in (head, base):
        if branch not in remote.branches:
            raise MlopsCiError(f"no branch named {branch!r}")
    if head == base:
        raise MlopsCiError(f"head and base are both {head!r}")
    pull = open_pull_for(remote, head, base)
    if pull is not None:
        raise MlopsCiError(f"PR #{pull.number} is already open for {head} -> {base}: "
                           f"`mlops-ci local pr sync {pull.number}` re-runs it")
    return remote.add_pull(head, base, title=title, body=body, user=AUTHOR)


def open_pull_for(remote: Repository, head: str, base: str) -> PullRequest | None:
    """The open pull request `head` -> `base`, if there is one."""
    return next((pull for pull in remote.list_pulls("open", base=base)
                 if pull.head_ref == head and pull.head_repo is None), None)


def record_pull(  # pylint: disable=too-many-arguments  # keyword-only fields
        remote: Repository, head: str, base: str, *, number: int | None, title: str,
        body: str) -> PullRequest:
    """The PR a plain `mlops-ci local pull_request` runs for: PR `number` if recorded (it must be
    `head` -> `base`), else recorded under that number; without a number, the open PR `head` -> `base`
    or a new one."""
    if number is None:
        return open_pull_for(remote, head, base) or open_pull(remote, head, base, title, body)
    if number in remote.pulls:
        pull = remote.pulls[number]
        if (pull.head_ref, pull.base_ref) != (head, base):
            raise MlopsCiError(f"PR #{number} is {pull.head_ref} -> {pull.base_ref}, not {head} -> {base}")
        return pull
    if number in remote.issues:
        raise MlopsCiError(f"#{number} is an issue, not a pull request")
    following = max(remote.next_number, number + 1)
    remote.next_number = number
    pull = remote.add_pull(head, base, title=title, body=body, user=AUTHOR)
    remote.next_number = following
    return pull


def default_title(repo: Path, head: str) -> str:
    """A new PR's title when none is given: the head's last commit subject, as GitHub proposes."""
    return git(repo, "log", "-1", "--format=%s", head)


def pull_of(remote: Repository, number: int, *, must_be_open: bool = False) -> PullRequest:
    """Pull request `number` (exit 2 if there is none; exit 1 if it must be open and is not)."""
    if number not in remote.pulls:
        raise MlopsCiError(f"no pull request #{number} in {remote.full_name}: `mlops-ci local pr list`")
    pull = remote.pulls[number]
    if must_be_open and pull.state != "open":
        raise CheckFailed(f"PR #{number} is {'merged' if pull.merged_at else pull.state}, not open")
    return pull


def approve(remote: Repository, number: int, user: str) -> None:
    """Record an APPROVED review of open pull request `number` by `user` (on its current head)."""
    pull_of(remote, number, must_be_open=True)
    remote.add_review(number, user, "APPROVED")


def merge_in_repo(repo: Path, pull: PullRequest) -> str:
    """Merge the PR's head into its base in the user's repository with a merge commit, as GitHub's merge
    button does; the merge commit's SHA. The checked-out branch is restored; a dirty working tree or
    a conflict changes nothing (the merge is aborted) and is an input error."""
    if git(repo, "status", "--porcelain", "--untracked-files=no"):
        raise MlopsCiError("the working tree has uncommitted changes: commit or stash them first",
                           where=str(repo))
    checked_out = git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    if checked_out == "HEAD":
        checked_out = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", pull.base_ref)
    try:
        try:
            git(repo, "merge", "--quiet", "--no-ff", "--no-edit", "--message",
                f"Merge pull request #{pull.number} from {pull.head_ref}", pull.head_ref)
        except MlopsCiError as error:
            git(repo, "merge", "--abort")
            raise MlopsCiError(f"PR #{pull.number} does not merge cleanly into {pull.base_ref}: "
                               f"merge {pull.base_ref} into {pull.head_ref} and resolve the conflicts first",
                               where=str(repo)) from error
        return git(repo, "rev-parse", "HEAD")
    finally:
        git(repo, "checkout", "--quiet", checked_out)


def comment_snapshot(remote: Repository) -> dict[int, str]:
    """Every comment's id and last update, to tell afterwards what a run posted or changed."""
    return {comment.id: comment.updated_at + comment.body for comment in remote.comments.values()}


def new_comments(remote: Repository, before: dict[int, str]) -> list[Comment]:
    """The comments posted or changed since `before` (a :func:`comment_snapshot`), ascending id."""
    return sorted((comment for comment in remote.comments.values()
                   if before.get(comment.id) != comment.updated_at + comment.body), key=lambda c: c.id)


def write_comments(comments: list[Comment], folder: Path) -> list[Path]:
    """Each comment's body as ``<folder>/pr-N-comment-ID.md``; the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for comment in comments:
        path = folder / f"pr-{comment.issue_number}-comment-{comment.id}.md"
        path.write_text(comment.body, encoding="utf-8")
        paths.append(path)
    return paths


def pull_row(remote: Repository, pull: PullRequest) -> str:
    """One line of `mlops-ci local pr list`: number, head -> base, state, comments, approvals, title."""
    state = "merged" if pull.merged_at else pull.state
    approvals = sum(review.state == "APPROVED" for review in remote.reviews_of(pull.number))
    return (f"#{pull.number:<4} {pull.head_ref} -> {pull.base_ref}  {state}  "
            f"{len(remote.comments_on(pull.number))} comment(s)  {approvals} approval(s)  {pull.title}")


def pull_rows(remote: Repository) -> str:
    """`mlops-ci local pr list`: a line per pull request, oldest first."""
    rows = [pull_row(remote, pull) for _, pull in sorted(remote.pulls.items())]
    return "\n".join(rows) or "no pull requests yet: `mlops-ci local pr open --head BRANCH --base BRANCH`"
