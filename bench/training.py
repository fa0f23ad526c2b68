"""Benchmark: the training workflow and the reviewer's report, against their bare equivalents.

    python bench/training.py [--repeat N]

Prints one table, every figure measured in this run on this machine (medians of N runs where N applies):
- build once, promote what was reviewed (issue 13), side by side: the PR's run that trains, an
  unchanged re-run of it and the release PR develop -> main of the same pipeline: the workflow's job
  time (plan, train, report: they run one after the other), time on the GPU runner (train job), GPU
  jobs started, model versions registered, and the whole `mlops-ci local` run. The re-run and the
  release PR find the pipeline's fingerprint in the registry and reuse its version;
- the train workflow (plan, train, report and comment through `mlops-ci local`) vs the same work bare
  in a fresh clone: `dvc repro --pull`, `dvc push --run-cache`, `mlops-ci track`;
- `mlops-ci comment` on a PR with 1,000 comments: requests made and time;
- `mlops-ci report`'s build and render with 500 metrics and 20 plots (the DVC JSON made up front).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from mlops_ci.report import command as report
from mlops_ci.report import render as report_render
from mlops_ci.clients.github import GitHubClient
from mlops_ci.clients.github_comments import upsert
from mlops_ci.core.markers import marker
from mlops_ci.core.proc import git
from mlops_ci.local.github.state import GitHubState
from testing.github import GitHubStandIn
from testing.project import commit_change, make_project_repo, merge, seed_dvc_remote
from mlops_ci.local.services import mlflow_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "report"))  # synthetic_dvc, beside its canned DVC JSON
from test_report import synthetic_dvc  # noqa: E402  pylint: disable=wrong-import-position

SLUG = "acme/digits"
TOKEN = "bench-token"
FEATURE = "feature/PROJ-5-bench"


def run_train_workflow(repo: Path, github: GitHubStandIn, mlflow_url: str, number: int, out: Path, *,
                       head: str = FEATURE, base: str = "develop") -> dict:
    """The PR's train workflow through `mlops-ci local`: {job: seconds} of the jobs that ran, the whole
    run's seconds (total), GPU jobs started (gpu_jobs) and model versions registered (new_versions)."""
    before = len(registered(mlflow_url))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mlops_ci", "local", "pull_request", "--repo", str(repo),
                    "--head", head, "--base", base, "--pr-number", str(number), "--title", "PROJ-5 bench",
                    "-W", ".github/workflows/mlops-ci-pull-request.yml", "--job", "train", "--out", str(out),
                    "--github-api-url", github.url, "--secret", "GITHUB_TOKEN",
                    "--var", f"MLFLOW_TRACKING_URI={mlflow_url}"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total = time.perf_counter() - started
    jobs = [job for job in json.loads((out / "result.json").read_text())["jobs"]
            if job["result"] != "skipped"]
    seconds = {job["name"].rsplit("/", 1)[-1]: job["seconds"] for job in jobs}
    seconds["workflow"] = sum(seconds.get(name, 0.0) for name in ("plan", "train", "report"))
    seconds["total"] = total
    seconds["gpu_jobs"] = sum(1 for job in jobs if job["name"].rsplit("/", 1)[-1] in ("train", "experiment"))
    seconds["new_versions"] = len(registered(mlflow_url)) - before
    return seconds


def jobs_seconds(run: dict) -> str:
    """The jobs that ran and their seconds, e.g. "plan 3.1 + report 9.8"."""
    return " + ".join(f"{name} {run[name]:.1f}" for name in ("plan", "train", "report") if name in run)


def registered(mlflow_url: str) -> list:
    """Every registered model version on the server."""
    from mlflow.tracking import MlflowClient  # pylint: disable=import-outside-toplevel  # ~1 s import

    return MlflowClient(mlflow_url, registry_uri=mlflow_url).search_model_versions()


