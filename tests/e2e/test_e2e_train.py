"""End to end: a PR's training through the caller template, our reusable train workflow and its
composite actions, run by act against a real MLflow server, a DVC remote and the GitHub stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from mlflow.tracking import MlflowClient

from mlops_ci.cli import main
from mlops_ci.core.proc import git
from testing.project import commit_change, make_project_repo, merge, seed_dvc_remote
from mlops_ci.local.services import free_port, mlflow_server

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
REPO = "acme/digits"
BRANCH = "feature/PROJ-5-faster-lr"
PR_TEMPLATE = Path(".github") / "workflows" / "mlops-ci-pull-request.yml"
TRAIN_ONLY = Path(".github") / "workflows" / "mlops-ci-train-only.yml"


def add_train_only_caller(repo: Path) -> None:
    """Write the pull-request template's `train` job alone, without its `needs`, as a workflow.

    The template's policy and lint-test jobs would run before every training here (about 80 s on
    the example each time); the demo and the scaffold's end-to-end test run the whole template."""
    template = yaml.safe_load((repo / PR_TEMPLATE).read_text(encoding="utf-8"))
    train = {key: value for key, value in template["jobs"]["train"].items() if key != "needs"}
    caller = {"name": "mlops-ci train", "on": template[True], "permissions": {},
              "concurrency": template["concurrency"], "jobs": {"train": train}}
    (repo / TRAIN_ONLY).write_text(yaml.safe_dump(caller, sort_keys=False), encoding="utf-8")
    git(repo, "add", str(TRAIN_ONLY))
    git(repo, "commit", "--quiet", "--message", "The train job alone, for the tests")


@pytest.fixture(name="trained_develop", scope="module")
def fixture_trained_develop(tmp_path_factory) -> Path:
    """The project with a local DVC remote holding the data and develop's trained outputs
    (run-cache included), as the team's object store would after develop's last training."""
    work = tmp_path_factory.mktemp("train-e2e")
    repo = make_project_repo(work / "digits", ROOT, slug=REPO)
    add_train_only_caller(repo)
    seed_dvc_remote(repo, work / "dvc-remote")
    assert not git(repo, "status", "--porcelain"), "develop's training is committed, dvc.lock included"
    return repo


@pytest.fixture(name="project")
def fixture_project(trained_develop, tmp_path) -> Path:
    clone = tmp_path / "digits"
    git(tmp_path, "clone", "--quiet", str(trained_develop), str(clone))
    git(clone, "checkout", "--quiet", "-B", "develop", "origin/develop")
    git(clone, "remote", "set-url", "origin", f"https://github.com/{REPO}.git")
    return clone


def open_pr(github_api, repo: Path, head: str, **fields) -> int:
    remote = github_api.state.repo(REPO)
    remote.add_branch(head, git(repo, "rev-parse", head))
    return remote.add_pull(head, "develop", title="PROJ-5: faster learning rate", **fields).number


def run_train(repo, github_api, mlflow_server, out, number, head=BRANCH, *extra, base="develop") -> dict:
    main(["local", "pull_request", "--repo", str(repo), "--head", head, "--base", base,
          "--pr-number", str(number), "--title", "PROJ-5: faster learning rate", "-W", str(TRAIN_ONLY),
          "--out", str(out), "--github-api-url", github_api.url, "--secret", "GITHUB_TOKEN",
          "--var", f"MLFLOW_TRACKING_URI={getattr(mlflow_server, 'url', mlflow_server)}",
          "--env", "MLFLOW_HTTP_REQUEST_MAX_RETRIES=1", "--env", "MLFLOW_HTTP_REQUEST_TIMEOUT=10", *extra])
    return {job["name"].rsplit("/", 1)[-1]: job for job in json.loads((out / "result.json").read_text())["jobs"]}


