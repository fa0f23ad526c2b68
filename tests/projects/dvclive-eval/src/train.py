"""Stage train: a logistic-regression SGD classifier, one epoch at a time, each epoch's loss and
accuracy logged with dvclive (dvclive/metrics.json, dvclive/plots/metrics/)."""
import pickle
import sys
from pathlib import Path

import numpy as np
import yaml
from dvclive import Live
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss


def load(path: Path):
    with path.open("rb") as file:
        return pickle.load(file)


def main(features: Path, model_file: Path) -> None:
    params = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))["train"]
    matrix, labels, _ = load(features / "train.pkl")
    model = SGDClassifier(loss="log_loss", alpha=params["alpha"], random_state=params["seed"])
    with Live("dvclive", dvcyaml=False, save_dvc_exp=False) as live:
        for _ in range(params["epochs"]):
            model.partial_fit(matrix, labels, classes=np.array([0, 1]))
            live.log_metric("loss", float(log_loss(labels, model.predict_proba(matrix))))
            live.log_metric("accuracy", float(accuracy_score(labels, model.predict(matrix))))
            live.next_step()
    model_file.write_bytes(pickle.dumps(model))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
