"""End to end: the quality gate on the example project, through the caller template, our reusable
lint-test workflow and its composite actions, run by act. A clean project passes; each kind of
problem fails the job and names the file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_ci.cli import main
from mlops_ci.sandbox.project import commit_change

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


def lint_test(repo: Path, out: Path) -> tuple[int, dict]:
    code = main(["local", "pull_request", "--repo", str(repo), "--head", BRANCH, "--base", "develop",
                 "--title", "PROJ-9: quality", "--job", "lint-test", "--out", str(out)])
    jobs = json.loads((out / "result.json").read_text())["jobs"]
    assert [job["name"] for job in jobs] == ["lint-test/lint-test/lint-test"]
    return code, jobs[0]


def change(repo: Path, path: str, text: str) -> None:
    commit_change(repo, BRANCH, path, text, f"change {path}",
                  start=None if _branch_exists(repo) else "develop")


def _branch_exists(repo: Path) -> bool:
    return (repo / ".git" / "refs" / "heads" / "feature" / "PROJ-9-quality").exists()


def test_clean_project_passes(project_repo, tmp_path):
    change(project_repo, "README.md", "The digits project.\n")
    code, job = lint_test(project_repo, tmp_path / "out")
    assert (code, job["result"]) == (0, "success"), job["errors"]
    assert "pylint" in job["summary"] and "coverage" in job["summary"].lower()
    assert (tmp_path / "out" / "artifacts" / "test-results").is_dir()


@pytest.mark.parametrize(("path", "text", "expected"), [
    ("src/badly.py", '"""Bad."""\nimport os\n\n\ndef Bad_Name():\n    """Bad."""\n    return 1\n',
     "src/badly.py:2"),
    ("tests/test_broken.py", '"""Broken."""\n\n\ndef test_broken():\n    """Fails."""\n    assert 1 == 2\n',
     "tests/test_broken.py"),
    ("requirements.txt", None, "requirements.txt:"),
])
def test_each_problem_fails_and_names_file_and_line(project_repo, tmp_path, path, text, expected):
    if text is None:  # an unpinned dependency appended to the real requirements
        text = (project_repo / path).read_text() + "requests\n"
    change(project_repo, path, text)
    code, job = lint_test(project_repo, tmp_path / "out")
    assert (code, job["result"]) == (1, "failure")
    assert any(expected in error for error in job["errors"]), job["errors"]


def test_duplicated_block_fails(project_repo, tmp_path):
    change(project_repo, "src/helpers_a.py", DUPLICATED)
    change(project_repo, "src/helpers_b.py", DUPLICATED.replace("scale", "scale_again"))
    code, job = lint_test(project_repo, tmp_path / "out")
    assert code == 1
    assert any("helpers_a" in error or "helpers_b" in error for error in job["errors"]), job["errors"]


def test_coverage_under_the_gate_fails(project_repo, tmp_path):
    template = project_repo / ".github" / "workflows" / "mlops-ci-pull-request.yml"
    change(project_repo, ".github/workflows/mlops-ci-pull-request.yml",
           template.read_text().replace('coverage-fail-under: "80"', 'coverage-fail-under: "99.9"'))
    code, job = lint_test(project_repo, tmp_path / "out")
    assert code == 1
    assert any("coverage" in error.lower() for error in job["errors"]), job["errors"]
