"""End to end: a push to main through the promote caller template, our reusable promote workflow and
its composite actions, run by act against a real MLflow server and the GitHub stand-in; then the
rollback template by workflow_dispatch."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from mlops_ci.cli import main
from mlops_ci.registry import seal
from testing.fixtures import EXAMPLE
from testing.project import commit_change, merge

pytestmark = pytest.mark.e2e

REPO = "acme/digits"
# The example's own settings (its model: section) and the team's promotion gates.
GATES = ((EXAMPLE / ".github" / "mlops-ci.yml").read_text(encoding="utf-8")
         + "promotion:\n  gates: ['accuracy>=0.5', 'accuracy:no-regress:0.05']\n")


DECISION_KEY = "the production environment's key"


@pytest.fixture(autouse=True)
def _token(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")


class Story:
    """The project, the GitHub stand-in and MLflow, with a model name of this test's own."""

    def __init__(self, project: Path, github_api, mlflow_server, out: Path) -> None:
        self.project, self.github, self.mlflow_url, self.out = project, github_api, mlflow_server.url, out
        self.model = f"digits-e2e-{uuid.uuid4().hex[:8]}"
        self.client = MlflowClient(self.mlflow_url, self.mlflow_url)
        self.client.create_registered_model(self.model)
        self.experiment = self.client.create_experiment(self.model)
        self.remote = github_api.state.repo(REPO)
        self.runs = 0

    def register(self, accuracy: float, pr: int | None = None, commit: str = "") -> str:
        """A version as `mlops-ci train run` leaves it: the run's metrics, the PR and commit tags."""
        run = self.client.create_run(self.experiment)
        self.client.log_metric(run.info.run_id, "accuracy", accuracy)
        tags = {"mlops_ci.pr": str(pr), "mlops_ci.commit": commit} if pr else {}
        return self.client.create_model_version(self.model, f"{run.info.artifact_uri}/model",
                                                run_id=run.info.run_id, tags=tags).version

    def release(self, path: str, text: str) -> tuple[int, str]:
        """A change on develop, its release PR into main; (PR number, develop's head)."""
        head = commit_change(self.project, "develop", path, text, f"PROJ-9: {path}")
        self.remote.add_branch("develop", head)
        return self.remote.add_pull("develop", "main", title=f"Release {path}").number, head

    def merge(self, number: int) -> None:
        """Merge the PR with a merge commit, locally and in the stand-in."""
        sha = merge(self.project, "develop", "main", f"Merge pull request #{number}")
        self.remote.merge_pull(number, sha)

    def local(self, *event: str, workflow: str) -> dict:
        """Run one workflow of the project through `mlops-ci local`; its only job's record. The
        production environment's decision key is given as the template's secret."""
        self.runs += 1
        out = self.out / f"run-{self.runs}"
        main(["local", *event, "--repo", str(self.project), "-W", f".github/workflows/{workflow}",
              "--out", str(out), "--github-api-url", self.github.url, "--secret", "GITHUB_TOKEN",
              "--secret", f"MLOPS_CI_DECISION_KEY={DECISION_KEY}",
              "--var", f"MLFLOW_TRACKING_URI={self.mlflow_url}", "--var", f"MLOPS_CI_MODEL_NAME={self.model}",
              "--env", "MLFLOW_HTTP_REQUEST_MAX_RETRIES=1", "--env", "MLFLOW_HTTP_REQUEST_TIMEOUT=10"])
        [job] = json.loads((out / "result.json").read_text())["jobs"]
        return job

    def push(self) -> dict:
        return self.local("push", "--branch", "main", workflow="mlops-ci-promote.yml")

    def champion(self) -> str | None:
        return self.client.get_registered_model(self.model).aliases.get("champion")


def test_push_to_main_promotes_the_merged_prs_version(project_repo, github_api, mlflow_server, tmp_path,
                                                      monkeypatch):
    story = Story(project_repo, github_api, mlflow_server, tmp_path)
    first = story.register(0.90)
    story.client.set_registered_model_alias(story.model, "champion", first)

    number, head = story.release(".github/mlops-ci.yml", GATES)
    candidate = story.register(0.93, pr=number, commit=head)
    story.merge(number)
    job = story.push()
    assert job["result"] == "success", job
    assert story.champion() == candidate
    assert f"models:/{story.model}@champion" in job["summary"]
    assert "| `accuracy:no-regress:0.05` | ✅ passed |" in job["summary"]
    tags = story.client.get_model_version(story.model, candidate).tags
    assert tags["mlops_ci.previous_champion"] == first and tags["mlops_ci.promoted_by"]
    monkeypatch.setenv("MLOPS_CI_DECISION_KEY", DECISION_KEY)   # the verdict was sealed with the job's key
    assert seal.trusted(story.client.get_model_version(story.model, candidate))
    [comment] = story.remote.comments_on(number)
    promoted_body = comment.body
    assert "<!-- mlops-ci:promotion -->" in promoted_body and "✅ promoted" in promoted_body

    # The same push again: nothing changes, not even the comment.
    again = story.push()
    assert again["result"] == "success", again
    assert story.champion() == candidate
    assert story.client.get_model_version(story.model, candidate).tags == tags
    [same] = story.remote.comments_on(number)
    assert same.id == comment.id and same.body == promoted_body
    assert "is already" in again["summary"]

    # A release whose PR trained nothing: said so, exit 0, the registry untouched.
    docs, _ = story.release("docs/notes.md", "Notes.\n")
    story.merge(docs)
    job = story.push()
    assert job["result"] == "success", job
    assert "nothing to promote" in job["summary"] and story.champion() == candidate
    [note] = story.remote.comments_on(docs)
    assert f"no version of {story.model} carries pr {docs}" in note.body

    # Rollback by hand to the previous champion: it was made champion by hand, never passed its gates,
    # so it is refused; with the force box ticked it is the champion again, and that is recorded.
    job = story.local("workflow_dispatch", "--branch", "main", "--input", "reason=latency regression",
                      workflow="mlops-ci-rollback.yml")
    assert job["result"] == "failure" and story.champion() == candidate, job
    assert any(f"version {first} never passed its gates" in error for error in job["errors"]), job
    job = story.local("workflow_dispatch", "--branch", "main", "--input", "reason=latency regression",
                      "--input", "force=true", workflow="mlops-ci-rollback.yml")
    assert job["result"] == "success", job
    assert "latency regression" in story.client.get_model_version(story.model, first).tags["mlops_ci.forced"]
    assert story.champion() == first
    rolled = story.client.get_model_version(story.model, candidate).tags
    assert rolled["mlops_ci.validation_status"] == "rolled_back"
    assert rolled["mlops_ci.rollback_reason"] == "latency regression"


def test_a_refused_gate_fails_the_job_and_tells_the_pr(project_repo, github_api, mlflow_server, tmp_path):
    story = Story(project_repo, github_api, mlflow_server, tmp_path)
    champion = story.register(0.95)
    story.client.set_registered_model_alias(story.model, "champion", champion)
    number, head = story.release(".github/mlops-ci.yml", GATES)
    weak = story.register(0.80, pr=number, commit=head)
    story.merge(number)
    job = story.push()
    assert job["result"] == "failure"
    assert story.champion() == champion
    assert story.client.get_model_version(story.model, weak).tags["mlops_ci.validation_status"] == "failed"
    [comment] = story.remote.comments_on(number)
    assert "⛔ refused" in comment.body and "accuracy:no-regress:0.05" in comment.body
