"""Stage ``prepare``: scikit-learn's wine data set, split into train and test (``python -m src.prepare``)."""
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

from src.common import TEST_FILE, TRAIN_FILE, load_params, save_split


def main() -> None:
    """Write the stratified train and test splits."""
    params = load_params()
    features, labels = load_wine(return_X_y=True)
    train_x, test_x, train_y, test_y = train_test_split(
        features, labels, test_size=params["data"]["test_size"], random_state=params["seed"], stratify=labels)
    save_split(TRAIN_FILE, train_x, train_y)
    save_split(TEST_FILE, test_x, test_y)


if __name__ == "__main__":
    main()
