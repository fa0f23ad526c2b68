"""The OSS stand-in over a real S3 server: DVC and MLflow work with the admins' guide's documented settings
only."""
# pylint: disable=missing-function-docstring  # test names say what they check

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository

from testing import oss as oss_module
from testing import services
from testing.oss import BUCKET, CONFIG_PATH, DOCUMENTED_ENDPOINT, documented

# Runs each argv list in sys.argv[1] (JSON) through dvc's command line, stopping at the first failure.
DVC_COMMANDS = """import json, sys
from dvc.cli import main
for argv in json.loads(sys.argv[1]):
    if main(argv):
        sys.exit(f"dvc {' '.join(argv)} failed")
"""


@pytest.fixture(name="oss", scope="module")
def fixture_oss(s3_server: services.S3Server) -> Iterator[oss_module.OssStandIn]:
    if BUCKET not in [bucket["Name"] for bucket in s3_server.client().list_buckets()["Buckets"]]:
        s3_server.create_bucket(BUCKET)
    with oss_module.oss_stand_in(s3_server) as stand_in:
        yield stand_in


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


def with_endpoint(value: str, endpoint: str) -> str:
    return value.replace(DOCUMENTED_ENDPOINT, endpoint)


def client_env(s3_server: services.S3Server, oss: oss_module.OssStandIn) -> dict[str, str]:
    """Credentials, and every request through the stand-in; the endpoint comes from the settings."""
    env = {**os.environ, **s3_server.env(), **oss.env()}
    for name in ("AWS_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL", "AWS_DEFAULT_REGION"):
        del env[name]
    return env
