"""The docker-test tests' isolation from this machine's Docker and GitHub settings, and the real-engine
check, for fast and integration tests alike. A test module takes the autouse fixture with
``from testing.docker import isolated``."""

from __future__ import annotations

import os

import docker
import pytest

from mlops_ci.clients import docker as docker_engine

DOCKER_SETTINGS = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")
# This machine's Docker settings, for the one test that talks to its engine (`isolated` drops them).
MACHINE_DOCKER = {name: os.environ[name] for name in DOCKER_SETTINGS if name in os.environ}
# How long the real-engine test waits for the engine to answer before it skips.
PING_TIMEOUT_S = 2


@pytest.fixture(autouse=True)
def isolated(monkeypatch):
    """Outside Actions, with no GitHub variables and no Docker settings from this machine."""
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_REPOSITORY",
                 "GITHUB_SHA", "GITHUB_SERVER_URL", *DOCKER_SETTINGS):
        monkeypatch.delenv(name, raising=False)


def engine_or_skip(environ) -> None:
    """Skip the calling test, saying where it looked, unless a Docker engine answers a ping within
    PING_TIMEOUT_S seconds."""
    address, _ = docker_engine.engine_address(environ)
    try:
        client = docker.from_env(timeout=PING_TIMEOUT_S, environment=dict(environ))
        try:
            client.ping()
        finally:
            client.close()
    except docker_engine.engine_errors() as error:
        reason = docker_engine.reason(error)
        pytest.skip(f"no Docker engine at {address}: {reason}")
