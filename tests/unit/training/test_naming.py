"""Naming conventions: defaults, the `naming:` section of .github/mlops-ci.yml, and config errors."""

from __future__ import annotations

import pytest

from mlops_ci.training import naming
from mlops_ci.core.errors import MlopsCiError

DEFAULTS = naming.parse_config(None)


@pytest.mark.parametrize(("kind", "name"), [
    ("model", "churn-classifier"), ("model", "resnet50"), ("experiment", "churn-baseline"),
    ("dataset", "customers_2024.csv"), ("dataset", "images"),
])
def test_default_conventions_accept(kind, name):
    assert naming.check(kind, name, DEFAULTS) is None


@pytest.mark.parametrize(("kind", "name"), [
    ("model", "ChurnModel"), ("model", "churn_model"), ("model", "churn-"), ("experiment", "exp 1"),
    ("dataset", "Customers.CSV"), ("dataset", "data/raw"),
])
def test_default_conventions_refuse_with_an_example(kind, name):
    problem = naming.check(kind, name, DEFAULTS)
    assert problem is not None and f"naming.{kind}" in problem and "e.g." in problem


def test_config_replaces_one_kind_and_keeps_the_others(tmp_path):
    config_file = tmp_path / "mlops-ci.yml"
    config_file.write_text("policy:\n  allow_hotfix_to_main: true\nnaming:\n  model: 'team-[a-z]+'\n")
    config = naming.load_config(config_file)
    assert naming.check("model", "team-churn", config) is None
    problem = naming.check("model", "churn", config)
    assert problem is not None and "e.g." not in problem  # no default example for a custom pattern
    assert config["experiment"] == DEFAULTS["experiment"]


def test_missing_config_file_means_defaults(tmp_path):
    assert naming.load_config(tmp_path / "absent.yml") == DEFAULTS


@pytest.mark.parametrize(("text", "expected"), [
    ("naming:\n  models: 'x'\n", "Additional properties are not allowed"),
    ("naming:\n  model: ''\n", "naming.model"),
    ("naming:\n  model: '(['\n", "naming.model: invalid regular expression"),
    ("naming: [\n", "cannot read the config"),
])
def test_config_errors_name_the_key(tmp_path, text, expected):
    config_file = tmp_path / "mlops-ci.yml"
    config_file.write_text(text)
    with pytest.raises(MlopsCiError) as error:
        naming.load_config(config_file)
    assert expected in str(error.value) and str(config_file) in str(error.value)


def test_unknown_kind_is_an_error():
    with pytest.raises(MlopsCiError, match="unknown kind of name 'branch'"):
        naming.check("branch", "x", DEFAULTS)
