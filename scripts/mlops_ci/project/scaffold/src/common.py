"""Paths and parameters shared by the pipeline stages (all relative to the project root, where
``dvc.yaml`` is: DVC runs every stage from there)."""
from pathlib import Path
from typing import Any

import numpy as np
import yaml

PARAMS_FILE = Path("params.yaml")
TRAIN_FILE = Path("data/processed/train.npz")
TEST_FILE = Path("data/processed/test.npz")
MODEL_FILE = Path("models/model.pkl")
METRICS_FILE = Path("metrics.json")


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    """``params.yaml``: the single place where the pipeline's knobs live."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def save_split(path: Path, features: np.ndarray, labels: np.ndarray) -> None:
    """Write one split of the data set as an uncompressed ``.npz``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, features=features, labels=labels)


def load_split(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of a split written by ``save_split``."""
    with np.load(path) as data:
        return data["features"], data["labels"]