def bare_training(repo: Path, scratch: Path, mlflow_url: str) -> float:
    """The same training without the workflow: a fresh clone, repro with pull, push, track."""
    clone = scratch / "bare"
    started = time.perf_counter()
    git(scratch, "clone", "--quiet", "--branch", FEATURE, str(repo), str(clone))
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_url}
    for command in ("dvc repro --pull", "dvc push --run-cache", f"{sys.executable} -m mlops_ci track"):
        subprocess.run(command, cwd=clone, shell=True, check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def bench_training(scratch: Path) -> list[str]:
    state = GitHubState()
    state.add_repo(SLUG, branches=["develop"])
    os.environ["GITHUB_TOKEN"] = TOKEN
    with ExitStack() as stack:
        server = stack.enter_context(mlflow_server(scratch / "mlflow"))
        github = stack.enter_context(GitHubStandIn(state, token=TOKEN))
        repo = make_project_repo(scratch / "digits", ROOT, slug=SLUG)
        seed_dvc_remote(repo, scratch / "dvc-remote")
        params = (repo / "params.yaml").read_text().replace("lr: 0.01", "lr: 0.02")
        commit_change(repo, FEATURE, "params.yaml", params, "PROJ-5 bench", start="develop")
        remote = state.repo(SLUG)
        remote.add_branch(FEATURE, git(repo, "rev-parse", FEATURE))
        number = remote.add_pull(FEATURE, "develop", title="PROJ-5 bench").number
        first = run_train_workflow(repo, github, server.url, number, scratch / "first")
        rerun = run_train_workflow(repo, github, server.url, number, scratch / "rerun")
        remote.merge_pull(number, merge(repo, FEATURE, "develop", f"Merge pull request #{number}"))
        for branch in ("develop", "main"):
            remote.add_branch(branch, git(repo, "rev-parse", branch))
        release_number = remote.add_pull("develop", "main", title="Release PROJ-5").number
        release = run_train_workflow(repo, github, server.url, release_number, scratch / "release",
                                     head="develop", base="main")
        bare = bare_training(repo, scratch, server.url)
    rows = [f"| {name} | {run['workflow']:.1f} s ({jobs_seconds(run)}; {run['total']:.0f} s with `mlops-ci "
            f"local`) | {run['gpu_jobs']} GPU job(s), {run.get('train', 0.0):.1f} s on the GPU runner, "
            f"{run['new_versions']} new version(s) | "
            + (f"{run['workflow'] / first['workflow']:.0%} of the training run's job time |"
               if run is not first else "the run that trains |")
            for name, run in (("train workflow: the PR's run that trains", first),
                              ("train workflow: unchanged re-run of the PR", rerun),
                              ("train workflow: release PR develop -> main", release))]
    return [*rows,
            f"| train workflow (plan + train + report jobs) vs bare repro --pull + push + track | "
            f"{first['workflow']:.1f} s | {bare:.1f} s | {first['workflow'] / bare:.2f}x |"]


def bench_comment(repeat: int) -> str:
    state = GitHubState()
    state.add_repo(SLUG, branches=["develop"])
    with GitHubStandIn(state, token=TOKEN) as github:
        remote = state.repo(SLUG)
        number = remote.add_pull("feature/PROJ-1-x", "develop", title="PROJ-1").number
        for index in range(999):
            remote.add_comment(number, f"remark {index}")
        remote.add_comment(number, f"{marker('bench')}\nold", user="github-actions[bot]")
        client = GitHubClient(github.url, TOKEN)
        seconds, requests = [], []
        for index in range(repeat):
            before = len(github.requests)
            started = time.perf_counter()
            upsert(client, SLUG, number, f"report {index}", "bench")
            seconds.append(time.perf_counter() - started)
            requests.append(len(github.requests) - before)
    return (f"| `mlops-ci comment` on a PR with 1,000 comments | {statistics.median(seconds) * 1000:.0f} ms | "
            f"{max(requests)} requests | (CML: first page only) |")


def bench_report(repeat: int) -> str:
    dvc = synthetic_dvc()
    seconds, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        markdown, _ = report_render.render(report.build_report("develop", dvc))
        seconds.append(time.perf_counter() - started)
        size = len(markdown)
    return (f"| report build + render, 500 metrics and 20 plots | {statistics.median(seconds) * 1000:.0f} ms | "
            f"{size:,} characters | under 65,536 |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of the quick cases (default 5)")
    args = parser.parse_args()
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    with tempfile.TemporaryDirectory(prefix="mlops-ci-bench-") as tmp:
        training = bench_training(Path(tmp))
    print(f"{sys.platform}, {subprocess.getoutput('nproc')} cores; quick cases: medians of {args.repeat}")
    print("| case | measured | compared with | ratio / note |")
    print("|---|---|---|---|")
    for line in (*training, bench_comment(args.repeat), bench_report(args.repeat)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
