"""The Docker engine, through the Docker SDK for Python: connect (DOCKER_HOST, else the current Docker
context, else the default socket), build an image, run a container and follow its output, clean up.

The SDK is imported inside the functions: it costs 0.25 s to import, and only `docker-test` needs it.
"""

from __future__ import annotations

import codecs
import os
import re
import shlex
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from mlops_ci.core import gha
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.core.text import show

# The engine must answer the first request within this; later requests (create, remove, ...) get
# API_TIMEOUT_S. The build, the log stream and the wait for the container have no HTTP timeout:
# --timeout bounds the tests, the CI job's timeout the build.
CONNECT_TIMEOUT_S = 10
API_TIMEOUT_S = 120
DEFAULT_SOCKET = "unix:///var/run/docker.sock"
TAIL_LINES = 20
TAIL_LINE_CHARS = 300
# "Step 2/9 : RUN ..." (Docker's classic builder); "STEP 2/9: RUN ..." (Podman's compatible API).
BUILD_STEP = re.compile(r"step \d+/\d+ ?: ", re.IGNORECASE)


def engine_address(environ: Mapping[str, str]) -> tuple[str, str]:
    """(address, where it comes from) of the engine the SDK will try: DOCKER_HOST, else the current
    Docker context (DOCKER_CONTEXT or ~/.docker/config.json), else the default socket."""
    host = environ.get("DOCKER_HOST", "").strip()
    if host:
        return host, "DOCKER_HOST"
    # pylint: disable-next=import-outside-toplevel  # the SDK: see connect
    from docker.context import ContextAPI
    from docker.errors import DockerException  # pylint: disable=import-outside-toplevel
    try:
        context = ContextAPI.get_context(environ.get("DOCKER_CONTEXT") or None)
    except (DockerException, OSError, ValueError):
        context = None
    if context is None or context.Name == "default" or not context.Host:
        return DEFAULT_SOCKET, "the default socket"
    return context.Host, f"Docker context {show(context.Name)}"


def engine_errors() -> tuple[type[BaseException], ...]:
    """What the SDK raises when the engine refuses a request or the connection to it fails."""
    # pylint: disable=import-outside-toplevel  # the SDK costs 0.25 s to import: only this command needs it
    import requests.exceptions
    import urllib3.exceptions
    from docker.errors import DockerException
    return DockerException, requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError


def reason(error: BaseException) -> str:
    """The innermost cause of an error, in a few words (an OS error's text, else its message)."""
    seen = {id(error)}
    while (inner := error.__cause__ or error.__context__) is not None and id(inner) not in seen:
        seen.add(id(inner))
        error = inner
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def connect(environ: Mapping[str, str] | None = None, timeout: float = CONNECT_TIMEOUT_S) -> Any:
    """A `docker.DockerClient` that has answered a request within `timeout` seconds.

    Raises MlopsCiError naming the address tried when there is no SDK or no engine answers.
    """
    environ = os.environ if environ is None else environ
    try:
        import docker  # pylint: disable=import-outside-toplevel  # 0.25 s: only this command needs it
    except ImportError as error:
        raise MlopsCiError("the Docker SDK for Python is not installed: pip install docker") from error
    address, source = engine_address(environ)
    try:
        # from_env asks the engine for its API version: that is the request bounded by `timeout`.
        client = docker.from_env(timeout=timeout, environment=dict(environ))
    except docker.errors.DockerException as error:
        raise MlopsCiError(f"no Docker engine reachable at {address} ({source}: {reason(error)}): "
                           "docker-test needs a Docker engine to build and run the image: start Docker "
                           "or set DOCKER_HOST") from error
    client.api.timeout = API_TIMEOUT_S
    return client


class _Echo:
    """Copies engine output to the log as it arrives and keeps its last lines."""

    def __init__(self, out: TextIO, keep: int = TAIL_LINES) -> None:
        self._out = out
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._tail: deque[str] = deque(maxlen=keep)
        self._partial = ""

    def write(self, data: bytes | str) -> None:
        """Print `data` (bytes may split a UTF-8 character) and remember its lines."""
        text = self._decoder.decode(data) if isinstance(data, bytes) else data
        if not text:
            return
        self._out.write(text)
        self._out.flush()
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        self._tail.extend(lines)

    def finish(self) -> tuple[str, ...]:
        """End the output on a new line; return its last lines (each cut to TAIL_LINE_CHARS)."""
        self.write(self._decoder.decode(b"", final=True))
        if self._partial:
            self._out.write("\n")
            self._out.flush()
            self._tail.append(self._partial)
            self._partial = ""
        return tuple(line.rstrip("\r")[:TAIL_LINE_CHARS] for line in self._tail)


