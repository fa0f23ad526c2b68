"""`mlops-ci local pr`: the project's local GitHub state, PR numbering, merges that change nothing when
they cannot happen, and (e2e) a PR whose workflow posts a comment that the command prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_ci.cli import main
from mlops_ci.core.errors import CheckFailed, MlopsCiError
from mlops_ci.local import pulls
from mlops_ci.core.proc import git
from mlops_ci.local.stack import wants_mlflow
from mlops_ci.local.triggers import sort_out
from mlops_ci.local.github.state import GitHubState
from testing.project import commit_change
from mlops_ci.project.templates import instantiate, template_files
from testing.local import SLUG, fixture_repo  # noqa: F401  fixture

ROOT = Path(__file__).resolve().parents[3]
def remote_of(repo: Path) -> tuple[GitHubState, pulls.Repository]:
    state = pulls.load_state(pulls.work_folder(repo))
    return state, pulls.synced_repo(state, SLUG, pulls.branch_heads(repo))


def refs_and_status(repo: Path) -> tuple[str, str, str]:
    return (git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
            git(repo, "status", "--porcelain"), git(repo, "rev-parse", "--abbrev-ref", "HEAD"))


def test_the_work_folder_is_never_committed(repo):
    folder = pulls.work_folder(repo)
    (folder / "github-state.json").write_text("{}")
    assert (folder / ".gitignore").read_text() == "*\n"
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert pulls.next_run_folder(folder, "pr-1-opened").name == "001-pr-1-opened"
    (folder / "runs" / "007-push-main").mkdir(parents=True)
    assert pulls.next_run_folder(folder, "push/main").name == "008-push-main"


def test_branches_follow_the_repository_and_prs_are_numbered(repo):
    state, remote = remote_of(repo)
    assert remote.default_branch == "main" and state.repo(SLUG) is remote
    assert remote.branches["feature/x"] == git(repo, "rev-parse", "feature/x")
    first = pulls.open_pull(remote, "feature/x", "main", "Add a second note", "why")
    second = pulls.open_pull(remote, "develop", "main", "Release", "")
    assert (first.number, second.number, first.user) == (1, 2, pulls.AUTHOR)
    with pytest.raises(MlopsCiError, match="already open for feature/x -> main"):
        pulls.open_pull(remote, "feature/x", "main", "again", "")
    with pytest.raises(MlopsCiError, match="no branch named 'nope'"):
        pulls.open_pull(remote, "nope", "main", "t", "")
    new_head = commit_change(repo, "feature/x", "notes.txt", "three\n", "more")
    pulls.synced_repo(state, SLUG, pulls.branch_heads(repo))
    assert first.head_sha == new_head, "an open PR follows its head branch"
    assert pulls.default_title(repo, "feature/x") == "more"


def test_a_plain_pull_request_run_records_or_reuses_its_pr(repo):
    _, remote = remote_of(repo)
    assert pulls.record_pull(remote, "feature/x", "main", number=None, title="t", body="").number == 1
    assert pulls.record_pull(remote, "feature/x", "main", number=None, title="t", body="").number == 1
    assert pulls.record_pull(remote, "develop", "main", number=5, title="t", body="").number == 5
    assert pulls.open_pull(remote, "feature/x", "develop", "t", "").number == 6
    with pytest.raises(MlopsCiError, match="PR #5 is develop -> main"):
        pulls.record_pull(remote, "feature/x", "main", number=5, title="t", body="")


def test_approve_and_merge_need_an_open_pr(repo):
    _, remote = remote_of(repo)
    pull = pulls.open_pull(remote, "feature/x", "main", "t", "")
    pulls.approve(remote, 1, "reviewer")
    reviews = [(r.user, r.state, r.commit_id) for r in remote.reviews_of(1)]
    assert reviews == [("reviewer", "APPROVED", pull.head_sha)]
    remote.merge_pull(1, "f" * 40)
    with pytest.raises(CheckFailed, match="PR #1 is merged, not open"):
        pulls.pull_of(remote, 1, must_be_open=True)
    with pytest.raises(CheckFailed):
        pulls.approve(remote, 1, "reviewer")
    with pytest.raises(MlopsCiError, match="no pull request #9"):
        pulls.pull_of(remote, 9)


def test_merge_makes_a_merge_commit_and_restores_the_checkout(repo):
    _, remote = remote_of(repo)
    pull = pulls.open_pull(remote, "feature/x", "main", "t", "")
    git(repo, "checkout", "--quiet", "develop")
    sha = pulls.merge_in_repo(repo, pull)
    assert git(repo, "rev-parse", "main") == sha
    assert git(repo, "log", "-1", "--format=%s", sha) == "Merge pull request #1 from feature/x"
    assert git(repo, "rev-list", "--parents", "-1", sha).split()[1:] == [pull.base_sha, pull.head_sha]
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "develop"


def test_a_dirty_tree_or_a_conflict_changes_nothing(repo):
    _, remote = remote_of(repo)
    pull = pulls.open_pull(remote, "feature/x", "main", "t", "")
    (repo / "notes.txt").write_text("an uncommitted edit\n")
    before = refs_and_status(repo)
    with pytest.raises(MlopsCiError, match="uncommitted changes"):
        pulls.merge_in_repo(repo, pull)
    assert refs_and_status(repo) == before
    git(repo, "checkout", "--quiet", "--", "notes.txt")
    commit_change(repo, "main", "notes.txt", "one\nanother two\n", "Conflicting note")
    git(repo, "checkout", "--quiet", "develop")
    before = refs_and_status(repo)
    with pytest.raises(MlopsCiError, match="does not merge cleanly into main"):
        pulls.merge_in_repo(repo, pull)
    assert refs_and_status(repo) == before


def test_new_comments_are_the_ones_posted_or_changed(repo, tmp_path):
    _, remote = remote_of(repo)
    pulls.open_pull(remote, "feature/x", "main", "t", "")
    old = remote.add_comment(1, "old")
    kept = remote.add_comment(1, "kept")
    before = pulls.comment_snapshot(remote)
    old.body = "changed"
    new = remote.add_comment(1, "new")
    assert [c.id for c in pulls.new_comments(remote, before)] == [old.id, new.id]
    [path] = pulls.write_comments([kept], tmp_path / "comments")
    assert path.name == f"pr-1-comment-{kept.id}.md" and path.read_text() == "kept"


def test_pr_commands_without_a_run(repo, capsys):
    assert main(["local", "pr", "list", "--repo", str(repo)]) == 0
    assert "no pull requests yet" in capsys.readouterr().out
    state, remote = remote_of(repo)
    pulls.open_pull(remote, "feature/x", "main", "Add a second note", "")
    remote.add_comment(1, "a report")
    pulls.save_state(repo / pulls.FOLDER, state)
    assert main(["local", "pr", "approve", "1", "--repo", str(repo), "--user", "ana"]) == 0
    assert main(["local", "pr", "list", "--repo", str(repo)]) == 0
    listed = capsys.readouterr().out
    assert "#1    feature/x -> main  open  1 comment(s)  1 approval(s)  Add a second note" in listed
    assert main(["local", "pr", "show", "1", "--repo", str(repo)]) == 0
    assert "a report" in capsys.readouterr().out
    (repo / "notes.txt").write_text("dirty\n")
    assert main(["local", "pr", "merge", "1", "--repo", str(repo)]) == 2
    assert "uncommitted changes" in capsys.readouterr().err
    assert main(["local", "pr", "merge", "7", "--repo", str(repo)]) == 2
    remote_state = json.loads((repo / ".mlops-ci" / "github-state.json").read_text())
    assert remote_state["repos"][SLUG]["pulls"]["1"]["state"] == "open"
    state, remote = remote_of(repo)
    remote.merge_pull(1, "f" * 40)
    pulls.save_state(repo / pulls.FOLDER, state)
    capsys.readouterr()
    assert main(["local", "pr", "approve", "1", "--repo", str(repo)]) == 1
    assert capsys.readouterr().err.strip() == "error: PR #1 is merged, not open"


def test_a_push_github_would_not_start_runs_nothing(repo, capsys):
    # hello.yml runs on pushes to main only; act alone would run it for develop too.
    assert main(["local", "push", "--repo", str(repo), "--branch", "develop"]) == 0
    out = capsys.readouterr().out
    assert "no workflow runs on push to develop here: nothing to do" in out and "started" not in out


@pytest.mark.parametrize(("event", "job", "branch", "starts"), [
    ("pull_request", None, "develop", True),      # the PR's train job reads it
    ("pull_request", "policy", "develop", False),  # the policy job alone does not
    ("pull_request", None, "feature/x", False),   # no PR workflow for that base
    ("push", None, "develop", False),             # promote runs on pushes to main only
    ("push", None, "main", True),
    ("schedule", None, "main", True),             # monitor, retraining
])
def test_mlflow_is_started_only_for_a_job_that_reads_it(tmp_path, event, job, branch, starts):
    files = []
    for template in template_files(ROOT):
        files.append(tmp_path / template.name)
        files[-1].write_text(instantiate(template.read_text(), org="org", ref="v1"))
    started, _ = sort_out(files, event, branch, "opened" if event == "pull_request" else None)
    assert wants_mlflow(started, job) is starts


