"""The `mlops-ci local pr` tests' repository, fast and end to end alike: a tiny git-flow project with one
workflow. A test module takes the fixture with ``from testing.local import fixture_repo``; the
workflows below are what a team's own CI adds beside it (``add_workflows``)."""

from __future__ import annotations

import os
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


# A team's own CI, as a DVC project that uses CML has it (issue 23): cml.yml needs an action no shim
# stands for, cml-report.yml only the setup actions (shims that use the host's cml and dvc).
CML_WORKFLOWS = {
    "cml.yml": """\
name: cml
on: pull_request
permissions: {}
jobs:
  report:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: iterative/setup-cml@v2
      - uses: iterative/setup-dvc@v1
      - name: Write the report
        run: dvc metrics diff --md > report.md
      - uses: peter-evans/create-or-update-comment@v4
        with:
          issue-number: ${{ github.event.number }}
          body-path: report.md
""",
    "cml-report.yml": """\
name: cml-report
on: pull_request
permissions: {}
jobs:
  tools:
    runs-on: ubuntu-latest
    steps:
      - uses: iterative/setup-cml@v2
      - uses: iterative/setup-dvc@v1
      - name: Show the tools
        run: echo "tools cml=$(cml --version) dvc=$(dvc --version)" >> "$GITHUB_STEP_SUMMARY"
""",
}
# A workflow of ours (it uses mlops-ci) that needs an action no shim stands for: refused, never skipped.
OURS_UNSHIMMED = """\
name: ours
on: pull_request
permissions: {}
jobs:
  policy:
    uses: acme/mlops-ci/.github/workflows/branch-policy.yml@v1
  notify:
    runs-on: ubuntu-latest
    steps:
      - uses: evil/notify@v1
"""


def add_workflows(repo: Path, branch: str, workflows: dict[str, str]) -> None:
    """Commit workflow files (name -> text) on `branch`, then check out main again."""
    for name, text in workflows.items():
        commit_change(repo, branch, f".github/workflows/{name}", text, f"CI: {name}")
    git(repo, "checkout", "--quiet", "main")


def path_without(tool: str) -> str:
    """$PATH less the folders holding `tool`: this machine as one without it installed."""
    return os.pathsep.join(folder for folder in os.environ["PATH"].split(os.pathsep)
                           if not (Path(folder) / tool).exists())
