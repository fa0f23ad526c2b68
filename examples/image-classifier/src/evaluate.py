"""Model testing: score the trained model on the held-out test split and write the reports.

Writes ``metrics.json`` (accuracy and macro-averaged precision, recall, f1), per-example predictions
(``eval/predictions.csv``, for paired tests between two models), the CSV plots that ``dvc plots``
renders, and PNG versions of the same plots for MLflow and pull-request reports.

    python -m src.evaluate
"""
from pathlib import Path

import numpy as np

from src.common import (CLASS_NAMES, METRICS_FILE, MODEL_FILE, PLOTS_DIR, PREDICTIONS_FILE, TEST_FILE,
                        TRAINING_CURVE_FILE, load_split, read_csv, write_csv, write_json)
from src.model import load_checkpoint, predict
from src.plotting import plot_confusion_matrix, plot_per_class, plot_training_curve

CONFUSION_CSV = PLOTS_DIR / "confusion_matrix.csv"
PER_CLASS_CSV = PLOTS_DIR / "per_class.csv"
CONFUSION_PNG = PLOTS_DIR / "confusion_matrix.png"
PER_CLASS_PNG = PLOTS_DIR / "per_class.png"
TRAINING_CURVE_PNG = PLOTS_DIR / "training_curve.png"
SCORE_NAMES = ("precision", "recall", "f1")
# Enough digits to compare models, few enough to keep metrics diffs readable.
DECIMALS = 6


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Counts of (actual, predicted) pairs: rows are actual classes, columns predicted ones."""
    num_classes = len(CLASS_NAMES)
    pairs = labels.astype(np.int64) * num_classes + predictions.astype(np.int64)
    return np.bincount(pairs, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise ``numerator / denominator``, with 0 where the denominator is 0."""
    return np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator > 0)


def per_class_scores(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and f1 of each class; 0 where a score is undefined (nothing to divide by).

    The same definitions as scikit-learn's ``precision_recall_fscore_support(zero_division=0)``,
    computed from the confusion matrix so that this stage does not pay for importing scikit-learn.
    """
    hits = np.diag(matrix).astype(float)
    precision = safe_divide(hits, matrix.sum(axis=0))
    recall = safe_divide(hits, matrix.sum(axis=1))
    f1 = safe_divide(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1}


def compute_metrics(matrix: np.ndarray, scores: dict[str, np.ndarray]) -> dict[str, float]:
    """Accuracy plus precision, recall and f1 macro-averaged over the classes."""
    metrics = {"accuracy": np.trace(matrix) / matrix.sum()}
    metrics.update({name: values.mean() for name, values in scores.items()})
    return {name: round(float(value), DECIMALS) for name, value in metrics.items()}


def write_tables(root: Path, labels: np.ndarray, predictions: np.ndarray,
                 scores: dict[str, np.ndarray]) -> None:
    """Per-example predictions and the CSV plots (confusion pairs, per-class scores)."""
    write_csv(root / PREDICTIONS_FILE, ("index", "label", "prediction"),
              zip(range(len(labels)), labels.tolist(), predictions.tolist()))
    # One row per test example: the layout DVC's ``confusion`` template counts itself.
    write_csv(root / CONFUSION_CSV, ("actual", "predicted"), zip(labels.tolist(), predictions.tolist()))
    write_csv(root / PER_CLASS_CSV, ("class",) + SCORE_NAMES,
              zip(CLASS_NAMES, *(np.round(scores[name], DECIMALS).tolist() for name in SCORE_NAMES)))


def draw_plots(root: Path, matrix: np.ndarray, scores: dict[str, np.ndarray]) -> None:
    """PNG images of the confusion matrix, the per-class scores and the training curve."""
    plot_confusion_matrix(matrix, root / CONFUSION_PNG)
    plot_per_class(scores, root / PER_CLASS_PNG)
    curve = read_csv(root / TRAINING_CURVE_FILE)
    plot_training_curve(epochs=[int(row["epoch"]) for row in curve],
                        losses=[float(row["train_loss"]) for row in curve],
                        accuracies=[float(row["val_accuracy"]) for row in curve],
                        path=root / TRAINING_CURVE_PNG)


def evaluate(root: Path = Path(".")) -> dict[str, float]:
    """Evaluate the model under ``root`` on its test split, write every report, return the metrics."""
    test = load_split(root / TEST_FILE)
    predictions = predict(load_checkpoint(root / MODEL_FILE), test.images)
    matrix = confusion_matrix(test.labels, predictions)
    scores = per_class_scores(matrix)
    metrics = compute_metrics(matrix, scores)
    write_json(root / METRICS_FILE, metrics)
    write_tables(root, test.labels, predictions, scores)
    draw_plots(root, matrix, scores)
    return metrics


def main() -> None:
    """Command line entry point."""
    metrics = evaluate()
    print("evaluate: " + ", ".join(f"{name} {value:.4f}" for name, value in metrics.items()))


if __name__ == "__main__":
    main()
