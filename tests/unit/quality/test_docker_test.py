"""`mlops-ci docker-test`: everything up to the engine call (tags, build and run arguments, options),
`execute` against a stand-in client, the CLI against no engine, and the example's Dockerfile."""
# Test names say what each test checks.
# pylint: disable=missing-function-docstring

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from docker.errors import APIError, ImageNotFound
from docker.utils.build import exclude_paths

from mlops_ci.clients import docker as docker_engine
from mlops_ci.core.proc import git_output
from mlops_ci.quality import docker_test
from mlops_ci.cli import main
from mlops_ci.quality.docker_test import Plan
from mlops_ci.core.errors import MlopsCiError
from testing.docker import PING_TIMEOUT_S, engine_or_skip, isolated  # noqa: F401  autouse fixture

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "image-classifier"
SHA = "0123456789abcdef0123456789abcdef01234567"
SECRET = "s3cr3t-value-never-printed"
def no_git(_folder, *_args):
    return None


def fake_git(sha: str = SHA, remote: str | None = "git@github.com:acme/digits.git"):
    answers = {"rev-parse": sha, "remote": remote}
    return lambda _folder, *args: answers[args[0]]


def project(tmp_path: Path, dockerfile: str = "FROM python:3.11-slim\nARG PYTHON_VERSION\n") -> Path:
    folder = tmp_path / "My Project"
    folder.mkdir(exist_ok=True)
    (folder / "Dockerfile").write_text(dockerfile, encoding="utf-8")
    return folder


def make_plan(tmp_path: Path, **options) -> Plan:
    if "context" not in options:
        options["context"] = str(project(tmp_path))
    options.setdefault("environ", {})
    options.setdefault("git", fake_git())
    return docker_test.plan(**options)


# --- tags ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("digits", "digits"),
    ("My Repo!!", "my-repo"),
    ("Image_Classifier", "image_classifier"),
    ("a__b", "a__b"),
    ("a___b", "a-b"),
    ("a.-b", "a-b"),
    ("a---b", "a---b"),
    ("--x..", "x"),
    ("ÜBER straße", "ber-stra-e"),
    ("!!!", ""),
])
def test_sanitize_component(text, expected):
    assert docker_test.sanitize_component(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("0123456789ab", "0123456789ab"),
    ("Feature/X y", "Feature-X-y"),
    (".hidden", "hidden"),
    ("-x", "x"),
    ("", "latest"),
    ("...", "latest"),
    ("v" * 200, "v" * 128),
])
def test_sanitize_tag(text, expected):
    assert docker_test.sanitize_tag(text) == expected


@pytest.mark.parametrize(("repository", "tag"), [
    ("mlops-ci-it/Acme Digits", "ABC"),
    ("mlops-ci-it/", ""),
    ("//", "x y"),
    ("mlops-ci-it/" + "long-name." * 40, "t"),
    ("mlops-ci-it/a_.b", "_ok"),
    ("mlops-ci-it/ÄÖÜ", "é"),
])
def test_image_reference_is_always_valid(repository, tag):
    reference = docker_test.image_reference(repository, tag)
    assert docker_test.is_valid_reference(reference), reference
    assert len(reference.rpartition(":")[0]) <= 255


def test_image_reference_examples():
    assert docker_test.image_reference("mlops-ci-it/Acme Digits", "ABC") == "mlops-ci-it/acme-digits:ABC"
    assert docker_test.image_reference("!!", "") == "project:latest"


@pytest.mark.parametrize(("reference", "valid"), [
    ("digits", True),
    ("mlops-ci-it/digits:0123456789ab", True),
    ("localhost:5000/team/digits:v1.2", True),
    ("Registry.Example.com/team/digits", True),
    ("[::1]:5000/digits:x", True),
    ("digits:_private", True),
    ("Digits", False),
    ("team/Digits:v1", False),
    ("digits:", False),
    ("digits:-x", False),
    ("digits:a b", False),
    ("digits:" + "v" * 129, False),
    ("a" * 256, False),
    ("dig--its_x__y.z", True),
    ("digits.", False),
    ("digits:ümlaut", False),
])
def test_is_valid_reference(reference, valid):
    assert docker_test.is_valid_reference(reference) is valid


def test_default_tag_uses_repository_name_and_short_sha():
    assert docker_test.default_tag("Digits", SHA) == "mlops-ci-it/digits:0123456789ab"
    assert docker_test.default_tag("image-classifier", "") == "mlops-ci-it/image-classifier:latest"


def test_checked_tag_accepts_valid_and_refuses_invalid_with_a_suggestion():
    assert docker_test.checked_tag("ghcr.io/acme/digits:it") == "ghcr.io/acme/digits:it"
    with pytest.raises(MlopsCiError) as raised:
        docker_test.checked_tag("Acme/Digits:pr 7")
    assert raised.value.where == "--tag"
    assert "try acme/digits:pr-7" in raised.value.message
    with pytest.raises(MlopsCiError, match="try acme/digits:latest"):
        docker_test.checked_tag("Acme/Digits")


# --- the revision -------------------------------------------------------------------------------------

