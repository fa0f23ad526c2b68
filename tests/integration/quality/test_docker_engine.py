"""`mlops-ci docker-test` in a real Docker engine: the example image builds and its integration tests
pass."""
# pylint: disable=missing-function-docstring

from __future__ import annotations

import os
import uuid

import docker
import pytest
from docker.errors import ImageNotFound

from mlops_ci.cli import main
from testing.docker import MACHINE_DOCKER, engine_or_skip, isolated  # noqa: F401  autouse fixture
from testing.fixtures import EXAMPLE


@pytest.mark.services
@pytest.mark.slow
def test_the_example_image_builds_and_its_integration_tests_pass_in_a_real_engine(capsys, monkeypatch):
    """What the docker-integration job does, for real: build the example, run its CMD, clean up."""
    for name, value in MACHINE_DOCKER.items():
        monkeypatch.setenv(name, value)
    engine_or_skip(os.environ)
    tag = f"mlops-ci-it/self-test:{uuid.uuid4().hex[:12]}"
    code = main(["docker-test", "--context", str(EXAMPLE), "--tag", tag, "--timeout", "900",
                 "--build-arg", "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu"])
    out = capsys.readouterr().out
    assert code == 0, out[-4000:]
    assert "docker-test: passed: python -m pytest -q -p no:cacheprovider tests/integration exited 0" in out
    client = docker.from_env()
    try:
        with pytest.raises(ImageNotFound):  # removed afterwards: no --keep-image
            client.images.get(tag)
    finally:
        client.close()
