"""mlops_ci.experiments: the result file of a PR's parallel experiment."""

from __future__ import annotations

import json
import re

import pytest

from mlops_ci.training import experiments
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.training.experiments import Experiment, load_experiments


def test_experiment_slug_is_name_safe_and_unique():
    slug = experiments.slug({"train.lr": "0.05", "params.yaml:model/name": "a b"})
    assert re.fullmatch(r"[A-Za-z0-9._=-]+", slug) and slug.startswith("params.yaml_model_name=a_b_train.lr=0.05-")
    assert slug != experiments.slug({"train.lr": "0.050"})


def test_load_experiments(tmp_path):
    assert not load_experiments(tmp_path / "none")
    (tmp_path / "b.json").write_text(json.dumps({"params": {"train.lr": 0.05}, "run_id": None, "metrics": [
        {"path": "metrics.json", "name": "accuracy", "value": 0.9}]}))
    (tmp_path / "a.json").write_text(json.dumps({"name": "zeta", "params": {}, "metrics": []}))
    assert load_experiments(tmp_path) == (
        Experiment("train.lr=0.05", {"train.lr": "0.05"}, {("metrics.json", "accuracy"): 0.9}),
        Experiment("zeta", {}, {}))


@pytest.mark.parametrize(("text", "message"), [
    ("{", "cannot read the experiment result"),
    ("[]", "not an experiment result"),
    ('{"params": {}, "metrics": [{"name": "a"}]}', "each needs path, name and a numeric value"),
    ('{"params": {}, "metrics": [{"path": "m", "name": "a", "value": "high"}]}', "numeric value"),
])
def test_bad_experiment_results(tmp_path, text, message):
    (tmp_path / "e.json").write_text(text)
    with pytest.raises(MlopsCiError, match=message) as raised:
        load_experiments(tmp_path)
    assert raised.value.where == str(tmp_path / "e.json")