@contextmanager
def engine_output(out: TextIO, group: str | None = None) -> Iterator[None]:
    """Inside Actions: fold the output under `group` (when given), and stop the runner from acting on
    workflow commands (`::...::`) that the build or the tests print."""
    if not gha.in_actions():
        yield
        return
    token = uuid.uuid4().hex
    if group:
        print(f"::group::{group}", file=out, flush=True)
    print(f"::stop-commands::{token}", file=out, flush=True)
    try:
        yield
    finally:
        print(f"::{token}::", file=out, flush=True)
        if group:
            print("::endgroup::", file=out, flush=True)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def build_image(api: Any, build_kwargs: Mapping[str, Any], out: TextIO) -> tuple[str | None, tuple[str, ...]]:
    """Build through the SDK's low-level API (`APIClient.build` with `build_kwargs`), streaming the
    output: (why it failed, with the failing step when known; None when it worked), and the output's
    last lines."""
    echo = _Echo(out)
    step = ""
    failure = None
    stream = api.build(**build_kwargs)
    try:
        for entry in stream:
            if "stream" in entry:
                text = str(entry["stream"])
                echo.write(text)
                step = next((line.strip() for line in reversed(text.splitlines()) if BUILD_STEP.match(line)),
                            step)
            elif "error" in entry or "errorDetail" in entry:
                detail = (entry.get("errorDetail") or {}).get("message") or entry.get("error") or "unknown"
                echo.write(f"{detail}\n")
                failure = f"{_one_line(step, 200)}: {_one_line(detail)}" if step else _one_line(detail)
                break
            elif "status" in entry and "progress" not in entry:
                # Pulling the base image: one line per layer and state, no progress bars.
                echo.write(f"{entry.get('id', '')}{': ' if entry.get('id') else ''}{entry['status']}\n")
    finally:
        getattr(stream, "close", lambda: None)()  # the HTTP response, when the build stopped early
    return failure, echo.finish()


def image_command(client: Any, tag: str) -> str | None:
    """The image's ENTRYPOINT + CMD as one shell-quoted line, None when it cannot be read."""
    try:
        config = client.images.get(tag).attrs.get("Config") or {}
    except engine_errors():
        return None
    argv = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
    return shlex.join(argv) if argv else None


@dataclass(frozen=True)
class ContainerRun:
    """How the test container ended."""

    status_code: int
    seconds: float
    timed_out: bool
    out_of_memory: bool
    tail: tuple[str, ...]


def _stop(container: Any, stopped: threading.Event) -> None:
    """The timer's job: kill the container whose tests ran out of time."""
    stopped.set()
    try:
        container.kill()
    except engine_errors():
        pass  # it exited meanwhile


def _out_of_memory(container: Any) -> bool:
    try:
        container.reload()
    except engine_errors():
        return False
    return bool((container.attrs.get("State") or {}).get("OOMKilled"))


def run_container(client: Any, create_kwargs: Mapping[str, Any], timeout: float,
                  out: TextIO) -> ContainerRun:
    """Create (`containers.create` with `create_kwargs`), start and follow a container, killed after
    `timeout` seconds, then remove it whatever happened."""
    container = client.containers.create(**create_kwargs)
    stopped = threading.Event()
    timer = threading.Timer(timeout, _stop, (container, stopped))
    timer.daemon = True
    try:
        echo = _Echo(out)
        container.start()
        started = time.monotonic()
        timer.start()
        with engine_output(out):
            for chunk in container.logs(stream=True, follow=True):
                echo.write(chunk)
            tail = echo.finish()
        # The log stream ends when the container stops; wait() only collects the exit code.
        status = container.wait().get("StatusCode", -1)
        seconds = time.monotonic() - started
        timer.cancel()
        return ContainerRun(int(status), seconds, stopped.is_set(), _out_of_memory(container), tail)
    finally:
        timer.cancel()
        remove(lambda: container.remove(force=True, v=True), "the test container")


def remove(action: Callable[[], object], what: str) -> None:
    """Clean up; a failure is a warning (it must not hide the tests' result)."""
    from docker.errors import ImageNotFound  # pylint: disable=import-outside-toplevel
    try:
        action()
    except ImageNotFound:
        pass
    except engine_errors() as error:
        gha.report("warning", f"docker-test: could not remove {what}: {reason(error)}")
