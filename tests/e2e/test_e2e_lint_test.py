"""End to end: the quality gate through the caller template, our reusable lint-test workflow and its
composite actions, run by act. A clean project passes; each kind of problem fails the job and names
the file and line.

The project is a fresh `mlops-ci init` scaffold (the PR template a team gets, a small scikit-learn
pipeline with tests): it proves the same as the torch example at a fraction of the time. The
example passes the same gate in the demo (tests/test_demo.py) on every PR it plays."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_ci.cli import main
from mlops_ci.local.envs import COMPLETE
from testing.project import commit_change

pytestmark = pytest.mark.e2e

BRANCH = "feature/PROJ-9-quality"

DUPLICATED = '''"""Helpers."""


def scale(values, factor):
    """Scale and clip values."""
    scaled = []
    for value in values:
        result = value * factor
        if result > 1.0:
            result = 1.0
        if result < 0.0:
            result = 0.0
        scaled.append(result)
    return scaled
'''


@pytest.fixture(name="project")
def fixture_project(tmp_path: Path) -> Path:
    """A new project from `mlops-ci init`, on branches main and develop."""
    project = tmp_path / "quality"
    assert main(["init", str(project), "--org", "acme", "--ref", "v1"]) == 0
    return project


def lint_test(repo: Path, out: Path, *extra: str) -> tuple[int, dict]:
    code = main(["local", "pull_request", "--repo", str(repo), "--head", BRANCH, "--base", "develop",
                 "--title", "PROJ-9: quality", "--job", "lint-test", "--out", str(out), *extra])
    jobs = {job["name"]: job for job in json.loads((out / "result.json").read_text())["jobs"]}
    # docker-integration is off unless the caller turns it on: listed, as skipped.
    assert sorted(jobs) == ["lint-test/lint-test/docker-integration", "lint-test/lint-test/lint-test"]
    assert jobs["lint-test/lint-test/docker-integration"]["result"] == "skipped"
    return code, jobs["lint-test/lint-test/lint-test"]


def change(repo: Path, path: str, text: str) -> None:
    commit_change(repo, BRANCH, path, text, f"change {path}",
                  start=None if _branch_exists(repo) else "develop")


def _branch_exists(repo: Path) -> bool:
    return (repo / ".git" / "refs" / "heads" / "feature" / "PROJ-9-quality").exists()


def test_clean_project_passes_with_the_callers_gates(project, tmp_path):
    template = project / ".github" / "workflows" / "mlops-ci-pull-request.yml"
    change(project, ".github/workflows/mlops-ci-pull-request.yml",
           template.read_text().replace('coverage-fail-under: "80"', 'coverage-fail-under: "81"'))
    code, job = lint_test(project, tmp_path / "out")
    assert (code, job["result"]) == (0, "success"), job["errors"]
    assert "pylint" in job["summary"] and "(gate 81%)" in job["summary"], "the caller's gate reaches the step"
    assert job["summary"].count("### deps:") == 1, "the pre-commit hook repeats no section"
    assert (tmp_path / "out" / "artifacts" / "test-results").is_dir()


def test_lint_test_and_coverage_problems_each_name_their_file_and_line(project, tmp_path):
    """Lint findings (a bad name and an unused import, a duplicated block), a failing test and
    coverage under the gate in one PR: the lint step fails, the test step still runs and fails, and
    each problem is an annotation."""
    change(project, "src/badly.py", '"""Bad."""\nimport os\n\n\ndef Bad_Name():\n    """Bad."""\n    return 1\n')
    change(project, "src/helpers_a.py", DUPLICATED)
    change(project, "src/helpers_b.py", DUPLICATED.replace("def scale(", "def scale_again("))
    change(project, "tests/test_broken.py",
           '"""Broken."""\n\n\ndef test_broken():\n    """Fails."""\n    assert 1 == 2\n')
    code, job = lint_test(project, tmp_path / "out")
    assert (code, job["result"]) == (1, "failure")
    errors = job["errors"]
    assert any("src/badly.py:2" in error for error in errors), errors
    assert any("helpers_a" in error or "helpers_b" in error for error in errors), errors
    assert any("tests/test_broken.py" in error for error in errors), errors
    assert any("coverage" in error and "under the gate 80%" in error for error in errors), errors


# Code a team had before mlops-ci: no docstrings, two-space indent, an unused import, untested.
LEGACY = "import os\ndef f(x):\n  return x\ndef g(y):\n    z = y * 2\n    if z > 10:\n        return z\n    return -z\n"


def test_new_code_mode_judges_the_change_not_the_history(project, tmp_path):
    """An existing codebase under the gates (`quality: {mode: new-code}` on the base branch): its
    legacy code fails the whole-code gates, yet a PR adding clean, tested code passes, and the
    summary gives the changed lines' figures beside the base's."""
    config = project / ".github" / "mlops-ci.yml"
    commit_change(project, "develop", ".github/mlops-ci.yml",
                  config.read_text(encoding="utf-8") + "quality:\n  mode: new-code\n", "new-code gates")
    commit_change(project, "develop", "src/legacy.py", LEGACY, "the team's old code")
    change(project, "src/sums.py", '"""Sums."""\n\n\ndef add(x, y):\n    """x plus y."""\n    return x + y\n')
    change(project, "tests/test_sums.py", '"""Sums."""\nfrom src.sums import add\n\n\ndef test_add():\n'
                                          '    """Adds."""\n    assert add(2, 3) == 5\n')
    code, job = lint_test(project, tmp_path / "out")
    assert (code, job["result"]) == (0, "success"), job["errors"]
    assert "### lint, new code since origin/develop" in job["summary"], job["summary"]
    assert "### test, new code since origin/develop" in job["summary"], job["summary"]


def test_unpinned_dependency_fails_before_anything_is_installed(project, tmp_path):
    change(project, "requirements.txt", (project / "requirements.txt").read_text() + "requests\n")
    code, job = lint_test(project, tmp_path / "out")
    assert (code, job["result"]) == (1, "failure")
    assert any("requirements.txt:" in error for error in job["errors"]), job["errors"]


def install_seconds(log: str) -> float:
    """How long setup-env's install step took, as act logged it (a Go duration: 9.5s, 313.6ms, 1m2s)."""
    step = re.search(r"Success - Main Install the requirements \(pip\) \[(?:(\d+)m)?([\d.]+)(ms|s)\]", log)
    minutes, number, unit = step.groups()
    return int(minutes or 0) * 60 + float(number) / (1000 if unit == "ms" else 1)


