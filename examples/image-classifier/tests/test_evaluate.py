"""Evaluation: metrics agree with scikit-learn, and every report file has the expected shape."""
# Test names say what each test checks.
# pylint: disable=missing-function-docstring
import json

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

from src import evaluate
from src.common import METRICS_FILE, PREDICTIONS_FILE, TEST_FILE, load_split, read_csv


def test_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 300)
    # Mostly right, and class 9 never predicted, so one precision is undefined (counted as 0).
    predictions = np.where(rng.random(300) < 0.7, labels, rng.integers(0, 9, 300))
    matrix = evaluate.confusion_matrix(labels, predictions)
    metrics = evaluate.compute_metrics(matrix, evaluate.per_class_scores(matrix))
    precision, recall, f1, _ = precision_recall_fscore_support(labels, predictions, average="macro",
                                                               zero_division=0)
    expected = {"accuracy": accuracy_score(labels, predictions), "precision": precision,
                "recall": recall, "f1": f1}
    assert metrics == pytest.approx(expected, abs=1e-6)


def test_metrics_json_holds_four_numbers(tiny_project):
    metrics = json.loads((tiny_project / METRICS_FILE).read_text(encoding="utf-8"))
    assert sorted(metrics) == ["accuracy", "f1", "precision", "recall"]
    assert all(isinstance(value, float) and 0 <= value <= 1 for value in metrics.values())


def test_prediction_and_plot_tables(tiny_project):
    test = load_split(tiny_project / TEST_FILE)
    predictions = read_csv(tiny_project / PREDICTIONS_FILE)
    assert list(predictions[0]) == ["index", "label", "prediction"]
    assert [int(row["index"]) for row in predictions] == list(range(len(test.labels)))
    assert [int(row["label"]) for row in predictions] == test.labels.tolist()
    confusion = read_csv(tiny_project / evaluate.CONFUSION_CSV)
    assert list(confusion[0]) == ["actual", "predicted"] and len(confusion) == len(test.labels)
    per_class = read_csv(tiny_project / evaluate.PER_CLASS_CSV)
    assert [row["class"] for row in per_class] == [str(digit) for digit in range(10)]
    assert list(per_class[0]) == ["class", "precision", "recall", "f1"]


@pytest.mark.parametrize("png", [evaluate.CONFUSION_PNG, evaluate.PER_CLASS_PNG, evaluate.TRAINING_CURVE_PNG])
def test_plot_images_are_pngs(tiny_project, png):
    with Image.open(tiny_project / png) as image:
        assert image.format == "PNG" and image.size[0] > 300
