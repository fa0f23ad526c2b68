"""The Docker engine client: where the SDK looks for an engine, the innermost cause of its errors, and
a connection bounded in time (the real SDK against no engine)."""
# Test names say what each test checks.
# pylint: disable=missing-function-docstring

from __future__ import annotations

import sys
import time
from types import SimpleNamespace

import docker
import pytest
from docker.errors import DockerException

from mlops_ci.clients import docker as docker_engine
from mlops_ci.core.errors import MlopsCiError


def test_engine_address(monkeypatch):
    assert docker_engine.engine_address({"DOCKER_HOST": "tcp://10.0.0.2:2376"}) == ("tcp://10.0.0.2:2376",
                                                                                   "DOCKER_HOST")
    contexts = {None: SimpleNamespace(Name="default", Host="unix:///var/run/docker.sock"),
                "remote": SimpleNamespace(Name="remote", Host="ssh://ci@builder"),
                "empty": SimpleNamespace(Name="empty", Host=None)}

    def get_context(name):
        if name == "broken":
            raise DockerException("bad meta.json")
        return contexts.get(name)

    monkeypatch.setattr(docker.context.ContextAPI, "get_context", staticmethod(get_context))
    default = ("unix:///var/run/docker.sock", "the default socket")
    assert docker_engine.engine_address({}) == default
    assert docker_engine.engine_address({"DOCKER_CONTEXT": "remote"}) == ("ssh://ci@builder",
                                                                        "Docker context 'remote'")
    for name in ("empty", "broken", "missing"):
        assert docker_engine.engine_address({"DOCKER_CONTEXT": name}) == default


def test_reason_is_the_innermost_cause():
    try:
        try:
            raise FileNotFoundError(2, "No such file or directory")
        except OSError as inner:
            raise DockerException("Error while fetching server API version: ...") from inner
    except DockerException as error:
        assert docker_engine.reason(error) == "No such file or directory"
    assert docker_engine.reason(ValueError("x" * 300)).endswith("...")
    assert docker_engine.reason(ValueError()) == "ValueError"


def test_connect_bounds_the_first_request_then_relaxes_the_timeout(monkeypatch):
    calls = {}

    def from_env(**kwargs):
        calls.update(kwargs)
        return SimpleNamespace(api=SimpleNamespace(timeout=kwargs["timeout"]))

    monkeypatch.setattr(docker, "from_env", from_env)
    client = docker_engine.connect({"DOCKER_HOST": "tcp://127.0.0.1:2375"})
    assert calls == {"timeout": docker_engine.CONNECT_TIMEOUT_S,
                     "environment": {"DOCKER_HOST": "tcp://127.0.0.1:2375"}}
    assert client.api.timeout == docker_engine.API_TIMEOUT_S


def test_connect_without_the_sdk(monkeypatch):
    monkeypatch.setitem(sys.modules, "docker", None)
    with pytest.raises(MlopsCiError, match="Docker SDK for Python is not installed"):
        docker_engine.connect({})


@pytest.mark.parametrize("host", ["unix:///nonexistent.sock", "foo://x"])
def test_connect_to_no_engine_says_what_it_tried(host):
    started = time.monotonic()
    with pytest.raises(MlopsCiError) as raised:
        docker_engine.connect({"DOCKER_HOST": host})
    assert time.monotonic() - started < docker_engine.CONNECT_TIMEOUT_S
    assert raised.value.message.startswith(f"no Docker engine reachable at {host} (DOCKER_HOST: ")
    assert raised.value.message.endswith("start Docker or set DOCKER_HOST")
