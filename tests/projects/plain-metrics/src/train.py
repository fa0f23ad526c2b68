"""Stage train: a gradient-boosted regressor on the training listings, saved with joblib."""
import sys
from pathlib import Path

import joblib
import yaml
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.pipeline import Pipeline

from features import feature_steps, read


def main(train_csv: Path, model_file: Path) -> None:
    seed = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))["seed"]
    model_params = yaml.safe_load(Path("config/model.yaml").read_text(encoding="utf-8"))["model"]
    feature_params = yaml.safe_load(Path("config/features.yaml").read_text(encoding="utf-8"))["features"]
    features, prices = read(train_csv)
    model = Pipeline([*feature_steps(feature_params),
                      ("regressor", GradientBoostingRegressor(random_state=seed, **model_params))])
    model.fit(features, prices)
    model_file.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_file)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
