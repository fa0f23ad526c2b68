"""End to end: `mlops-ci comment`'s backends (api, cml) and a bad backend through act."""

from __future__ import annotations

import json
import subprocess

import pytest

from mlops_ci.cli import main
from testing.fixtures import TEST_REPO


CML_WORKFLOW = """\
name: comment-through-cml
on: pull_request
permissions: {}
jobs:
  comment:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    permissions:
      contents: read
      pull-requests: write
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - name: A stand-in cml on PATH, as the train workflow's install step leaves the real one
        run: echo "$PWD/stand-in" >> "$GITHUB_PATH"
      - uses: org/mlops-ci/actions/comment@v1
        with:
          body-file: report.md
          marker: train-report
          pr-number: "7"
          backend: cml
"""


BAD_BACKEND_WORKFLOW = """\
name: train-with-a-bad-backend
on: pull_request
permissions: {}
jobs:
  train:
    uses: org/mlops-ci/.github/workflows/train.yml@v1
    permissions:
      contents: read
      pull-requests: write
    with:
      comment-backend: github
"""


@pytest.mark.e2e
def test_comment_backend_through_act(tmp_path):
    """The comment action with backend cml runs `cml comment update` (a stand-in that records its
    arguments), and the train workflow refuses an unknown backend in its plan job, before any training."""
    repo = tmp_path / "project"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "cml.yml").write_text(CML_WORKFLOW)
    (repo / ".github" / "workflows" / "bad.yml").write_text(BAD_BACKEND_WORKFLOW)
    (repo / "report.md").write_text("## the report\n")
    (repo / "stand-in").mkdir()
    (repo / "stand-in" / "cml").write_text(f'#!/bin/sh\necho "$@ token=$GITHUB_TOKEN" > {tmp_path}/cml-args\n'
                                           f'cat "$3" > {tmp_path}/cml-body\n')
    (repo / "stand-in" / "cml").chmod(0o755)
    for command in (["init", "--quiet", "--initial-branch=develop"], ["add", "--all"],
                    ["-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "--quiet", "-m", "c"],
                    ["checkout", "--quiet", "-b", "feature/PROJ-1-x"]):
        subprocess.run(["git", *command], cwd=repo, check=True)

    def run(workflow: str) -> dict:
        out = tmp_path / workflow
        # A GitHub named (never reached: cml is a stand-in), so the run keeps the token it is given
        # instead of starting the local GitHub with a token of its own.
        main(["local", "pull_request", "--repo", str(repo), "--head", "feature/PROJ-1-x", "--base", "develop",
              "--repository", TEST_REPO, "--github-api-url", "https://api.github.com",
              "--secret", "GITHUB_TOKEN=test-token", "-W", f".github/workflows/{workflow}.yml", "--out", str(out)])
        return {job["name"].rsplit("/", 1)[-1]: job for job in json.loads((out / "result.json").read_text())["jobs"]}

    jobs = run("cml")
    assert jobs["comment"]["result"] == "success", jobs
    args = (tmp_path / "cml-args").read_text()
    assert args.startswith("comment update ") and "--target=pr/7" in args and "--watermark-title=train-report" in args
    assert args.endswith(" token=test-token\n"), "CML reads the token from GITHUB_TOKEN"
    assert (tmp_path / "cml-body").read_text() == "## the report\n"

    jobs = run("bad")
    assert jobs["plan"]["result"] == "failure", jobs
    assert any("comment-backend must be api or cml, not 'github'" in error for error in jobs["plan"]["errors"]), jobs
    assert all(job["result"] == "skipped" for name, job in jobs.items() if name != "plan"), jobs
