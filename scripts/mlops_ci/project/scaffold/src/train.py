"""Stage ``train``: fit the model, evaluate it on the test split (``python -m src.train``)."""
import json
import pickle

from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

from src.common import METRICS_FILE, MODEL_FILE, TEST_FILE, TRAIN_FILE, load_params, load_split


def train(params: dict) -> LogisticRegression:
    """A logistic regression fitted on the train split."""
    features, labels = load_split(TRAIN_FILE)
    model = LogisticRegression(C=params["train"]["C"], max_iter=params["train"]["max_iter"],
                               random_state=params["seed"])
    return model.fit(features, labels)


def evaluate(model: LogisticRegression) -> dict[str, float]:
    """Accuracy and F1 on the test split."""
    features, labels = load_split(TEST_FILE)
    predicted = model.predict(features)
    return {"accuracy": float(accuracy_score(labels, predicted)), "f1": float(f1_score(labels, predicted))}


def main() -> None:
    """Write the model and its metrics."""
    model = train(load_params())
    MODEL_FILE.parent.mkdir(parents=True, exist_ok=True)
    MODEL_FILE.write_bytes(pickle.dumps(model))
    METRICS_FILE.write_text(json.dumps(evaluate(model), indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
