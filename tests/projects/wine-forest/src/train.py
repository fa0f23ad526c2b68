"""Stage ``train``: fit a random forest, evaluate it on the test split (``python -m src.train``)."""
import csv
import json
import pickle
import time
from pathlib import Path

from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score

from src.common import (CONFUSION_FILE, METRICS_FILE, MODEL_FILE, TEST_FILE, TIMING_FILE, TRAIN_FILE,
                        load_params, load_split)


def train(params: dict) -> tuple[RandomForestClassifier, float]:
    """A random forest fitted on the train split, and the seconds the fit took."""
    features, labels = load_split(TRAIN_FILE)
    forest = params["train"]["forest"]
    model = RandomForestClassifier(n_estimators=forest["n_estimators"], max_depth=forest["max_depth"],
                                   random_state=params["train"]["seed"], n_jobs=1)
    started = time.perf_counter()
    model.fit(features, labels)
    return model, time.perf_counter() - started


def write_json(path: Path, values: dict) -> None:
    """``values`` as an indented JSON file, its folder made if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")


def evaluate(model: RandomForestClassifier) -> dict[str, float]:
    """Accuracy and macro F1 on the test split; writes one (actual, predicted) row per test example,
    the layout DVC's ``confusion`` plot template counts itself."""
    features, labels = load_split(TEST_FILE)
    predicted = model.predict(features)
    CONFUSION_FILE.parent.mkdir(parents=True, exist_ok=True)
    with CONFUSION_FILE.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("actual", "predicted"))
        writer.writerows(zip(map(int, labels), map(int, predicted)))
    return {"accuracy": round(float(accuracy_score(labels, predicted)), 6),
            "f1_macro": round(float(f1_score(labels, predicted, average="macro")), 6)}


def main() -> None:
    """Write the model, its metrics, the fit's timing and the confusion plot's data."""
    model, seconds = train(load_params())
    MODEL_FILE.parent.mkdir(parents=True, exist_ok=True)
    MODEL_FILE.write_bytes(pickle.dumps(model))
    write_json(METRICS_FILE, evaluate(model))
    write_json(TIMING_FILE, {"fit_time_seconds": round(seconds, 4), "n_trees": len(model.estimators_)})


if __name__ == "__main__":
    main()
