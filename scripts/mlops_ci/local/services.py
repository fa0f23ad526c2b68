"""Real servers on free loopback ports, and the MLflow tracking server `mlops-ci local` starts.

Each server runs in its own process group (``start_new_session``) with its output in a log file, is
waited for with a bounded timeout, and is stopped by signalling the whole group (TERM, then KILL),
even when the body of the ``with`` block raises. A server that does not come up raises
:class:`ServiceStartError` whose message ends with the tail of the server's log::

    with mlflow_server(tmp / "mlflow") as mlflow:
        MlflowClient(mlflow.url) ...

The tests' MariaDB, S3 and Prometheus servers (``testing.services``) are built on the same process group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MlflowServer",
    "ServerProcess",
    "ServiceStartError",
    "free_port",
    "mlflow_server",
    "http_ready",
    "server_process",
    "wait_for_http",
    "wait_until",
]

LOOPBACK = "127.0.0.1"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


class ServiceStartError(RuntimeError):
    """A server did not come up (exited or not ready in time); the message ends with its log tail."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until(
    check: Callable[[], bool],
    timeout: float,
    *,
    what: str,
    process: subprocess.Popen[Any] | None = None,
    interval: float = 0.1,
) -> None:
    """Poll ``check`` until it returns true.

    Raises :class:`TimeoutError` after ``timeout`` seconds, or :class:`ServiceStartError` as soon as
    ``process`` (the server being waited for) has exited.
    """
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise ServiceStartError(f"{what}: the process exited with code {process.returncode}")
        if check():
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not ready after {timeout:g} s")
        time.sleep(interval)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """Whether ``GET url`` answers 2xx (no proxy, bounded)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_for_http(
    url: str, timeout: float = READY_TIMEOUT, *, process: subprocess.Popen[Any] | None = None
) -> None:
    """Wait until ``GET url`` answers 2xx; see :func:`wait_until` for the errors."""
    wait_until(lambda: http_ok(url), timeout, what=f"GET {url}", process=process, interval=0.2)


def log_tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file (empty when there is none)."""
    try:
        with path.open("rb") as log:
            log.seek(max(log.seek(0, os.SEEK_END) - 32_768, 0))
            text = log.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid``."""
    proc = Path("/proc")
    if not proc.is_dir():  # pragma: no cover - non-Linux fallback
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8", errors="replace").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(stat.parent.name))
    return members


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


@dataclass
class ServerProcess:
    """A server process leading its own process group, its output going to ``log_path``."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pgid(self) -> int:
        """The process group (the leader's pid, as it started a new session)."""
        return self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's output."""
        return log_tail(self.log_path, lines)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """TERM the whole group, wait up to ``timeout`` s for every member, then KILL what is left."""
        deadline = time.monotonic() + timeout
        _signal_group(self.pgid, signal.SIGTERM)
        while group_members(self.pgid) and time.monotonic() < deadline:
            self.process.poll()  # reap the leader so it does not linger as a zombie
            time.sleep(0.05)
        if group_members(self.pgid):
            _signal_group(self.pgid, signal.SIGKILL)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
            pass

    def startup_error(self, reason: BaseException) -> ServiceStartError:
        """A :class:`ServiceStartError` naming the server, the reason and the log tail."""
        return ServiceStartError(
            f"{self.name} did not come up: {reason}\n--- last lines of {self.log_path} ---\n{self.log_tail()}"
        )


@contextmanager
def server_process(
    name: str,
    command: list[str],
    log_path: Path,
    *,
    ready: Callable[[ServerProcess], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[ServerProcess]:
    """Run ``command`` in a new process group, wait for ``ready`` (which raises when it gives up),
    yield it, and stop the group on exit, whatever happens."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # pylint: disable=consider-using-with  # stopped in the finally below
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(env) if env is not None else None,
        )
    server = ServerProcess(name, process, log_path)
    try:
        if ready is not None:
            try:
                ready(server)
            except (TimeoutError, ServiceStartError) as error:
                raise server.startup_error(error) from error
        yield server
    finally:
        server.stop()


def http_ready(url: str, timeout: float) -> Callable[[ServerProcess], None]:
    """A ``ready`` check for :func:`server_process`: ``GET url`` answers 2xx within ``timeout`` s."""

    def ready(server: ServerProcess) -> None:
        wait_for_http(url, timeout, process=server.process)

    return ready


# -- MLflow ------------------------------------------------------------------------------------------


@dataclass
class MlflowServer:
    """A running MLflow tracking server (``url`` has no trailing slash)."""

    url: str
    backend_uri: str
    artifacts_destination: str
    log_path: Path
    process: ServerProcess


@contextmanager
def mlflow_server(
    workdir: str | Path,
    backend_uri: str | None = None,
    artifacts_destination: str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    timeout: float = READY_TIMEOUT,
) -> Iterator[MlflowServer]:
    """An MLflow server with proxied artifacts (``--serve-artifacts``) and one worker.

    Defaults: sqlite ``workdir/mlflow.db`` and ``workdir/artifacts``. ``env`` is added to the server's
    environment (e.g. an S3 endpoint and its credentials for an ``s3://`` destination). Ready on
    ``GET /health``.
    """
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    backend_uri = backend_uri or f"sqlite:///{workdir / 'mlflow.db'}"
    if artifacts_destination is None:
        artifacts_destination = str(workdir / "artifacts")
        Path(artifacts_destination).mkdir(exist_ok=True)
    command = [
        *(sys.executable, "-m", "mlflow", "server", "--host", LOOPBACK, "--port", str(port)),
        *("--workers", "1", "--backend-store-uri", backend_uri),
        *("--serve-artifacts", "--artifacts-destination", artifacts_destination),
    ]
    server_env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **(env or {})}
    url = f"http://{LOOPBACK}:{port}"
    log_path = workdir / f"mlflow-{port}.log"
    ready = http_ready(f"{url}/health", timeout)
    with server_process("MLflow server", command, log_path, ready=ready, env=server_env) as proc:
        yield MlflowServer(url, backend_uri, artifacts_destination, log_path, proc)