@pytest.fixture(autouse=True)
def _token(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")


def test_param_change_trains_registers_and_comments_once(project, github_api, mlflow_server, tmp_path,
                                                          monkeypatch):
    params = (project / "params.yaml").read_text().replace("lr: 0.01", "lr: 0.02")
    commit_change(project, BRANCH, "params.yaml", params, "PROJ-5: faster lr", start="develop")
    number = open_pr(github_api, project, BRANCH)

    jobs = run_train(project, github_api, mlflow_server, tmp_path / "first", number)
    assert {name: job["result"] for name, job in jobs.items()} == {
        "plan": "success", "train": "success", "experiment": "skipped", "report": "success"}, jobs
    assert "param changed: train.lr" in jobs["plan"]["summary"]
    assert "🏋️ ran" in jobs["train"]["summary"]

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    # The MLflow server is shared by the session's tests: look for this PR's head commit.
    head = git(project, "rev-parse", BRANCH)
    versions = MlflowClient().search_model_versions(f"tags.`mlops_ci.commit` = '{head}'")
    assert len(versions) == 1 and versions[0].tags["mlops_ci.pr"] == str(number)

    [comment] = github_api.state.repo(REPO).comments_on(number)
    first_body = comment.body
    assert "train.lr" in first_body and "0.02" in first_body and "accuracy" in first_body
    assert "**Better** than base" in first_body or "**Worse** than base" in first_body \
        or "**Mixed**" in first_body, "the PR's own metrics, not develop's, are compared"
    # A param-only PR on a runner without the DVC cache: no data rows, nothing "deleted"; the outputs
    # the PR's training rebuilt (its dvc.lock, not the PR commit's) against develop's.
    data = first_body[first_body.index("### Data"):first_body.index("### Plots")]
    assert "`models/model.pt`" in data and "(data)" not in data and "deleted" not in data, data

    # A second push: the same comment is updated in place.
    commit_change(project, BRANCH, "params.yaml", params.replace("epochs: 25", "epochs: 20"),
                  "PROJ-5: fewer epochs")
    github_api.state.repo(REPO).add_branch(BRANCH, git(project, "rev-parse", BRANCH))
    jobs = run_train(project, github_api, mlflow_server, tmp_path / "second", number)
    assert jobs["report"]["result"] == "success"
    [updated] = github_api.state.repo(REPO).comments_on(number)
    assert updated.id == comment.id and updated.body != first_body


def test_unchanged_pipeline_is_restored_not_retrained(project, github_api, mlflow_server, tmp_path):
    # dvc.yaml changes (so the plan says train, and the pipeline's fingerprint differs from any
    # version the session's other tests registered for develop) but no stage's command, deps or
    # params do: develop's outputs and run-cache are in the remote, so `dvc repro --pull` executes
    # zero stages.
    described = (project / "dvc.yaml").read_text().replace(
        "    cmd: python -m src.evaluate\n", "    cmd: python -m src.evaluate\n    desc: reviewed\n")
    commit_change(project, BRANCH, "dvc.yaml", described, "PROJ-5: describe a stage", start="develop")
    number = open_pr(github_api, project, BRANCH)
    jobs = run_train(project, github_api, mlflow_server, tmp_path / "out", number)
    assert jobs["plan"]["result"] == "success" and "dvc.yaml changed" in jobs["plan"]["summary"]
    assert jobs["train"]["result"] == "success"
    assert "🏋️ ran" not in jobs["train"]["summary"], jobs["train"]["summary"]


def test_rerun_and_release_pr_reuse_the_version_trained_for_the_same_pipeline(project, github_api, mlflow_server,
                                                                             tmp_path, monkeypatch):
    """Build once, promote what was reviewed: an unchanged re-run of a trained PR and the release PR
    develop -> main of the same pipeline start no train job, register no version, tag the version
    with the release PR (what promote --pr finds) and post the report from its run."""
    params = (project / "params.yaml").read_text().replace("lr: 0.01", "lr: 0.04")
    commit_change(project, BRANCH, "params.yaml", params, "PROJ-5: lr 0.04", start="develop")
    number = open_pr(github_api, project, BRANCH)
    jobs = run_train(project, github_api, mlflow_server, tmp_path / "first", number)
    assert jobs["train"]["result"] == "success" and jobs["report"]["result"] == "success", jobs
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    client = MlflowClient()
    [version] = client.search_model_versions(f"tags.`mlops_ci.commit` = '{git(project, 'rev-parse', BRANCH)}'")
    fingerprint = version.tags["mlops_ci.fingerprint"]
    [comment] = github_api.state.repo(REPO).comments_on(number)

    jobs = run_train(project, github_api, mlflow_server, tmp_path / "rerun", number)
    assert jobs.get("train", {}).get("result", "skipped") == "skipped", jobs
    assert jobs["report"]["result"] == "success", jobs
    assert "already trained" in jobs["plan"]["summary"] and f"version {version.version}" in jobs["plan"]["summary"]
    [again] = github_api.state.repo(REPO).comments_on(number)
    assert again.id == comment.id and "0.04" in again.body and version.run_id in again.body

    # The feature PR is merged; the release PR develop -> main holds the very same pipeline.
    merge(project, BRANCH, "develop", f"Merge pull request #{number}")
    git(project, "branch", "--force", "main", "origin/main")
    remote = github_api.state.repo(REPO)
    for branch in ("develop", "main"):
        remote.add_branch(branch, git(project, "rev-parse", branch))
    release = remote.add_pull("develop", "main", title="Release PROJ-5").number
    jobs = run_train(project, github_api, mlflow_server, tmp_path / "release", release, "develop", base="main")
    assert jobs.get("train", {}).get("result", "skipped") == "skipped", jobs
    assert jobs["report"]["result"] == "success", jobs
    assert [v.version for v in client.search_model_versions(f"tags.`mlops_ci.fingerprint` = '{fingerprint}'")] \
        == [version.version], "one version for one model"
    assert client.get_model_version(version.name, version.version).tags[f"mlops_ci.pr.{release}"] == "true"
    [report] = github_api.state.repo(REPO).comments_on(release)
    assert "train.lr" in report.body and version.run_id in report.body


def test_docs_only_pr_never_wakes_the_gpu_runner(project, github_api, mlflow_server, tmp_path):
    commit_change(project, BRANCH, "README.md", "More docs.\n", "PROJ-5: docs", start="develop")
    number = open_pr(github_api, project, BRANCH)
    jobs = run_train(project, github_api, mlflow_server, tmp_path / "out", number)
    assert jobs["plan"]["result"] == "success" and "skipped" in jobs["plan"]["summary"]
    assert "train" not in jobs or jobs["train"]["result"] == "skipped"
    assert not github_api.state.repo(REPO).comments_on(number)


@pytest.mark.parametrize(("head_repo", "options", "why"), [
    ("stranger/digits", ["--fork-owner", "stranger"], "it comes from a fork"),
    ("stranger/digits", ["--fork-owner", "stranger", "--fork-deleted"], "a deleted fork"),
    (None, ["--author-association", "CONTRIBUTOR"], "association is CONTRIBUTOR"),
], ids=["fork", "deleted-fork", "same-repo-without-write-access"])
def test_untrusted_pr_stops_at_plan(project, github_api, mlflow_server, tmp_path, head_repo, options, why):
    params = (project / "params.yaml").read_text().replace("lr: 0.01", "lr: 0.03")
    commit_change(project, BRANCH, "params.yaml", params, "PROJ-5: untrusted", start="develop")
    number = open_pr(github_api, project, BRANCH, head_repo=head_repo)
    jobs = run_train(project, github_api, mlflow_server, tmp_path / "out", number, BRANCH, *options)
    assert "untrusted pull request" in jobs["plan"]["summary"] and why in jobs["plan"]["summary"], jobs
    # "param changed" proves the plan wanted training: trust alone kept it from the GPU runner.
    assert "param changed: train.lr" in jobs["plan"]["summary"]
    assert all(jobs[name]["result"] == "skipped" for name in ("train", "report") if name in jobs), jobs
    assert not github_api.state.repo(REPO).comments_on(number)


def test_parallel_experiments_are_compared_in_the_report(project, github_api, mlflow_server, tmp_path,
                                                         monkeypatch):
    params = (project / "params.yaml").read_text().replace("epochs: 25", "epochs: 10")
    commit_change(project, BRANCH, "params.yaml", params, "PROJ-5: fewer epochs", start="develop")
    number = open_pr(github_api, project, BRANCH)
    experiments = json.dumps(["train.lr=0.05", "train.lr=0.002 train.hidden=32"])
    jobs = run_train(project, github_api, mlflow_server, tmp_path / "out", number, BRANCH,
                     "--var", f"MLOPS_CI_EXPERIMENTS={experiments}")
    assert jobs["report"]["result"] == "success", jobs
    ran = [job for name, job in jobs.items() if name.startswith("experiment")]
    assert len(ran) == 2 and all(job["result"] == "success" for job in ran), jobs

    [comment] = github_api.state.repo(REPO).comments_on(number)
    block = comment.body[comment.body.index("### Experiments"):]
    assert "| **this PR** | its own params |" in block
    assert "`train.lr=0.05`" in block and "`train.lr=0.002` `train.hidden=32`" in block

    # Experiments are logged as runs but never registered: only the PR's own training is a candidate.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    client = MlflowClient()
    head = git(project, "rev-parse", BRANCH)   # the server is shared by the session's tests
    assert len(client.search_model_versions(f"tags.`mlops_ci.commit` = '{head}'")) == 1
    runs = client.search_runs([client.get_experiment_by_name("digits-classifier").experiment_id],
                              f"tags.`mlops_ci.commit` = '{head}'")
    assert sorted(run.data.params["train.lr"] for run in runs) == ["0.002", "0.01", "0.05"]


def test_mlflow_down_fails_the_train_job_clearly_and_posts_nothing(project, github_api, tmp_path):
    # The pipeline is restored from the run-cache (nothing to train): the job reaches MLflow at once.
    commit_change(project, BRANCH, "dvc.yaml", (project / "dvc.yaml").read_text() + "\n# reviewed\n",
                  "PROJ-5: while MLflow is down", start="develop")
    number = open_pr(github_api, project, BRANCH)
    dead = f"http://127.0.0.1:{free_port()}"
    # --timeout bounds the whole run: the bounded client retries must fail well before it.
    jobs = run_train(project, github_api, dead, tmp_path / "out", number, BRANCH, "--timeout", "900")
    assert jobs["train"]["result"] == "failure", jobs
    errors = jobs["train"]["errors"]
    assert any("the track command failed" in message and dead in message for message in errors), errors
    assert jobs.get("report", {}).get("result", "skipped") == "skipped"
    assert not github_api.state.repo(REPO).comments_on(number)


@pytest.fixture(name="seed_stack", scope="module")
def fixture_seed_stack(tmp_path_factory, s3_server, mariadb_server):
    """The seed design's stack: MLflow on MariaDB (mysql+pymysql) with its artifacts in the object
    store, and the DVC remote in the same S3-protocol object store (moto)."""
    s3_server.create_bucket("digits-ml")
    work = tmp_path_factory.mktemp("seed-stack")
    backend = mariadb_server.create_database("mlflow_e2e")
    with mlflow_server(work / "mlflow", backend, "s3://digits-ml/mlflow", env=s3_server.env()) as server:
        repo = make_project_repo(work / "digits", ROOT, slug=REPO)
        add_train_only_caller(repo)
        seed_dvc_remote(repo, "s3://digits-ml/dvc", credentials=s3_server.env())
        yield repo, server


@pytest.mark.mariadb
def test_s3_remote_and_mariadb_backed_mlflow(seed_stack, s3_server, github_api, tmp_path, monkeypatch):
    seeded, server = seed_stack
    project = tmp_path / "digits"
    git(tmp_path, "clone", "--quiet", str(seeded), str(project))
    git(project, "checkout", "--quiet", "-B", "develop", "origin/develop")
    git(project, "remote", "set-url", "origin", f"https://github.com/{REPO}.git")
    params = (project / "params.yaml").read_text().replace("hidden: 64", "hidden: 48")
    commit_change(project, BRANCH, "params.yaml", params, "PROJ-5: smaller network", start="develop")
    number = open_pr(github_api, project, BRANCH)
    cached_before = len(s3_server.keys("digits-ml"))
    for name in ("OBJECT_STORE_ACCESS_KEY_ID", "OBJECT_STORE_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")

    jobs = run_train(project, github_api, server, tmp_path / "out", number, BRANCH,
                     "--secret", "OBJECT_STORE_ACCESS_KEY_ID", "--secret", "OBJECT_STORE_SECRET_ACCESS_KEY",
                     "--var", f"OBJECT_STORE_ENDPOINT_URL={s3_server.endpoint_url}",
                     "--env", "AWS_DEFAULT_REGION=us-east-1")
    assert jobs["train"]["result"] == "success" and jobs["report"]["result"] == "success", jobs
    assert "pulled from and pushed to" in jobs["train"]["summary"]
    assert "| prepare | 🏋️ ran |" not in jobs["train"]["summary"], "prepare's outputs came from S3, not rerun"
    assert "| train | 🏋️ ran |" in jobs["train"]["summary"]
    keys = s3_server.keys("digits-ml")
    assert len(keys) > cached_before, "the new outputs and run-cache entries were pushed to S3"
    assert any(key.startswith("mlflow/") for key in keys), "MLflow stored the model in the object store"

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    [version] = MlflowClient().search_model_versions(f"tags.`mlops_ci.pr` = '{number}'")
    assert server.backend_uri.startswith("mysql+pymysql://")
    assert version.tags["mlops_ci.commit"] == git(project, "rev-parse", BRANCH)
    [comment] = github_api.state.repo(REPO).comments_on(number)
    assert "train.hidden" in comment.body
