"""End to end: the data-check and drift composite actions through act."""

from __future__ import annotations

import json
import subprocess

import pytest

from mlops_ci.cli import main
from testing.drift import sample


ACTIONS_WORKFLOW = """\
name: monitor-actions
on: workflow_dispatch
permissions: {}
jobs:
  monitor:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - id: quality
        uses: org/mlops-ci/actions/data-check@v1
        with:
          path: data/current.csv
      - id: drift
        uses: org/mlops-ci/actions/drift@v1
        with:
          reference: data/reference.csv
          current: data/current.csv
          config: monitor.yml
          fail-on-drift: "false"
      - name: Act on the outputs
        env:
          PROBLEMS: ${{ steps.quality.outputs.problems }}
          DRIFT: ${{ steps.drift.outputs.drift }}
          FEATURES: ${{ steps.drift.outputs.drifted-features }}
          METRICS: ${{ steps.drift.outputs.metrics }}
        run: |
          echo "problems=$PROBLEMS drift=$DRIFT features=$FEATURES"
          test "$PROBLEMS" = 0 && test "$DRIFT" = true && test "$FEATURES" = amount
          grep -q '^mlops_ci_drift_detected 1$' "$METRICS"
"""


@pytest.mark.e2e
def test_the_data_check_and_drift_actions_through_act(tmp_path):
    repo = tmp_path / "project"
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "monitor-actions.yml").write_text(ACTIONS_WORKFLOW)
    (repo / "data").mkdir()
    (repo / "monitor.yml").write_text("drift:\n  ignore: [request_id]\n")
    sample(1).to_csv(repo / "data" / "reference.csv", index=False)
    sample(2, shift=8).to_csv(repo / "data" / "current.csv", index=False)
    for command in (["init", "--quiet", "--initial-branch=main"], ["add", "--all"],
                    ["-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "--quiet", "-m", "data"]):
        subprocess.run(["git", *command], cwd=repo, check=True)
    out = tmp_path / "out"
    assert main(["local", "workflow_dispatch", "--repo", str(repo), "--out", str(out)]) == 0
    [job] = json.loads((out / "result.json").read_text())["jobs"]
    assert job["result"] == "success", job
    assert "### data-check: ✅ clean" in job["summary"] and "### drift: ❌ drift detected" in job["summary"]
