"""The OSS stand-in (virtual-hosted requests only), and README's Alibaba Cloud OSS settings for DVC and
MLflow run against it: read from README, so the documented lines are the tested ones."""
# pylint: disable=missing-function-docstring  # test names say what they check

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.configloader import load_config
from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository

from testing import oss as oss_module
from testing import services

ROOT = Path(__file__).resolve().parents[2]
SECTION = "### Alibaba Cloud OSS as the object store"
DOCUMENTED_ENDPOINT = "https://s3.oss-cn-hangzhou.aliyuncs.com"
BUCKET = "acme-ml"
CONFIG_PATH = ".dvc/oss-aws-config"
# Runs each argv list in sys.argv[1] (JSON) through dvc's command line, stopping at the first failure.
DVC_COMMANDS = """import json, sys
from dvc.cli import main
for argv in json.loads(sys.argv[1]):
    if main(argv):
        sys.exit(f"dvc {' '.join(argv)} failed")
"""


def documented() -> tuple[list[list[str]], str, dict[str, str]]:
    """README's OSS section: (the dvc commands, the AWS config file, the MLflow environment)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.split(r"\n#{2,3} ", text.split(f"{SECTION}\n", 1)[1], maxsplit=1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.DOTALL)
    lines = [line.strip() for language, block in blocks if language == "bash" for line in block.splitlines()]
    commands = [shlex.split(line) for line in lines if line.startswith("dvc ")]
    exports = [line.removeprefix("export ") for line in lines if line.startswith("export ")]
    environment = dict(line.split("=", 1) for line in exports)
    config = "".join(block for language, block in blocks if language == "ini")
    return commands, config, environment


def with_endpoint(value: str, endpoint: str) -> str:
    return value.replace(DOCUMENTED_ENDPOINT, endpoint)


# --- without servers ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("host", "bucket"), [
    ("acme-ml.oss-stand-in.test", "acme-ml"), ("ACME-ML.oss-stand-in.test:80", "acme-ml"),
    ("oss-stand-in.test", None), ("oss-stand-in.test:8080", None), ("a.b.oss-stand-in.test", None),
    (".oss-stand-in.test", None), ("acme-ml.example.test", None), ("127.0.0.1:9000", None), ("", None)])
def test_virtual_bucket(host, bucket):
    assert oss_module.virtual_bucket(host) == bucket


def test_path_style_refusal_is_osss_error():
    body = oss_module.path_style_refusal("oss-stand-in.test").decode()
    assert "<Code>SecondLevelDomainForbidden</Code>" in body and "virtual hosted style" in body


def test_readme_documents_endpoint_region_and_virtual_addressing_for_dvc_and_mlflow(tmp_path):
    commands, config, environment = documented()
    assert commands == [
        ["dvc", "remote", "add", "-d", "storage", f"s3://{BUCKET}/dvc/churn"],
        ["dvc", "remote", "modify", "storage", "endpointurl", DOCUMENTED_ENDPOINT],
        ["dvc", "remote", "modify", "storage", "region", "cn-hangzhou"],
        ["dvc", "remote", "modify", "storage", "configpath", CONFIG_PATH]]
    path = tmp_path / "config"
    path.write_text(config, encoding="utf-8")
    assert load_config(str(path))["profiles"]["default"]["s3"] == {"addressing_style": "virtual"}
    assert environment == {"MLFLOW_S3_ENDPOINT_URL": DOCUMENTED_ENDPOINT,
                           "MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE": "virtual",
                           "AWS_DEFAULT_REGION": "cn-hangzhou"}


# --- against the stand-in -----------------------------------------------------------------------------

@pytest.fixture(name="oss", scope="module")
def fixture_oss(s3_server: services.S3Server) -> Iterator[oss_module.OssStandIn]:
    if BUCKET not in [bucket["Name"] for bucket in s3_server.client().list_buckets()["Buckets"]]:
        s3_server.create_bucket(BUCKET)
    with oss_module.oss_stand_in(s3_server) as stand_in:
        yield stand_in


def client_env(s3_server: services.S3Server, oss: oss_module.OssStandIn) -> dict[str, str]:
    """Credentials, and every request through the stand-in; the endpoint comes from the settings."""
    env = {**os.environ, **s3_server.env(), **oss.env()}
    for name in ("AWS_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL", "AWS_DEFAULT_REGION"):
        del env[name]
    return env


def test_dvc_push_to_oss_works_with_the_documented_settings_only(s3_server, oss, tmp_path):
    commands, config, _ = documented()
    project = tmp_path / "project"
    project.mkdir()
    # No AWS config file but the one the settings name: not this machine's, not the user's.
    env = {**client_env(s3_server, oss), "HOME": str(tmp_path)}
    env.pop("AWS_CONFIG_FILE", None)

    def dvc(*argvs: list[str]) -> subprocess.CompletedProcess[str]:
        """Run dvc commands in one process (its import costs more than a command)."""
        return subprocess.run([sys.executable, "-c", DVC_COMMANDS, json.dumps(argvs)], cwd=project,
                              capture_output=True, text=True, timeout=120, check=False, env=env)

    settings = [[with_endpoint(word, oss.endpoint_url) for word in command[1:]] for command in commands]
    addressing = [argv for argv in settings if "configpath" in argv]
    (project / "data.txt").write_text(uuid.uuid4().hex, encoding="utf-8")
    done = dvc(["init", "--no-scm", "-q"], *(argv for argv in settings if argv not in addressing),
               ["add", "-q", "data.txt"])
    assert done.returncode == 0, done.stderr

    refused = len(oss.refused)
    without = dvc(["push"])
    assert without.returncode != 0 and len(oss.refused) > refused, "path-style requests must fail, as on OSS"
    assert f" {oss_module.DOMAIN}/{BUCKET}/" in oss.refused[-1], "the bucket in the path"

    (project / CONFIG_PATH).write_text(config, encoding="utf-8")
    done = dvc(*addressing, ["push"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{BUCKET}.{oss_module.DOMAIN}/dvc/churn/files/md5/" in " ".join(oss.served)
    assert any(key.startswith("dvc/churn/files/md5/") for key in s3_server.keys(BUCKET))


def test_mlflow_artifacts_on_oss_work_with_the_documented_settings_only(s3_server, oss, tmp_path,
                                                                       monkeypatch):
    _, _, environment = documented()
    for name, value in client_env(s3_server, oss).items():
        monkeypatch.setenv(name, value)
    for name, value in environment.items():
        monkeypatch.setenv(name, with_endpoint(value, oss.endpoint_url))
    artifact = tmp_path / "metrics.json"
    artifact.write_text('{"accuracy": 0.9}', encoding="utf-8")
    location = f"s3://{BUCKET}/mlflow/{uuid.uuid4().hex}/artifacts"

    monkeypatch.delenv("MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE")  # as MLflow's default: auto
    with pytest.raises(Exception, match="SecondLevelDomainForbidden"):  # botocore's ClientError
        S3ArtifactRepository(location).log_artifact(str(artifact))

    style = "MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE"
    monkeypatch.setenv(style, environment[style])
    repository = S3ArtifactRepository(location)
    repository.log_artifact(str(artifact))
    assert [item.path for item in repository.list_artifacts()] == ["metrics.json"]
    (tmp_path / "back").mkdir()
    downloaded = repository.download_artifacts("metrics.json", str(tmp_path / "back"))
    assert Path(downloaded).read_text(encoding="utf-8") == '{"accuracy": 0.9}'
    assert f"PUT {BUCKET}.{oss_module.DOMAIN}/{location.split('/', 3)[3]}/metrics.json" in oss.served
