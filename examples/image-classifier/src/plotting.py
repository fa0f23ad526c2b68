"""Report images for the evaluation stage, drawn with matplotlib's Agg (file-only) backend.

The figures are built with the object API rather than ``pyplot`` so that no GUI backend or global
figure state is involved: this runs the same on a headless CI runner as on a laptop.
"""
from pathlib import Path
from typing import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from src.common import CLASS_NAMES


def save_figure(figure: Figure, path: Path) -> None:
    """Render ``figure`` to a PNG file through the Agg canvas."""
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=100)


def plot_confusion_matrix(matrix: np.ndarray, path: Path) -> None:
    """Heat map of the confusion matrix (rows: actual class, columns: predicted), with counts."""
    figure = Figure(figsize=(6, 5), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes)
    ticks = np.arange(len(CLASS_NAMES))
    axes.set(xticks=ticks, yticks=ticks, xticklabels=CLASS_NAMES, yticklabels=CLASS_NAMES,
             xlabel="predicted", ylabel="actual", title="Confusion matrix (test set)")
    # Dark cells get white text so that every count stays legible.
    threshold = matrix.max() / 2
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(column, row, str(count), ha="center", va="center", fontsize=8,
                  color="white" if count > threshold else "black")
    save_figure(figure, path)


def plot_per_class(scores: dict[str, Sequence[float]], path: Path) -> None:
    """Grouped bars: one group per class, one bar per score (precision, recall, f1)."""
    figure = Figure(figsize=(8, 4), layout="constrained")
    axes = figure.add_subplot()
    positions = np.arange(len(CLASS_NAMES))
    width = 0.8 / len(scores)
    for offset, (name, values) in enumerate(scores.items()):
        axes.bar(positions + offset * width, values, width, label=name)
    axes.set(xticks=positions + width * (len(scores) - 1) / 2, xticklabels=CLASS_NAMES,
             xlabel="class", ylabel="score", ylim=(0, 1.15), title="Per-class scores (test set)")
    # Above the bars (the y range leaves room), where it hides none of them.
    axes.legend(loc="upper center", ncols=len(scores))
    save_figure(figure, path)


def plot_training_curve(epochs: Sequence[int], losses: Sequence[float],
                        accuracies: Sequence[float], path: Path) -> None:
    """Training loss (left axis) and validation accuracy (right axis) per epoch."""
    figure = Figure(figsize=(7, 4), layout="constrained")
    loss_axes = figure.add_subplot()
    loss_axes.plot(epochs, losses, color="tab:blue", marker="o", markersize=3)
    loss_axes.set(xlabel="epoch", title="Training curve")
    loss_axes.set_ylabel("train loss", color="tab:blue")
    accuracy_axes = loss_axes.twinx()
    accuracy_axes.plot(epochs, accuracies, color="tab:orange", marker="o", markersize=3)
    accuracy_axes.set_ylabel("validation accuracy", color="tab:orange")
    save_figure(figure, path)
