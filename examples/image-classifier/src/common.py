"""Paths, parameters and file formats shared by the pipeline stages.

Every path is relative to the project root: DVC runs each stage from the folder that holds
``dvc.yaml``, and ``python -m src.<stage>`` is meant to be run from there too.
"""
import csv
import json
from pathlib import Path
from typing import Any, Iterable, NamedTuple

import numpy as np
import yaml

PARAMS_FILE = Path("params.yaml")
RAW_DIR = Path("data/raw")
RAW_DVC_FILE = Path("data/raw.dvc")
PROCESSED_DIR = Path("data/processed")
TRAIN_FILE = PROCESSED_DIR / "train.npz"
TEST_FILE = PROCESSED_DIR / "test.npz"
QUALITY_FILE = PROCESSED_DIR / "quality.json"
MODEL_FILE = Path("models/model.pt")
METRICS_FILE = Path("metrics.json")
PREDICTIONS_FILE = Path("eval/predictions.csv")
PLOTS_DIR = Path("plots")
TRAINING_CURVE_FILE = PLOTS_DIR / "training_curve.csv"

NUM_CLASSES = 10
CLASS_NAMES = tuple(str(digit) for digit in range(NUM_CLASSES))


class Split(NamedTuple):
    """One part of the processed data set: images scaled to [0, 1], labels, and source file names."""

    images: np.ndarray
    labels: np.ndarray
    sources: np.ndarray


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    """Read ``params.yaml``, the single place where the pipeline's knobs live."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def save_split(path: Path, split: Split) -> None:
    """Write a split as an uncompressed ``.npz`` (numpy writes it byte-for-byte reproducibly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, images=split.images, labels=split.labels, sources=split.sources)


def load_split(path: Path) -> Split:
    """Read a split written by :func:`save_split`."""
    with np.load(path) as data:
        return Split(data["images"], data["labels"], data["sources"])


def stratified_split(data: Split, second_size: float, seed: int) -> tuple[Split, Split]:
    """Split in two at random, keeping every class's share; ``second_size`` is the second's fraction.

    Written with numpy rather than scikit-learn's ``train_test_split`` because importing
    ``sklearn.model_selection`` takes about a second, longer than training this model.
    """
    rng = np.random.default_rng(seed)
    in_second = np.zeros(len(data.labels), dtype=bool)
    for label in np.unique(data.labels):
        members = np.flatnonzero(data.labels == label)
        count = round(len(members) * second_size)
        if len(members) > 1:
            # Every class with two or more images keeps at least one on each side.
            count = min(max(count, 1), len(members) - 1)
        in_second[rng.permutation(members)[:count]] = True
    return subset(data, ~in_second), subset(data, in_second)


def subset(data: Split, mask: np.ndarray) -> Split:
    """The images, labels and sources selected by a boolean mask or an index array."""
    return Split(*(array[mask] for array in data))


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON with sorted keys so that identical results give identical files (and DVC hashes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    """Write a CSV file with a header row, creating its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    """Read a CSV file with a header row into a list of dicts."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
