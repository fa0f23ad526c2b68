"""Real servers on free loopback ports: MLflow tracking server, MariaDB, S3 (moto), Prometheus.

Each server runs in its own process group (``start_new_session``) with its output in a log file, is
waited for with a bounded timeout, and is stopped by signalling the whole group (TERM, then KILL),
even when the body of the ``with`` block raises. A server that does not come up raises
:class:`ServiceStartError` whose message ends with the tail of the server's log::

    with s3_server(tmp / "s3") as s3, mlflow_server(tmp / "mlflow",
            artifacts_destination=s3.create_bucket("mlflow"), env=s3.env()) as mlflow:
        MlflowClient(mlflow.url) ...

:class:`ServiceNotInstalled` means a server binary is missing (tests skip on it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "MariaDBServer",
    "MlflowServer",
    "PrometheusServer",
    "S3Server",
    "ServerProcess",
    "ServiceNotInstalled",
    "ServiceStartError",
    "free_port",
    "mariadb_server",
    "mlflow_server",
    "prometheus_server",
    "s3_server",
    "http_ready",
    "server_process",
    "wait_for_http",
    "wait_until",
]

LOOPBACK = "127.0.0.1"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")


class ServiceStartError(RuntimeError):
    """A server did not come up (exited or not ready in time); the message ends with its log tail."""


class ServiceNotInstalled(RuntimeError):
    """A server binary is not installed (for example ``mariadbd``)."""


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
    environment (e.g. :meth:`S3Server.env` for an ``s3://`` destination). Ready on ``GET /health``.
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


# -- MariaDB -----------------------------------------------------------------------------------------


def find_binary(name: str, package: str = "mariadb-server") -> str:
    """Path of executable ``name`` on PATH or in an sbin directory, else :class:`ServiceNotInstalled`
    naming the Debian ``package`` that has it."""
    search = os.pathsep.join([os.environ.get("PATH", ""), *SBIN_DIRS])
    found = shutil.which(name, path=search)
    if found is None:
        raise ServiceNotInstalled(f"{name} is not installed (Debian: apt-get install {package})")
    return found


@dataclass
class MariaDBServer:  # pylint: disable=too-many-instance-attributes  # connection facts
    """A running MariaDB server; ``user``/``password`` are the account :meth:`create_database` grants."""

    port: int
    datadir: Path
    log_path: Path
    process: ServerProcess
    host: str = LOOPBACK
    user: str = "mlflow"
    password: str = "mlflow"
    databases: list[str] = field(default_factory=list)

    def connect(self, database: str | None = None) -> Any:
        """A PyMySQL connection as root (no password, as installed)."""
        import pymysql  # pylint: disable=import-outside-toplevel  # only the MariaDB stand-in needs it

        return pymysql.connect(
            host=self.host, port=self.port, user="root", database=database, connect_timeout=5
        )

    def sqlalchemy_uri(self, database: str) -> str:
        """``mysql+pymysql://user:password@127.0.0.1:PORT/database``."""
        return f"mysql+pymysql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def create_database(self, database: str) -> str:
        """Create ``database`` and grant it to :attr:`user`; returns :meth:`sqlalchemy_uri`."""
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            for host in ("%", "localhost"):  # 'localhost' too, or an anonymous account may shadow '%'
                account = (self.user, host)
                cursor.execute("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (*account, self.password))
                cursor.execute(f"GRANT ALL PRIVILEGES ON `{database}`.* TO %s@%s", account)
        self.databases.append(database)
        return self.sqlalchemy_uri(database)


def _mariadb_answers(host: str, port: int) -> bool:
    import pymysql  # pylint: disable=import-outside-toplevel

    try:
        pymysql.connect(host=host, port=port, user="root", connect_timeout=2).close()
    except pymysql.err.MySQLError:
        return False
    return True


def install_mariadb_datadir(datadir: Path, log_path: Path, timeout: float = READY_TIMEOUT) -> None:
    """Initialise an empty MariaDB data directory (``mariadb-install-db``)."""
    command = [
        find_binary("mariadb-install-db"),
        *("--no-defaults", f"--datadir={datadir}", "--user=root"),
        *("--auth-root-authentication-method=normal", "--skip-test-db"),
    ]
    datadir.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    if result.returncode != 0:
        raise ServiceStartError(
            f"mariadb-install-db failed with code {result.returncode}\n"
            f"--- last lines of {log_path} ---\n{log_tail(log_path)}"
        )


@contextmanager
def mariadb_server(workdir: str | Path, *, timeout: float = READY_TIMEOUT) -> Iterator[MariaDBServer]:
    """A fresh MariaDB server with its data directory under ``workdir`` (binary logging off).

    Raises :class:`ServiceNotInstalled` when ``mariadbd`` is missing.
    """
    mariadbd = find_binary("mariadbd")
    workdir = Path(workdir).resolve()
    datadir = workdir / "mariadb-data"
    log_path = workdir / "mariadb.log"
    install_mariadb_datadir(datadir, log_path, timeout)
    port = free_port()
    command = [
        *(mariadbd, "--no-defaults", f"--datadir={datadir}", "--user=root", f"--bind-address={LOOPBACK}"),
        *(f"--port={port}", f"--socket={datadir / 'my.sock'}", f"--pid-file={datadir / 'my.pid'}"),
        "--skip-log-bin",
    ]

    def ready(server: ServerProcess) -> None:
        wait_until(lambda: _mariadb_answers(LOOPBACK, port), timeout, what="MariaDB", process=server.process)

    with server_process("MariaDB", command, log_path, ready=ready) as proc:
        yield MariaDBServer(port, datadir, log_path, proc)


# -- S3 (moto) ---------------------------------------------------------------------------------------


@dataclass
class S3Server:
    """A running moto S3 server with test credentials."""

    endpoint_url: str
    log_path: Path
    process: ServerProcess
    region: str = "us-east-1"
    access_key_id: str = "testing"
    secret_access_key: str = "testing"

    def env(self) -> dict[str, str]:
        """What a client (or an MLflow server with ``s3://`` artifacts) needs in its environment."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "MLFLOW_S3_ENDPOINT_URL": self.endpoint_url,
        }

    def client(self) -> Any:
        """A boto3 S3 client for this server."""
        import boto3  # pylint: disable=import-outside-toplevel  # only the S3 stand-in needs it

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )

    def create_bucket(self, name: str) -> str:
        """Create bucket ``name``; returns ``s3://name/``."""
        self.client().create_bucket(Bucket=name)
        return f"s3://{name}/"

    def keys(self, bucket: str) -> list[str]:
        """Every object key in ``bucket``."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]


@contextmanager
def s3_server(workdir: str | Path, *, timeout: float = READY_TIMEOUT) -> Iterator[S3Server]:
    """An in-memory S3 stand-in (``moto_server -H 127.0.0.1 -p PORT``); its log goes under ``workdir``."""
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    command = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    log_path = Path(workdir).resolve() / f"moto-{port}.log"
    with server_process("moto S3 server", command, log_path, ready=http_ready(f"{url}/", timeout)) as proc:
        yield S3Server(url, log_path, proc)


# -- Prometheus --------------------------------------------------------------------------------------


@dataclass
class PrometheusServer:
    """A running Prometheus server (``url`` has no trailing slash)."""

    url: str
    log_path: Path
    process: ServerProcess


@contextmanager
def prometheus_server(
    workdir: str | Path, config: str | Path, *, timeout: float = READY_TIMEOUT
) -> Iterator[PrometheusServer]:
    """Debian's ``prometheus`` with ``config`` (its ``rule_files`` relative to it), its TSDB and log
    under ``workdir``. Ready on ``GET /-/ready``; :class:`ServiceNotInstalled` without the binary."""
    binary = find_binary("prometheus", package="prometheus")
    workdir = Path(workdir).resolve()
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    command = [
        *(binary, f"--config.file={Path(config).resolve()}", f"--storage.tsdb.path={workdir / 'tsdb'}"),
        *(f"--web.listen-address={LOOPBACK}:{port}", "--log.level=warn"),
    ]
    log_path = workdir / f"prometheus-{port}.log"
    with server_process("Prometheus", command, log_path, ready=http_ready(f"{url}/-/ready", timeout)) as proc:
        yield PrometheusServer(url, log_path, proc)
