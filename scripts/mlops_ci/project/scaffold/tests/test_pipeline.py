"""The pipeline end to end: prepare, then train, on the real params."""
# Test names say what each test checks.
# pylint: disable=missing-function-docstring
import json

import numpy as np

from src import prepare, train
from src.common import METRICS_FILE, MODEL_FILE, TEST_FILE, TRAIN_FILE, load_split


def test_prepare_writes_reproducible_stratified_splits(workdir):
    prepare.main()
    first = load_split(workdir / TRAIN_FILE)
    prepare.main()
    again = load_split(workdir / TRAIN_FILE)
    assert (first[0] == again[0]).all()
    test_labels = load_split(workdir / TEST_FILE)[1]
    assert 0.4 < float(np.mean(test_labels)) < 0.6


def test_train_beats_chance_and_writes_model_and_metrics(workdir):
    prepare.main()
    train.main()
    metrics = json.loads((workdir / METRICS_FILE).read_text(encoding="utf-8"))
    assert metrics["accuracy"] > 0.8
    assert set(metrics) == {"accuracy", "f1"}
    assert (workdir / MODEL_FILE).stat().st_size > 0
