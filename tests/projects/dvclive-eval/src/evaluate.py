"""Stage evaluate: the model on both splits, logged with dvclive into eval/: the test split's
scores, ROC and confusion plots of both splits, and an image of the heaviest words."""
import pickle
import sys
from pathlib import Path

import matplotlib
import yaml
from dvclive import Live
from sklearn.metrics import accuracy_score, average_precision_score, roc_auc_score

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=wrong-import-position


def load(path: Path):
    with path.open("rb") as file:
        return pickle.load(file)


def importance_figure(model, names):
    """The ten words that weigh most, as a bar chart."""
    weights = model.coef_[0]
    order = abs(weights).argsort()[::-1][:10]
    figure, axes = plt.subplots(figsize=(5, 3), dpi=80)
    axes.barh([names[i] for i in order], weights[order])
    axes.set_title("word weights")
    figure.tight_layout()
    return figure


def main(model_file: Path, features: Path) -> None:
    threshold = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))["evaluate"]["threshold"]
    model = load(model_file)
    with Live("eval", dvcyaml=False, save_dvc_exp=False) as live:
        for split in ("train", "test"):
            matrix, labels, names = load(features / f"{split}.pkl")
            scores = model.predict_proba(matrix)[:, 1]
            predicted = (scores >= threshold).astype(int)
            if split == "test":   # the scores are the held-out split's; the plots show both
                live.log_metric("avg_prec", float(average_precision_score(labels, scores)), plot=False)
                live.log_metric("roc_auc", float(roc_auc_score(labels, scores)), plot=False)
                live.log_metric("accuracy", float(accuracy_score(labels, predicted)), plot=False)
            live.log_sklearn_plot("roc", labels, scores, name=f"roc/{split}")
            live.log_sklearn_plot("confusion_matrix", labels, predicted, name=f"cm/{split}")
        live.log_image("importance.png", importance_figure(model, names))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
