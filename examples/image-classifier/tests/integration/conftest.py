"""Integration tests: the pipeline run end to end the way DVC runs it, one process per stage.

Written to run inside the project's container (``mlops-ci docker-test`` builds the Dockerfile, whose
default command runs this folder), they pass on a developer machine too. Every test here carries the
``integration`` marker, so ``python -m pytest -m "not integration"`` leaves them out.
"""
import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``integration`` marker (the tests in this folder carry it)."""
    config.addinivalue_line("markers", "integration: end-to-end pipeline tests, run in the container")
