"""The `init` tests' project, fast and integration alike: a folder scaffolded by `mlops-ci init`. A test
module takes the fixture with ``from testing.scaffold import fixture_project``."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_ci.cli import main


def scaffold(directory: Path, *extra: str) -> int:
    """`mlops-ci init DIRECTORY` for the org acme at v1.2.0, with `extra` options; its exit code."""
    return main(["init", str(directory), "--org", "acme", "--ref", "v1.2.0", *extra])


@pytest.fixture(name="project")
def fixture_project(tmp_path: Path) -> Path:
    """A project scaffolded into Churn_Model (a name the conventions change)."""
    project = tmp_path / "Churn_Model"
    assert scaffold(project) == 0
    return project
