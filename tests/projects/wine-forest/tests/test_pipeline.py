"""The pipeline end to end: prepare, then train, on the real params."""
# Test names say what each test checks.
# pylint: disable=missing-function-docstring
import csv
import json

from src import prepare, train
from src.common import (CONFUSION_FILE, METRICS_FILE, MODEL_FILE, TEST_FILE, TIMING_FILE, TRAIN_FILE,
                        load_split)


def test_prepare_writes_reproducible_stratified_splits(workdir):
    prepare.main()
    first = load_split(workdir / TRAIN_FILE)
    prepare.main()
    assert (first[0] == load_split(workdir / TRAIN_FILE)[0]).all()
    assert sorted(set(map(int, load_split(workdir / TEST_FILE)[1]))) == [0, 1, 2]


def test_train_beats_chance_and_writes_model_metrics_timing_and_plot(workdir):
    prepare.main()
    train.main()
    metrics = json.loads((workdir / METRICS_FILE).read_text(encoding="utf-8"))
    assert set(metrics) == {"accuracy", "f1_macro"} and metrics["accuracy"] > 0.6
    timing = json.loads((workdir / TIMING_FILE).read_text(encoding="utf-8"))
    assert timing["n_trees"] > 0 and timing["fit_time_seconds"] >= 0
    with (workdir / CONFUSION_FILE).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(load_split(workdir / TEST_FILE)[1]) and set(rows[0]) == {"actual", "predicted"}
    assert (workdir / MODEL_FILE).stat().st_size > 0