def base_packages() -> str:
    """What the environment running mlops-ci has installed, asked afresh."""
    return subprocess.run([sys.executable, "-m", "pip", "freeze", "--all"], check=True, capture_output=True,
                          text=True).stdout


def test_requirements_go_into_a_cached_venv_never_into_the_users_environment(project, tmp_path):
    """A PR that pins another tabulate than the user's and adds toml (both pure Python, in the local
    package index): the run installs them into a venv of its own, the second run reuses it, and other
    requirements get another venv."""
    before = base_packages()
    assert "tabulate==0.10.0" in before and "toml==" not in before, "the case needs tabulate 0.10.0, no toml"
    requirements = (project / "requirements.txt").read_text()
    change(project, "requirements.txt", requirements + "tabulate==0.8.10\ntoml==0.10.2\n")
    cache = tmp_path / "envs"
    code, job = lint_test(project, tmp_path / "first", "--env-cache", str(cache))
    assert (code, job["result"]) == (0, "success"), job["errors"]
    (env,) = cache.glob(f"*/{COMPLETE}")
    made = env.stat().st_mtime_ns
    code, job = lint_test(project, tmp_path / "second", "--env-cache", str(cache))
    assert (code, job["result"]) == (0, "success"), job["errors"]
    assert base_packages() == before, "nothing was installed into the user's environment"
    assert sorted(cache.glob(f"*/{COMPLETE}")) == [env] and env.stat().st_mtime_ns == made, "reused"
    logs = [(tmp_path / run / "act.jsonl").read_text() for run in ("first", "second")]
    assert "installing requirements.txt into" in logs[0] and "installing requirements.txt" not in logs[1]
    seconds = [install_seconds(log) for log in logs]
    print(f"the install step with a new venv {seconds[0]:.2f} s, reusing it {seconds[1]:.2f} s")
    assert seconds[1] * 3 < seconds[0], seconds
    versions = subprocess.run([env.parent / "bin" / "python", "-c", "import importlib.metadata as m; "
                               "print(m.version('tabulate'), m.version('toml'))"],
                              check=True, capture_output=True, text=True).stdout.split()
    assert versions == ["0.8.10", "0.10.2"]

    change(project, "requirements.txt", requirements + "tabulate==0.8.10\n")
    code, job = lint_test(project, tmp_path / "third", "--env-cache", str(cache))
    assert (code, job["result"]) == (0, "success"), job["errors"]
    assert len(list(cache.glob(f"*/{COMPLETE}"))) == 2, "other requirements, another venv"
    assert base_packages() == before