def test_revision_inside_actions_comes_from_github_variables(tmp_path):
    environ = {"GITHUB_REPOSITORY": "acme/Digits", "GITHUB_SHA": SHA.upper()}
    revision = docker_test.revision_of(tmp_path, environ, no_git)
    assert revision == docker_test.Revision("Digits", SHA, "https://github.com/acme/Digits")
    environ["GITHUB_SERVER_URL"] = "https://github.example/"
    assert docker_test.revision_of(tmp_path, environ, no_git).url == "https://github.example/acme/Digits"


def test_revision_outside_actions_comes_from_git_and_the_folder_name(tmp_path):
    revision = docker_test.revision_of(tmp_path, {}, fake_git())
    assert revision == docker_test.Revision(tmp_path.name, SHA, "https://github.com/acme/digits")


def test_revision_without_git_has_no_sha_or_url(tmp_path):
    assert docker_test.revision_of(tmp_path, {}, no_git) == docker_test.Revision(tmp_path.name, "", "")


def test_revision_ignores_a_sha_that_is_not_one(tmp_path):
    revision = docker_test.revision_of(tmp_path, {"GITHUB_REPOSITORY": "a/b", "GITHUB_SHA": "main"}, no_git)
    assert revision.sha == ""


def test_revision_falls_back_to_git_for_the_sha_inside_actions(tmp_path):
    revision = docker_test.revision_of(tmp_path, {"GITHUB_REPOSITORY": "a/b"}, fake_git())
    assert revision.sha == SHA


