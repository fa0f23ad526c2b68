"""Benchmark: what `mlops-ci local` costs on top of running the same commands bare.

    python bench/local_overhead.py [--repeat N]

Prints one table, every figure measured in this run on this machine (medians of N runs):
- policy:   the caller template's pull_request workflow (our reusable branch-policy workflow and its
            composite actions) vs `mlops-ci policy check` run bare;
- pipeline: a push workflow running the example's pipeline (ingest, dvc repro) vs the same commands bare
            in a fresh clone;
- lint-test: the quality gate workflow (caller template -> lint-test.yml -> composite actions) on the
            example with a warm pip cache (every requirement already installed) vs the same tools bare;
The demo's time (the README's first command) is bench/demo.py's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlops_ci.core.proc import git
from testing.project import commit_change, make_project_repo

ROOT = Path(__file__).resolve().parents[1]
FEATURE = "feature/PROJ-1-bench"
PIPELINE_STEPS = ["python -m src.ingest", "dvc repro --quiet"]
PIPELINE_WORKFLOW = """\
name: pipeline
on: push
permissions: {}
jobs:
  pipeline:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
""" + "".join(f"      - run: {step}\n" for step in PIPELINE_STEPS)


def timed(command: list[str] | str, cwd: Path) -> float:
    """Seconds one command takes; it must succeed."""
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, shell=isinstance(command, str),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def mlops_ci(*args: str) -> list[str]:
    return [sys.executable, "-m", "mlops_ci", *args]


def bench_policy(repo: Path, scratch: Path, repeat: int) -> tuple[list[float], list[float]]:
    local = [timed(mlops_ci("local", "pull_request", "--repo", str(repo), "--head", FEATURE, "--base",
                            "develop", "--title", "PROJ-1 bench", "--job", "policy",
                            "--out", str(scratch / f"p{i}")), repo)
             for i in range(repeat)]
    bare = [timed(mlops_ci("policy", "check", "--base", "develop", "--head", FEATURE, "--title",
                           "PROJ-1 bench"), repo) for _ in range(repeat)]
    return local, bare


def bench_pipeline(repo: Path, scratch: Path, repeat: int) -> tuple[list[float], list[float]]:
    local, bare = [], []
    for i in range(repeat):
        local.append(timed(mlops_ci("local", "push", "--repo", str(repo), "--branch", "main", "-W",
                                    ".github/workflows/pipeline.yml", "--out", str(scratch / f"w{i}")), repo))
        clone = scratch / f"bare{i}"
        started = time.perf_counter()
        git(scratch, "clone", "--quiet", str(repo), str(clone))
        for step in PIPELINE_STEPS:
            subprocess.run(step, cwd=clone, shell=True, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        bare.append(time.perf_counter() - started)
    return local, bare


def bench_lint_test(repo: Path, scratch: Path, repeat: int) -> tuple[list[float], list[float]]:
    local = [timed(mlops_ci("local", "pull_request", "--repo", str(repo), "--head", FEATURE, "--base",
                            "develop", "--title", "PROJ-1 bench", "--job", "lint-test",
                            "--out", str(scratch / f"l{i}")), repo) for i in range(repeat)]
    bare = []
    for i in range(repeat):
        clone = scratch / f"lint-bare{i}"
        started = time.perf_counter()
        git(scratch, "clone", "--quiet", "--branch", FEATURE, str(repo), str(clone))
        for command in (mlops_ci("deps", "check", "requirements.txt", "environment.yml"),
                        [sys.executable, "-m", "pip", "install", "--quiet", "-r", "requirements.txt"],
                        mlops_ci("lint"), mlops_ci("test")):
            subprocess.run(command, cwd=clone, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        bare.append(time.perf_counter() - started)
    return local, bare


def row(name: str, local: list[float], bare: list[float]) -> str:
    local_s = statistics.median(local)
    bare_s = statistics.median(bare)
    return f"| {name} | {local_s:.2f} s | {bare_s:.2f} s | {local_s - bare_s:+.2f} s | {local_s / bare_s:.2f}x |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    # The bare commands use this environment's `python` and `dvc`, as the workflow steps do.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    with tempfile.TemporaryDirectory(prefix="mlops-ci-bench-") as tmp:
        scratch = Path(tmp)
        repo = make_project_repo(scratch / "digits", ROOT)
        commit_change(repo, "main", ".github/workflows/pipeline.yml", PIPELINE_WORKFLOW, "bench workflow")
        commit_change(repo, FEATURE, "README.md", "bench\n", "PROJ-1 bench", start="main")
        git(repo, "checkout", "--quiet", "main")
        policy = bench_policy(repo, scratch, args.repeat)
        pipeline = bench_pipeline(repo, scratch, args.repeat)
        lint_test = bench_lint_test(repo, scratch, args.repeat)
    print(f"medians of {args.repeat} runs, {sys.platform}, {subprocess.getoutput('nproc')} cores")
    print("| case | mlops-ci local | bare | overhead | ratio |")
    print("|---|---|---|---|---|")
    print(row("policy: PR workflow vs `mlops-ci policy check`", *policy))
    print(row("pipeline: push workflow vs ingest + `dvc repro`", *pipeline))
    print(row("lint-test: quality gate workflow vs deps + pip + lint + test", *lint_test))
    return 0


if __name__ == "__main__":
    sys.exit(main())
