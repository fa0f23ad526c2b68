"""The tests' real servers on free loopback ports: MariaDB, S3 (moto) and Prometheus.

They run as :mod:`mlops_ci.local.services` runs the MLflow server: in their own process group, waited for
with a bounded timeout, stopped with the whole group, and a server that does not come up raises
:class:`~mlops_ci.local.services.ServiceStartError` with its log tail::

    with s3_server(tmp / "s3") as s3, mlflow_server(tmp / "mlflow",
            artifacts_destination=s3.create_bucket("mlflow"), env=s3.env()) as mlflow:
        MlflowClient(mlflow.url) ...

:class:`ServiceNotInstalled` means a server binary is missing (tests skip on it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_ci.local.services import (
    LOOPBACK,
    READY_TIMEOUT,
    ServerProcess,
    ServiceStartError,
    free_port,
    http_ready,
    log_tail,
    server_process,
    wait_until,
)

SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")


class ServiceNotInstalled(RuntimeError):
    """A server binary is not installed (for example ``mariadbd``)."""


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
