"""Naming conventions: the defaults, and what a name breaks (the `naming:` section itself is
tests/unit/config's)."""

from __future__ import annotations

import pytest

from mlops_ci.training import naming
from mlops_ci.core.errors import MlopsCiError


@pytest.mark.parametrize(("kind", "name"), [
    ("model", "churn-classifier"), ("model", "resnet50"), ("experiment", "churn-baseline"),
    ("dataset", "customers_2024.csv"), ("dataset", "images"),
])
def test_default_conventions_accept(kind, name):
    assert naming.check(kind, name) is None


@pytest.mark.parametrize(("kind", "name"), [
    ("model", "ChurnModel"), ("model", "churn_model"), ("model", "churn-"), ("experiment", "exp 1"),
    ("dataset", "Customers.CSV"), ("dataset", "data/raw"),
])
def test_default_conventions_refuse_with_an_example(kind, name):
    problem = naming.check(kind, name)
    assert problem is not None and f"naming.{kind}" in problem and "e.g." in problem


def test_unknown_kind_is_an_error():
    with pytest.raises(MlopsCiError, match="unknown kind of name 'branch'"):
        naming.check("branch", "x")
