"""Scratch DVC projects for the tests of `mlops-ci track`: a trained pipeline's files as a project
leaves them (dvc.yaml, params files, metrics with a dvclive step series, a plot, the model file in
one flavor, .github/mlops-ci.yml), without running DVC. Models are tiny and built on the spot, so no
file of a test depends on bit-identical floats."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np

FEATURES = 4
CLASSES = 3
# The project's own loader of the pyfunc flavor: a JSON file of weights, served by its predict.
PYFUNC_LOADER = '''import json


class Scorer:
    def __init__(self, weights):
        self.weights = weights

    def predict(self, rows):
        return [int(sum(w * x for w, x in zip(self.weights, row)) > 0) for row in rows]


def load(path):
    with open(path, encoding="utf-8") as file:
        return Scorer(json.load(file)["weights"])
'''
DVC_YAML = """stages:
  train:
    cmd: python -m scorer.train
    deps: [data/rows.csv]
    params: [train, search.yaml: [depth]]
    outs: [{model}, eval/predictions.csv, plots/confusion.png]
    metrics: [eval/metrics.json]
    plots: [eval/plots]
plots:
  - confusion:
      template: confusion
      x: predicted
      y:
        eval/confusion.csv: actual
"""
MODEL_FILES = {"sklearn": "models/model.pkl", "joblib": "models/model.joblib", "skops": "models/model.skops",
               "pytorch": "models/model.pt", "onnx": "models/model.onnx", "lightgbm": "models/model.txt",
               "pyfunc": "models/weights.json"}


def training_rows(rows: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """A small separable data set: (features float32, labels 0..CLASSES-1)."""
    generator = np.random.default_rng(0)
    labels = np.arange(rows) % CLASSES
    features = (generator.normal(size=(rows, FEATURES)) + labels[:, None]).astype(np.float32)
    return features, labels


def write_model(kind: str, path: Path) -> None:
    """A model of `kind` (a MODEL_FILES key) trained on training_rows(), saved at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    features, labels = training_rows()
    if kind in ("sklearn", "joblib", "skops"):
        from sklearn.linear_model import LogisticRegression  # pylint: disable=import-outside-toplevel
        model = LogisticRegression(max_iter=200).fit(features, labels)
        if kind == "sklearn":
            path.write_bytes(pickle.dumps(model))
        elif kind == "joblib":
            import joblib  # pylint: disable=import-outside-toplevel
            joblib.dump(model, path)
        else:
            import skops.io  # pylint: disable=import-outside-toplevel
            skops.io.dump(model, path)
    elif kind == "pytorch":
        import torch  # pylint: disable=import-outside-toplevel
        torch.jit.script(torch.nn.Sequential(torch.nn.Linear(FEATURES, CLASSES))).save(str(path))
    elif kind == "onnx":
        write_onnx(path)
    elif kind == "lightgbm":
        import lightgbm  # pylint: disable=import-outside-toplevel
        booster = lightgbm.train({"objective": "multiclass", "num_class": CLASSES, "verbose": -1,
                                  "min_data_in_leaf": 5}, lightgbm.Dataset(features, labels), num_boost_round=3)
        booster.save_model(str(path))
    elif kind == "pyfunc":
        path.write_text(json.dumps({"weights": [1.0, -1.0, 0.5, 0.0]}), encoding="utf-8")


def write_onnx(path: Path) -> None:
    """A linear scorer as an ONNX graph: scores = X @ W."""
    import onnx  # pylint: disable=import-outside-toplevel
    from onnx import TensorProto, helper  # pylint: disable=import-outside-toplevel
    weights = helper.make_tensor("W", TensorProto.FLOAT, [FEATURES, CLASSES],
                                 np.linspace(-1, 1, FEATURES * CLASSES).tolist())
    graph = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["scores"])], "scorer",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, FEATURES])],
                              [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, CLASSES])],
                              initializer=[weights])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), str(path))


def write_project(root: Path, kind: str = "sklearn", *, name: str = "scorer") -> Path:
    """A trained project in `root` whose model is of `kind`; its `model:` section names it."""
    model_path = MODEL_FILES[kind]
    flavor = {"joblib": "sklearn", "skops": "sklearn"}.get(kind, kind)
    files = {
        "dvc.yaml": DVC_YAML.format(model=model_path),
        "params.yaml": "train:\n  lr: 0.1\n  layers: {hidden: 8}\nunused_by_stages: 1\n",
        "search.yaml": "depth: 3\nwidth: [1, 2]\n",
        "data/rows.csv": "a,b\n1,2\n",
        "eval/metrics.json": json.dumps({"accuracy": 0.9, "loss": {"val": 0.25}, "step": 2, "ok": True}),
        "eval/plots/metrics/loss/val.tsv": "timestamp\tstep\tval\n1700000000000\t0\t0.9\n"
                                           "1700000001000\t1\t0.5\n1700000002000\t2\t0.25\n",
        "eval/predictions.csv": "index,label,prediction\n0,1,1\n1,0,1\n",
        "eval/confusion.csv": "actual,predicted\n1,1\n0,1\n",
        "plots/confusion.png": "not really a png",
        ".github/mlops-ci.yml": (f"model:\n  name: {name}\n  path: {model_path}\n  flavor: {flavor}\n"
                                 + ("  loader: scorer.model:load\n" if kind == "pyfunc" else "")),
    }
    if kind == "pyfunc":
        files["scorer/__init__.py"] = ""
        files["scorer/model.py"] = PYFUNC_LOADER
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    write_model(kind, root / model_path)
    return root
