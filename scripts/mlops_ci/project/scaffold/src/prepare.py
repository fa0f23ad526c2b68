"""Stage ``prepare``: the data set, split into train and test (``python -m src.prepare``).

A synthetic classification problem stands in for the team's data: replace ``make_dataset`` with
reading ``data/raw`` (``dvc add data/raw``) and cleaning it.
"""
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from src.common import TEST_FILE, TRAIN_FILE, load_params, save_split


def make_dataset(n_samples: int, n_features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features and binary labels of a reproducible synthetic problem."""
    return make_classification(n_samples=n_samples, n_features=n_features, n_informative=n_features // 2,
                               class_sep=2.0, random_state=seed)


def main() -> None:
    """Write the train and test splits."""
    params = load_params()
    features, labels = make_dataset(params["data"]["n_samples"], params["data"]["n_features"], params["seed"])
    train_x, test_x, train_y, test_y = train_test_split(
        features, labels, test_size=params["data"]["test_size"], random_state=params["seed"], stratify=labels)
    save_split(TRAIN_FILE, train_x, train_y)
    save_split(TEST_FILE, test_x, test_y)


if __name__ == "__main__":
    main()
