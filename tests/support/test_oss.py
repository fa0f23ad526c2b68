"""The OSS stand-in (virtual-hosted requests only), and the admins' guide's Alibaba Cloud OSS settings
(docs/admins/object-store.md) as DVC and MLflow read them (run against it with a real S3 server:
tests/integration/support/test_oss_s3.py)."""
# pylint: disable=missing-function-docstring  # test names say what they check

from __future__ import annotations

import pytest
from botocore.configloader import load_config

from testing import oss as oss_module
from testing.oss import BUCKET, CONFIG_PATH, DOCUMENTED_ENDPOINT, documented


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


def test_the_guide_documents_endpoint_region_and_virtual_addressing_for_dvc_and_mlflow(tmp_path):
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

