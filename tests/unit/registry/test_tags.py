"""mlops_ci.registry.tags: the tags every registered version carries."""

from __future__ import annotations

from mlops_ci.registry.tags import version_tags


def test_version_tags():
    env = {"GITHUB_SHA": "abc", "GITHUB_HEAD_REF": "feature/x", "GITHUB_SERVER_URL": "https://gh",
           "GITHUB_REPOSITORY": "acme/digits", "GITHUB_RUN_ID": "42"}
    assert version_tags(env, "7", "f00d") == {
        "mlops_ci.commit": "abc", "mlops_ci.branch": "feature/x", "mlops_ci.pr": "7", "mlops_ci.pr.7": "true",
        "mlops_ci.fingerprint": "f00d", "mlops_ci.run_url": "https://gh/acme/digits/actions/runs/42"}
    assert version_tags({"GITHUB_REF_NAME": "main"}, None) == {"mlops_ci.branch": "main"}
