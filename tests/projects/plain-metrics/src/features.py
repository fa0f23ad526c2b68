"""Reading a listings CSV and the feature step the model starts with (config/features.yaml)."""
import csv
from pathlib import Path

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler


def read(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(features, prices) of a listings CSV."""
    with path.open(encoding="utf-8", newline="") as file:
        rows = [[float(value) for value in row.values()] for row in csv.DictReader(file)]
    table = np.array(rows)
    return table[:, :-1], table[:, -1]


def feature_steps(config: dict):
    """The feature transformers config/features.yaml asks for, as one pipeline step list."""
    steps = [PolynomialFeatures(degree=config["degree"], include_bias=False)]
    return make_pipeline(*steps, *([StandardScaler()] if config["scale"] else [])).steps
