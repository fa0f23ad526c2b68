"""End to end: the scheduled protection-drift template runs our reusable workflow and composite
action through act against the GitHub stand-in: drift fails the job, `protect apply` fixes it."""

from __future__ import annotations

import json

import pytest

from mlops_ci.cli import main

pytestmark = pytest.mark.e2e

ADMIN_TOKEN = "admin-token-for-drift"


def run_drift(project_repo, github_api, out) -> dict:
    main(["local", "schedule", "--repo", str(project_repo), "--out", str(out),
          "-W", ".github/workflows/mlops-ci-protection-drift.yml",
          "--github-api-url", github_api.url, "--secret", "MLOPS_CI_ADMIN_TOKEN"])
    return json.loads((out / "result.json").read_text())["jobs"][0]


def test_drift_fails_until_protection_is_applied(project_repo, github_api, tmp_path, monkeypatch):
    github_api.state.add_token(ADMIN_TOKEN)
    monkeypatch.setenv("MLOPS_CI_ADMIN_TOKEN", ADMIN_TOKEN)

    job = run_drift(project_repo, github_api, tmp_path / "before")
    assert job["name"] == "drift/protection-drift/protection-drift"
    assert job["result"] == "failure"
    assert any("main" in error for error in job["errors"]), job["errors"]
    assert not github_api.writes()  # a check never writes

    monkeypatch.setenv("GITHUB_API_URL", github_api.url)
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN_TOKEN)
    assert main(["protect", "apply", "--repo", "acme/digits"]) == 0

    job = run_drift(project_repo, github_api, tmp_path / "after")
    assert job["result"] == "success", job
