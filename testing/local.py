"""The `mlops-ci local pr` tests' repository, fast and end to end alike: a tiny git-flow project with one
workflow. A test module takes the fixture with ``from testing.local import fixture_repo``."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_ci.core.proc import git
from testing.project import commit_change, init_git_flow_repo

SLUG = "acme/tiny"


HELLO = """\
name: hello
on:
  pull_request:
    branches: [main]
  push:
    branches: [main]
permissions: {}
jobs:
  hello:
    runs-on: ubuntu-latest
    permissions:
      pull-requests: write
    steps:
      - name: Comment on the PR
        if: github.event_name == 'pull_request'
        env:
          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
          NUMBER: ${{ github.event.number }}
        run: |
          echo "hello from PR $NUMBER" > "$RUNNER_TEMP/body.md"
          python -m mlops_ci comment --pr "$NUMBER" --body-file "$RUNNER_TEMP/body.md" --marker hello
      - name: Pushed
        if: github.event_name == 'push'
        run: echo pushed
"""


@pytest.fixture(name="repo")
def fixture_repo(tmp_path: Path) -> Path:
    """main with a workflow, develop, and feature/x one commit ahead of main."""
    repo = tmp_path / "tiny"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "hello.yml").write_text(HELLO)
    (repo / "notes.txt").write_text("one\n")
    init_git_flow_repo(repo, SLUG, "start")
    commit_change(repo, "feature/x", "notes.txt", "one\ntwo\n", "Add a second note", start="main")
    git(repo, "checkout", "--quiet", "main")
    return repo
