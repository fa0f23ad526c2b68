"""The example project passes `mlops-ci lint` and `test` outside act."""

from __future__ import annotations

import shutil

import pytest

from testing.fixtures import EXAMPLE
from testing.quality import run_cli


@pytest.mark.slow
def test_example_project_passes_lint_and_test(tmp_path):
    project = tmp_path / "image-classifier"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(
        "__pycache__", ".pytest_cache", ".coverage*", "test-results", "mlruns"))
    lint = run_cli(project, "lint", "--report", "lint.json")
    assert lint.code == 0, lint.out + lint.err
    assert lint.outputs["score"] == "10.00" and "pyproject.toml (project)" in lint.summary
    test = run_cli(project, "test", "--cov", "src", "--lint-report", "lint.json", "--",
                   "-p", "no:cacheprovider")
    assert test.code == 0, test.out[-3000:] + test.err
    assert int(test.outputs["passed"]) > 10 and test.outputs["failed"] == "0"
    assert float(test.outputs["coverage"]) >= 80