def test_revision_from_git_in_a_repository_outside_one_and_without_git(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "x"],
                 ["remote", "add", "origin", "https://user:token@github.com/acme/digits.git"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    sha = (git_output(repo, "rev-parse", "HEAD") or "").strip()
    assert len(sha) == 40
    revision = docker_test.revision_of(repo, {}, git_output)
    assert revision == docker_test.Revision("repo", sha, "https://github.com/acme/digits")
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert git_output(outside, "rev-parse", "HEAD") is None
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    assert git_output(repo, "rev-parse", "HEAD") is None


@pytest.mark.parametrize(("remote", "url"), [
    ("https://github.com/acme/digits.git", "https://github.com/acme/digits"),
    ("https://user:token@github.com/acme/digits.git", "https://github.com/acme/digits"),
    ("git@github.com:acme/digits.git", "https://github.com/acme/digits"),
    ("ssh://git@gitlab.example:2222/team/digits.git", "https://gitlab.example/team/digits"),
    ("http://localhost:3000/acme/digits", "https://localhost:3000/acme/digits"),
    ("https://github.com/acme/digits.git?x=1#frag", "https://github.com/acme/digits"),
    ("/srv/git/digits.git", ""),
    ("file:///srv/git/digits.git", ""),
    ("../digits", ""),
    ("https://github.com/", ""),
    ("", ""),
])
def test_public_url(remote, url):
    assert docker_test.public_url(remote) == url


# --- options ------------------------------------------------------------------------------------------

def test_parse_build_args():
    assert docker_test.parse_build_args(["A=1", "B=x=y", "C=", "A=2"]) == {"A": "2", "B": "x=y", "C": ""}
    assert not docker_test.parse_build_args([])


@pytest.mark.parametrize("item", ["NOEQUALS", f"1X={SECRET}", f"={SECRET}", f"A-B={SECRET}", "A B=1"])
def test_malformed_build_arg_is_refused_without_showing_its_value(item):
    with pytest.raises(MlopsCiError) as raised:
        docker_test.parse_build_args([item])
    assert raised.value.where == "--build-arg"
    assert "NAME=VALUE" in raised.value.message
    assert SECRET not in str(raised.value)


def test_container_environment_passes_values_and_lists_missing_names():
    environ = {"TOKEN": SECRET, "EMPTY": ""}
    passed, missing = docker_test.container_environment(["TOKEN", "EMPTY", "NOPE", "NOPE"], environ)
    assert passed == {"TOKEN": SECRET, "EMPTY": ""}
    assert missing == ["NOPE"]


def test_env_with_a_value_or_a_bad_name_is_refused():
    with pytest.raises(MlopsCiError) as raised:
        docker_test.container_environment([f"TOKEN={SECRET}"], {})
    assert raised.value.where == "--env" and "'TOKEN'" in raised.value.message
    assert SECRET not in str(raised.value)
    with pytest.raises(MlopsCiError, match="not an environment variable name"):
        docker_test.container_environment(["9LIVES"], {})


def test_command_argv_splits_like_a_shell_without_one():
    assert docker_test.command_argv(None) is None
    assert docker_test.command_argv('python -m pytest -q -k "a and not b" tests/integration') == [
        "python", "-m", "pytest", "-q", "-k", "a and not b", "tests/integration"]
    # Shell syntax stays literal: no shell runs it.
    assert docker_test.command_argv("pytest; rm -rf / $HOME") == ["pytest;", "rm", "-rf", "/", "$HOME"]


@pytest.mark.parametrize(("command", "message"), [("", "empty"), ("   ", "empty"),
                                                  ("pytest 'unclosed", "cannot split")])
def test_command_argv_refuses_empty_and_unsplittable(command, message):
    with pytest.raises(MlopsCiError, match=message) as raised:
        docker_test.command_argv(command)
    assert raised.value.where == "--command"


def test_dockerfile_instructions_join_continuations_and_drop_comments():
    text = ("# syntax=docker/dockerfile:1\nARG A=1 B\nfrom python:3.11 AS base\n\n"
            "RUN pip install \\\n    # a comment inside\n    x \\\n    y\nCMD [\"pytest\"]\n")
    assert docker_test.dockerfile_instructions(text) == [
        ("ARG", "A=1 B"), ("FROM", "python:3.11 AS base"), ("RUN", "pip install x y"), ("CMD", '["pytest"]')]
    assert docker_test.declared_args(text) == {"A", "B"}


def test_resolve_dockerfile(tmp_path, monkeypatch):
    folder = project(tmp_path)
    assert docker_test.resolve_dockerfile(folder, None) == folder / "Dockerfile"
    (folder / "docker").mkdir()
    (folder / "docker" / "it.Dockerfile").write_text("FROM x\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    context = Path("My Project")
    assert docker_test.resolve_dockerfile(context, "docker/it.Dockerfile") == context / "docker/it.Dockerfile"
    absolute = folder / "docker" / "it.Dockerfile"
    assert docker_test.resolve_dockerfile(context, str(absolute)) == absolute
    with pytest.raises(MlopsCiError, match="relative to the context, unlike docker build -f") as raised:
        docker_test.resolve_dockerfile(context, "My Project/docker/it.Dockerfile")
    assert raised.value.where == "My Project/My Project/docker/it.Dockerfile"
    with pytest.raises(MlopsCiError, match="no such folder") as raised:
        docker_test.resolve_dockerfile(tmp_path / "missing", None)
    assert raised.value.where == str(tmp_path / "missing")
    (folder / "Dockerfile").unlink()
    with pytest.raises(MlopsCiError) as raised:
        docker_test.resolve_dockerfile(folder, None)
    assert raised.value.message == "no Dockerfile here"
    assert raised.value.where == str(folder / "Dockerfile")


# --- the plan -----------------------------------------------------------------------------------------

def test_plan_build_kwargs(tmp_path):
    the_plan = make_plan(tmp_path, build_args=["PYTHON_VERSION=3.11.7"], target="test")
    assert the_plan.build_kwargs() == {
        "path": str((tmp_path / "My Project").resolve()),
        "dockerfile": "Dockerfile",
        "tag": "mlops-ci-it/my-project:0123456789ab",
        "buildargs": {"PYTHON_VERSION": "3.11.7"},
        "labels": {"org.opencontainers.image.revision": SHA,
                   "org.opencontainers.image.source": "https://github.com/acme/digits"},
        "target": "test",
        "rm": True, "forcerm": True, "decode": True,
    }
    assert not the_plan.warnings


def test_plan_inside_actions_tags_by_repository_and_labels_source(tmp_path):
    environ = {"GITHUB_REPOSITORY": "Acme/Digits", "GITHUB_SHA": SHA}
    the_plan = make_plan(tmp_path, environ=environ, git=no_git)
    assert the_plan.tag == "mlops-ci-it/digits:0123456789ab"
    assert the_plan.labels == {"org.opencontainers.image.revision": SHA,
                               "org.opencontainers.image.source": "https://github.com/Acme/Digits"}


def test_plan_without_git_tags_latest_and_sets_no_labels(tmp_path):
    the_plan = make_plan(tmp_path, git=no_git)
    assert the_plan.tag == "mlops-ci-it/my-project:latest"
    assert not the_plan.labels
    assert the_plan.build_kwargs()["target"] is None


def test_plan_given_tag_is_used_as_is(tmp_path):
    assert make_plan(tmp_path, tag="localhost:5000/digits:it").tag == "localhost:5000/digits:it"
    with pytest.raises(MlopsCiError, match="not a valid image reference"):
        make_plan(tmp_path, tag="Digits:it")


def test_plan_run_kwargs_argv_and_environment_never_shown(tmp_path):
    the_plan = make_plan(tmp_path, command="python -m pytest -q tests/integration",
                         env=["TOKEN", "MISSING"], environ={"TOKEN": SECRET})
    assert the_plan.run_kwargs() == {"image": the_plan.tag,
                                     "command": ["python", "-m", "pytest", "-q", "tests/integration"],
                                     "environment": {"TOKEN": SECRET}}
    assert the_plan.shown_command() == "python -m pytest -q tests/integration"
    assert SECRET not in repr(the_plan)
    assert SECRET not in " ".join(the_plan.warnings)
    assert the_plan.warnings == ("--env MISSING: not set here, so the container does not get it",)


def test_plan_without_command_runs_the_image_cmd(tmp_path):
    the_plan = make_plan(tmp_path)
    assert the_plan.run_kwargs() == {"image": the_plan.tag, "command": None, "environment": {}}
    assert the_plan.shown_command() == "the image's CMD"


def test_plan_warns_about_build_args_the_dockerfile_does_not_declare(tmp_path):
    the_plan = make_plan(tmp_path, build_args=["PYTHON_VERSION=3.12", "TYPO=1"])
    assert len(the_plan.warnings) == 1
    warning = the_plan.warnings[0]
    assert warning.startswith("--build-arg TYPO:") and "declares no ARG TYPO" in warning


def test_plan_dockerfile_inside_and_outside_the_context(tmp_path):
    folder = project(tmp_path)
    (folder / "docker").mkdir()
    (folder / "docker" / "it.Dockerfile").write_text("FROM x\n", encoding="utf-8")
    (tmp_path / "outside.Dockerfile").write_text("FROM x\n", encoding="utf-8")
    inside = make_plan(tmp_path, context=str(folder), dockerfile="docker/it.Dockerfile")
    assert inside.dockerfile == "docker/it.Dockerfile"
    assert make_plan(tmp_path, context=str(folder),
                     dockerfile=str(folder / "docker" / "it.Dockerfile")).dockerfile == "docker/it.Dockerfile"
    outside = make_plan(tmp_path, context=str(folder), dockerfile=str(tmp_path / "outside.Dockerfile"))
    assert outside.dockerfile == str((tmp_path / "outside.Dockerfile").resolve())


def test_plan_refuses_bad_timeout_and_unreadable_dockerfile(tmp_path):
    folder = project(tmp_path)
    for timeout in (0, -1, float("nan")):
        with pytest.raises(MlopsCiError, match="positive"):
            make_plan(tmp_path, context=str(folder), timeout=timeout)
    (folder / "Dockerfile").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(MlopsCiError, match="cannot read"):
        make_plan(tmp_path, context=str(folder))


def test_plan_keeps_timeout_and_keep_image(tmp_path):
    the_plan = make_plan(tmp_path, timeout=60, keep_image=True)
    assert (the_plan.timeout, the_plan.keep_image) == (60, True)


# --- execute with a stand-in client -------------------------------------------------------------------

BUILD_OK = ({"stream": "Step 1/2 : FROM python:3.11-slim\n"},
            {"status": "Pulling from library/python", "id": "3.11-slim"},
            {"status": "Downloading", "progress": "[==>  ]", "id": "abc"},
            {"stream": " ---> 1234\n"}, {"stream": "Step 2/2 : CMD [\"pytest\"]\n"},
            {"aux": {"ID": "sha256:feed"}}, {"stream": "Successfully built feed\n"})
BUILD_FAILS = ({"stream": "Step 1/3 : FROM python:3.11-slim\n"}, {"stream": " ---> 1234\n"},
               {"stream": "Step 2/3 : RUN pip install -r requirements.txt\n"},
               {"stream": "ERROR: No matching distribution found for torch==9.9\n"},
               {"errorDetail": {"code": 1, "message": "The command '/bin/sh -c pip install -r "
                                "requirements.txt' returned a non-zero code: 1"},
                "error": "The command '/bin/sh -c pip install -r requirements.txt' returned a non-zero "
                         "code: 1"},
               {"stream": "never read\n"})


class FakeContainer:  # pylint: disable=too-many-instance-attributes
    """A test container: prints `output`, exits `status`; `hang` waits until killed."""

    # pylint: disable-next=too-many-arguments
    def __init__(self, output=(b"collected 3 items\n", b"3 passed\n"), status=0, *, hang=False,
                 oom=False, logs_error=None, reload_error=None, remove_error=None):
        self.output, self.status, self.hang = output, status, hang
        self.logs_error, self.reload_error, self.remove_error = logs_error, reload_error, remove_error
        self.attrs = {"State": {"OOMKilled": oom}}
        self.killed = threading.Event()
        self.calls: list[str] = []

    def start(self):
        self.calls.append("start")

    def logs(self, *, stream, follow):
        assert stream and follow
        self.calls.append("logs")
        yield from self.output
        if self.logs_error:
            raise self.logs_error
        if self.hang:
            assert self.killed.wait(10), "never killed"

    def wait(self):
        self.calls.append("wait")
        return {"StatusCode": 137 if self.killed.is_set() else self.status}

    def kill(self):
        self.calls.append("kill")
        self.killed.set()
        raise APIError("container is not running")  # as if it had exited meanwhile: ignored

    def reload(self):
        if self.reload_error:
            raise self.reload_error

    def remove(self, *, force, v):
        assert force and v
        self.calls.append("remove")
        if self.remove_error:
            raise self.remove_error


class FakeClient:  # pylint: disable=too-many-instance-attributes
    """The parts of docker.DockerClient that execute uses."""

    # pylint: disable-next=too-many-arguments
    def __init__(self, build=BUILD_OK, container=None, *, cmd=("python", "-m", "pytest"), build_error=None,
                 create_error=None, image_remove_error=None, image_get_error=None):
        self.build_entries, self.build_error = build, build_error
        self.container = container or FakeContainer()
        self.create_error, self.image_remove_error = create_error, image_remove_error
        self.image_get_error = image_get_error
        self.cmd = list(cmd)
        self.build_kwargs = None
        self.create_kwargs = None
        self.removed_images: list[str] = []
        self.closed = False
        self.api = SimpleNamespace(build=self._build, timeout=None)
        self.containers = SimpleNamespace(create=self._create)
        self.images = SimpleNamespace(get=self._get, remove=self._remove_image)

    def _build(self, **kwargs):
        self.build_kwargs = kwargs
        if self.build_error:
            raise self.build_error
        yield from self.build_entries

    def _create(self, **kwargs):
        self.create_kwargs = kwargs
        if self.create_error:
            raise self.create_error
        return self.container

    def _get(self, tag):
        if self.image_get_error:
            raise self.image_get_error
        return SimpleNamespace(attrs={"Config": {"Entrypoint": None, "Cmd": self.cmd}, "RepoTags": [tag]})

    def _remove_image(self, *, image):
        self.removed_images.append(image)
        if self.image_remove_error:
            raise self.image_remove_error

    def close(self):
        self.closed = True


def test_execute_passes_when_the_container_exits_0(tmp_path, capsys):
    the_plan = make_plan(tmp_path, env=["TOKEN"], environ={"TOKEN": SECRET})
    client = FakeClient()
    outcome = docker_test.execute(the_plan, client)
    assert outcome.exit_code == 0 and outcome.status_code == 0
    assert outcome.result == "passed: exit 0"
    assert outcome.command == "python -m pytest"  # read back from the image's CMD
    assert outcome.tail == ("collected 3 items", "3 passed")
    assert client.build_kwargs == the_plan.build_kwargs()
    assert client.create_kwargs == the_plan.run_kwargs()
    assert client.container.calls == ["start", "logs", "wait", "remove"]
    assert client.removed_images == [the_plan.tag]
    out = capsys.readouterr().out
    assert "Step 1/2 : FROM python:3.11-slim" in out
    assert "3.11-slim: Pulling from library/python" in out and "Downloading" not in out
    assert "3 passed\n" in out and "environment passed: TOKEN" in out
    assert SECRET not in out


def test_execute_fails_when_the_container_exits_non_zero(tmp_path):
    lines = [f"line {number}\n".encode() for number in range(30)]
    client = FakeClient(container=FakeContainer(output=lines, status=3))
    the_plan = make_plan(tmp_path, command="pytest -q tests/integration")
    outcome = docker_test.execute(the_plan, client)
    assert outcome.exit_code == 1 and outcome.status_code == 3
    assert outcome.result == "failed: exit 3"
    assert outcome.message == f"pytest -q tests/integration exited 3 in {the_plan.tag}"
    assert outcome.tail == tuple(f"line {number}" for number in range(10, 30))
    assert client.container.calls[-1] == "remove"
    assert client.removed_images == [the_plan.tag]


def test_execute_reports_a_container_killed_for_memory(tmp_path):
    client = FakeClient(container=FakeContainer(status=137, oom=True))
    outcome = docker_test.execute(make_plan(tmp_path), client)
    assert outcome.exit_code == 1 and outcome.result == "failed: exit 137 (killed: out of memory)"


def test_execute_stops_tests_that_run_past_the_timeout(tmp_path):
    client = FakeClient(container=FakeContainer(hang=True))
    started = time.monotonic()
    outcome = docker_test.execute(make_plan(tmp_path, timeout=0.2), client)
    assert time.monotonic() - started < 5
    assert outcome.exit_code == 1 and outcome.result == "timed out after 0.2 s"
    assert "ran longer than --timeout 0.2 s" in outcome.message
    assert client.container.calls == ["start", "logs", "kill", "wait", "remove"]
    assert client.removed_images == [client.create_kwargs["image"]]


def test_execute_build_failure_is_exit_2_with_the_failing_step(tmp_path):
    client = FakeClient(build=BUILD_FAILS)
    outcome = docker_test.execute(make_plan(tmp_path), client)
    assert outcome.exit_code == 2 and outcome.result == "build failed"
    assert outcome.message == ("build failed at Step 2/3 : RUN pip install -r requirements.txt: The command "
                               "'/bin/sh -c pip install -r requirements.txt' returned a non-zero code: 1")
    assert "ERROR: No matching distribution found for torch==9.9" in outcome.tail
    assert client.create_kwargs is None and not client.removed_images


def test_execute_build_failure_through_podmans_compatible_api(tmp_path):
    client = FakeClient(build=({"stream": "STEP 1/2: FROM python:3.11-slim\n"},
                               {"stream": "STEP 2/2: RUN false\n"},
                               {"error": "building at STEP \"RUN false\": exit status 1"}))
    outcome = docker_test.execute(make_plan(tmp_path), client)
    assert outcome.message == ('build failed at STEP 2/2: RUN false: building at STEP "RUN false": '
                               "exit status 1")


def test_execute_build_error_before_any_step(tmp_path):
    client = FakeClient(build=[{"error": "dockerfile parse error line 3: unknown instruction: FORM"}])
    outcome = docker_test.execute(make_plan(tmp_path), client)
    assert outcome.exit_code == 2
    assert outcome.message == "build failed: dockerfile parse error line 3: unknown instruction: FORM"


def test_execute_build_refused_by_the_engine(tmp_path):
    client = FakeClient(build_error=APIError("500 Server Error", explanation="no space left on device"))
    outcome = docker_test.execute(make_plan(tmp_path), client)
    assert outcome.exit_code == 2 and outcome.message.startswith("build failed: the engine refused it: ")


def test_execute_keep_image_leaves_the_image(tmp_path):
    client = FakeClient()
    assert docker_test.execute(make_plan(tmp_path, keep_image=True), client).exit_code == 0
    assert not client.removed_images and client.container.calls[-1] == "remove"


def test_execute_engine_error_while_running_is_exit_2_and_still_cleans_up(tmp_path):
    broken = requests.exceptions.ConnectionError("Connection aborted.")
    client = FakeClient(container=FakeContainer(logs_error=broken))
    the_plan = make_plan(tmp_path)
    with pytest.raises(MlopsCiError, match="the Docker engine failed while running the tests") as raised:
        docker_test.execute(the_plan, client)
    assert raised.value.exit_code == 2
    assert client.container.calls[-1] == "remove"
    assert client.removed_images == [the_plan.tag]


def test_execute_create_refused(tmp_path):
    client = FakeClient(create_error=APIError("400", explanation="invalid environment"))
    with pytest.raises(MlopsCiError):
        docker_test.execute(make_plan(tmp_path), client)
    assert client.removed_images == [client.create_kwargs["image"]]


def test_cleanup_failures_are_warnings_and_a_missing_image_is_fine(tmp_path, capsys):
    container = FakeContainer(remove_error=APIError("409", explanation="removal in progress"),
                              reload_error=APIError("404"))
    client = FakeClient(container=container, image_remove_error=APIError("409", explanation="image in use"))
    assert docker_test.execute(make_plan(tmp_path), client).exit_code == 0
    err = capsys.readouterr().err
    assert "warning: docker-test: could not remove the test container" in err
    assert "warning: docker-test: could not remove the image" in err
    client = FakeClient(image_remove_error=ImageNotFound("gone"))
    assert docker_test.execute(make_plan(tmp_path), client).exit_code == 0
    assert "could not remove" not in capsys.readouterr().err


def test_execute_shows_the_plan_command_when_the_image_cannot_be_read(tmp_path):
    client = FakeClient(image_get_error=ImageNotFound("x"))
    assert docker_test.execute(make_plan(tmp_path), client).command == "the image's CMD"
    client = FakeClient(cmd=())
    assert docker_test.execute(make_plan(tmp_path), client).command == "the image's CMD"


def test_output_split_inside_a_character_and_without_final_newline(tmp_path, capsys):
    euro = "€ ok".encode()
    container = FakeContainer(output=(b"caf", euro[:1], euro[1:], b"\r\nlast"))
    outcome = docker_test.execute(make_plan(tmp_path), FakeClient(container=container))
    assert outcome.tail == ("caf€ ok", "last")
    assert "caf€ ok\r\nlast\n" in capsys.readouterr().out


def test_inside_actions_engine_output_cannot_issue_workflow_commands(tmp_path, capsys, actions):
    container = FakeContainer(output=(b"::add-mask::x\n", b"1 passed\n"))
    docker_test.execute(make_plan(tmp_path), FakeClient(container=container))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("::group::docker build ")
    stops = [line.split("::")[2] for line in lines if line.startswith("::stop-commands::")]
    assert len(stops) == 2 and all(len(token) == 32 for token in stops)
    for token in stops:
        assert lines.index(f"::stop-commands::{token}") < lines.index(f"::{token}::")
    mask = lines.index("::add-mask::x")
    assert lines.index(f"::stop-commands::{stops[1]}") < mask < lines.index(f"::{stops[1]}::")
    assert "::endgroup::" in lines
    assert not actions.exists()  # execute reports nothing itself: the command writes the summary


# --- the summary --------------------------------------------------------------------------------------

def test_summary_markdown_passed_and_failed(tmp_path):
    the_plan = make_plan(tmp_path, command="pytest -q")
    passed = docker_test.Outcome(0, "passed: exit 0", "pytest -q", 83.21, 12.34, 0, ("3 passed",))
    text = docker_test.summary_markdown(the_plan, passed)
    assert text.startswith("### docker-test: ✅ passed: exit 0\n")
    for row in ("| image | mlops-ci-it/my-project:0123456789ab |", "| build | 83.2 s |",
                "| test command | pytest -q |", "| result | passed: exit 0 |", "| duration | 12.3 s |"):
        assert row in text
    assert "<details>" not in text
    failed = docker_test.Outcome(1, "failed: exit 1", "pytest -q", 1.0, 2.0, 1,
                                 ("```boom```", "E  assert 1 == 2"))
    text = docker_test.summary_markdown(the_plan, failed)
    assert "### docker-test: ❌ failed: exit 1" in text
    assert "last lines of the test output" in text
    assert "````text\n```boom```\nE  assert 1 == 2\n````" in text
    build = docker_test.Outcome(2, "build failed", "pytest -q", 1.0, tail=("ERROR: x",), message="m")
    text = docker_test.summary_markdown(the_plan, build)
    assert "| duration | — |" in text and "last lines of the build output" in text


# --- the command line ---------------------------------------------------------------------------------

def cli(capsys, *args: str) -> tuple[int, str, str]:
    started = time.monotonic()
    code = main(["docker-test", *args])
    assert time.monotonic() - started < 15, "docker-test must not hang without an engine"
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_no_engine_at_docker_host(capsys, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    code, out, err = cli(capsys, "--context", str(EXAMPLE))
    assert code == 2
    assert "docker-test: building mlops-ci-it/" in out
    assert err.splitlines() == [
        "error: no Docker engine reachable at unix:///nonexistent.sock (DOCKER_HOST: No such file or "
        "directory): docker-test needs a Docker engine to build and run the image: start Docker or set "
        "DOCKER_HOST"]


@pytest.mark.skipif(Path("/var/run/docker.sock").exists(), reason="a Docker engine may answer here")
def test_cli_no_engine_at_the_default_socket(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.docker/config.json naming another context
    code, _, err = cli(capsys, "--context", str(EXAMPLE))
    assert code == 2
    assert err.startswith("error: no Docker engine reachable at unix:///var/run/docker.sock "
                          "(the default socket: ")
    assert "a Docker engine" in err and "start Docker or set DOCKER_HOST" in err


def test_cli_no_engine_inside_actions_is_an_error_annotation(capsys, monkeypatch, actions):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    code, out, _ = cli(capsys, "--context", str(EXAMPLE))
    assert code == 2
    assert "::error::no Docker engine reachable at unix:///nonexistent.sock" in out
    assert not actions.exists()


def test_cli_input_errors_come_before_the_engine(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    code, _, err = cli(capsys, "--context", str(tmp_path))
    assert code == 2 and err == f"error: {tmp_path / 'Dockerfile'}: no Dockerfile here\n"
    code, _, err = cli(capsys, "--context", str(EXAMPLE), "--build-arg", f"TORCH_INDEX_URL {SECRET}")
    assert code == 2 and err.startswith("error: --build-arg: expected NAME=VALUE") and SECRET not in err
    code, _, err = cli(capsys, "--context", str(tmp_path / "missing"))
    assert code == 2 and "no such folder" in err


@pytest.mark.parametrize("value", ["0", "-5", "soon", "inf"])
def test_cli_bad_timeout_is_a_usage_error(capsys, value):
    with pytest.raises(SystemExit) as raised:
        main(["docker-test", "--timeout", value])
    assert raised.value.code == 2
    assert "--timeout" in capsys.readouterr().err


@pytest.fixture(name="fake_engine")
def fixture_fake_engine(monkeypatch, tmp_path):
    """`connect` answers with a stand-in client; the example is built from a copy (no Git there)."""
    client = FakeClient()
    monkeypatch.setattr(docker_test, "connect", lambda: client)
    monkeypatch.setattr(docker_test, "git_output", no_git)
    copy = tmp_path / "image-classifier"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("data", "models", "plots", "eval"))
    monkeypatch.chdir(tmp_path)
    return client


def test_cli_passes(capsys, fake_engine, actions, monkeypatch):
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/digits")
    monkeypatch.setenv("GITHUB_SHA", SHA)
    monkeypatch.setenv("HF_TOKEN", SECRET)
    code, out, _ = cli(capsys, "--context", "image-classifier", "--env", "HF_TOKEN", "--build-arg",
                       "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu", "--keep-image",
                       "--timeout", "600")
    assert code == 0 and fake_engine.closed
    assert fake_engine.build_kwargs["tag"] == "mlops-ci-it/digits:0123456789ab"
    assert fake_engine.build_kwargs["buildargs"] == {
        "TORCH_INDEX_URL": "https://download.pytorch.org/whl/cpu"}
    assert fake_engine.create_kwargs["environment"] == {"HF_TOKEN": SECRET}
    assert fake_engine.removed_images == []
    assert ("docker-test: building mlops-ci-it/digits:0123456789ab from "
            f"{Path('image-classifier').resolve()}, Dockerfile: Dockerfile, "
            "build args: TORCH_INDEX_URL") in out
    assert "docker-test: passed: python -m pytest exited 0 in " in out
    assert "(environment passed: HF_TOKEN; timeout 600 s)" in out
    assert "image kept: mlops-ci-it/digits:0123456789ab" in out
    assert SECRET not in out and "download.pytorch.org" not in out
    summary = actions.read_text(encoding="utf-8")
    assert "### docker-test: ✅ passed: exit 0" in summary and SECRET not in summary


def test_cli_tests_fail(capsys, fake_engine, actions):
    fake_engine.container = FakeContainer(output=(b"E   assert 0.2 > 0.3\n", b"1 failed\n"), status=1)
    code, out, _ = cli(capsys, "--context", "image-classifier", "--dockerfile", "Dockerfile", "--command",
                       "pytest -q tests/integration", "--target", "test", "--keep-image")
    assert code == 1
    assert fake_engine.build_kwargs["target"] == "test"
    assert ("::error title=docker-test%3A integration tests failed::pytest -q tests/integration exited 1 in "
            "mlops-ci-it/image-classifier:latest; last lines:%0AE   assert 0.2 > 0.3%0A1 failed") in out
    assert "docker-test: image kept: mlops-ci-it/image-classifier:latest" in out
    assert "### docker-test: ❌ failed: exit 1" in actions.read_text(encoding="utf-8")


def test_cli_tests_fail_without_output(capsys, fake_engine):
    fake_engine.container = FakeContainer(output=(), status=5)
    code, _, err = cli(capsys, "--context", "image-classifier")
    assert code == 1
    assert err == "error: python -m pytest exited 5 in mlops-ci-it/image-classifier:latest\n"


def test_cli_build_fails(capsys, fake_engine, actions):
    fake_engine.build_entries = BUILD_FAILS
    code, out, _ = cli(capsys, "--context", "image-classifier", "--build-arg", "NOT_DECLARED=1")
    assert code == 2
    assert "::warning::docker-test: --build-arg NOT_DECLARED: " in out
    assert ("::error::image-classifier/Dockerfile: build failed at Step 2/3 : RUN pip install -r "
            "requirements.txt: The command") in out
    summary = actions.read_text(encoding="utf-8")
    assert "### docker-test: ❌ build failed" in summary and "No matching distribution" in summary


# --- the example project's container ------------------------------------------------------------------

def example_instructions() -> list[tuple[str, str]]:
    return docker_test.dockerfile_instructions((EXAMPLE / "Dockerfile").read_text(encoding="utf-8"))


def test_example_dockerfile_builds_what_the_integration_tests_need():
    instructions = example_instructions()
    keywords = [keyword for keyword, _ in instructions]
    args = dict(arguments.partition("=")[::2] for keyword, arguments in instructions if keyword == "ARG")
    base = next(arguments for keyword, arguments in instructions if keyword == "FROM")
    assert keywords[0] == "ARG" and keywords.count("FROM") == 1
    assert base.replace("${PYTHON_VERSION}", args["PYTHON_VERSION"]) == "python:3.11.7-slim-bookworm"
    copies = [arguments.split() for keyword, arguments in instructions if keyword == "COPY"]
    assert ["src/", "src/"] in copies and ["tests/", "tests/"] in copies
    copied = {source for sources in copies for source in sources[:-1]}
    assert {"requirements.txt", "params.yaml", "dvc.yaml", "pyproject.toml"} <= copied
    runs = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    assert "pip install --no-cache-dir -r requirements.txt" in runs
    assert '--index-url "${TORCH_INDEX_URL}"' in runs and args["TORCH_INDEX_URL"] == "https://pypi.org/simple"


def test_example_dockerfile_runs_as_a_user_and_its_cmd_runs_the_integration_tests():
    instructions = example_instructions()
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0") and not users[-1].startswith(("root:", "0:"))
    last_user = max(index for index, (keyword, _) in enumerate(instructions) if keyword == "USER")
    cmd = [arguments for keyword, arguments in instructions if keyword == "CMD"]
    assert len(cmd) == 1 and last_user < len(instructions) - 1
    argv = json.loads(cmd[0])  # exec form: no shell in the container either
    assert argv[:3] == ["python", "-m", "pytest"] and argv[-1] == "tests/integration"
    assert "MLOPS_CI_CONTAINER=1" in " ".join(arguments for keyword, arguments in instructions
                                              if keyword == "ENV").split()
    assert (EXAMPLE / "tests" / "integration").is_dir()


def test_example_dockerfile_needs_no_buildkit():
    text = (EXAMPLE / "Dockerfile").read_text(encoding="utf-8")
    for keyword, arguments in example_instructions():
        assert not (keyword == "RUN" and arguments.startswith("--mount")), "RUN --mount needs BuildKit"
        assert not (keyword in ("COPY", "ADD") and "--chmod" in arguments), "--chmod needs BuildKit"
        assert "<<" not in arguments, "heredocs need BuildKit"
    assert "# syntax=" not in text


def test_example_build_context_leaves_out_data_outputs_and_caches(tmp_path):
    copy = tmp_path / "image-classifier"
    shutil.copytree(EXAMPLE, copy)
    for name in ("data/raw/0/0000.png", "data/processed/train.npz", "models/model.pt", "plots/x.png",
                 "eval/predictions.csv", ".dvc/cache/files/md5/ab/cd", ".git/HEAD", "src/__pycache__/x.pyc",
                 "tests/integration/__pycache__/y.pyc", "metrics.json", "notebooks/.ipynb_checkpoints/x"):
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_text("x", encoding="utf-8")
    lines = (copy / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    sent = exclude_paths(str(copy), patterns)  # what the SDK puts in the build context
    assert not {path for path in sent
                if path.split("/")[0] in ("data", "models", "plots", "eval", ".git", "notebooks")
                or "__pycache__" in path or path.startswith(".dvc/cache") or path == "metrics.json"}
    needed = {"Dockerfile", "requirements.txt", "params.yaml", "dvc.yaml", "pyproject.toml",
              "src/train.py", "tests/conftest.py", "tests/integration/test_pipeline_end_to_end.py"}
    assert needed <= sent


# --- a real engine, where one answers (GitHub-hosted runners, developers' machines) ------------------

def test_no_engine_skips_fast_and_says_where_it_looked():
    started = time.monotonic()
    with pytest.raises(pytest.skip.Exception) as skipped:
        engine_or_skip({"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert time.monotonic() - started < PING_TIMEOUT_S
    assert str(skipped.value) == "no Docker engine at unix:///nonexistent.sock: No such file or directory"


