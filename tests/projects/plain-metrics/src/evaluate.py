"""Stage evaluate@SPLIT: the model's errors on one split (metrics/SPLIT.json) and its residuals."""
import csv
import json
import sys
from pathlib import Path

import joblib
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

from features import read


def main(model_file: Path, split_csv: Path, split: str) -> None:
    model = joblib.load(model_file)
    features, prices = read(split_csv)
    predicted = model.predict(features)
    Path("metrics").mkdir(exist_ok=True)
    Path(f"metrics/{split}.json").write_text(json.dumps({
        "rmse": round(float(root_mean_squared_error(prices, predicted)), 4),
        "mae": round(float(mean_absolute_error(prices, predicted)), 4),
        "r2": round(float(r2_score(prices, predicted)), 6),
        "n_rows": len(prices)}, indent=2) + "\n", encoding="utf-8")
    plots = Path("plots") / split
    plots.mkdir(parents=True, exist_ok=True)
    with (plots / "residuals.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(("actual", "predicted"))
        writer.writerows((f"{a:.2f}", f"{p:.2f}") for a, p in zip(prices, predicted))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
