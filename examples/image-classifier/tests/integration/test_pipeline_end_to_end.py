"""The pipeline end to end, the way DVC runs it, then the trained model's inputs and outputs.

A scratch copy of the project gets a small subset of the digits from ``python -m src.ingest``; each
stage of ``dvc.yaml`` then runs as its own process (its ``cmd``, from the project folder) for
``EPOCHS`` epochs and must write every output ``dvc.yaml`` declares. In the container this checks that
the image holds everything the pipeline needs; anywhere, that ``dvc.yaml`` and the code agree.
"""
# Test names say what each test checks.
# pylint: disable=missing-function-docstring
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from src.common import (METRICS_FILE, MODEL_FILE, NUM_CLASSES, PREDICTIONS_FILE, RAW_DIR, TEST_FILE,
                        load_split, read_csv)
from src.model import load_checkpoint, predict

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 2
IMAGES_PER_CLASS = 40
IMAGE_SIZE = 8
METRIC_NAMES = ("accuracy", "precision", "recall", "f1")
# One stage taking longer than this means something hangs (each takes a few seconds).
STAGE_TIMEOUT_S = 300


def pipeline_stages() -> list[tuple[str, str, list[str]]]:
    """(name, cmd, declared outputs and metrics) of each ``dvc.yaml`` stage, in file order."""
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    found = []
    for name, stage in stages.items():
        # An output is a path, or a one-key mapping {path: {options}}.
        paths = [entry if isinstance(entry, str) else next(iter(entry))
                 for entry in stage.get("outs", []) + stage.get("metrics", [])]
        found.append((name, stage["cmd"], paths))
    return found


def run_command(command: str, project: Path) -> subprocess.CompletedProcess:
    """Run a stage command (``python -m src.<stage>``) from ``project`` with this interpreter."""
    argv = shlex.split(command)
    if argv[0] == "python":
        argv[0] = sys.executable
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), MPLBACKEND="Agg")
    return subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True,
                          timeout=STAGE_TIMEOUT_S, check=False)


def keep_first(raw_dir: Path, per_class: int) -> None:
    """Delete all but the first ``per_class`` images of every class folder."""
    for class_dir in raw_dir.iterdir():
        for path in sorted(class_dir.glob("*.png"))[per_class:]:
            path.unlink()


@pytest.fixture(name="project", scope="module")
def fixture_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch project: params.yaml with few epochs, a digit subset ingested, every stage run."""
    project = tmp_path_factory.mktemp("pipeline")
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["train"]["epochs"] = EPOCHS
    (project / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    shutil.copy(PROJECT_ROOT / "dvc.yaml", project / "dvc.yaml")
    ingest = run_command(f"python -m src.ingest --out {RAW_DIR}", project)
    assert ingest.returncode == 0, ingest.stderr
    keep_first(project / RAW_DIR, IMAGES_PER_CLASS)
    for name, command, _ in pipeline_stages():
        result = run_command(command, project)
        assert result.returncode == 0, f"stage {name} ({command}) failed:\n{result.stdout}{result.stderr}"
    return project


def test_dvc_yaml_runs_prepare_train_evaluate_as_modules():
    assert [(name, command) for name, command, _ in pipeline_stages()] == [
        ("prepare", "python -m src.prepare"), ("train", "python -m src.train"),
        ("evaluate", "python -m src.evaluate")]


def test_every_stage_writes_what_dvc_yaml_declares(project):
    for name, _, outputs in pipeline_stages():
        missing = [path for path in outputs if not (project / path).exists()]
        assert not missing, f"stage {name} did not write {missing}"


def test_quality_report_counts_the_subset(project):
    report = json.loads((project / "data/processed/quality.json").read_text(encoding="utf-8"))
    assert report["total_images"] == report["kept_images"] == NUM_CLASSES * IMAGES_PER_CLASS
    assert report["class_counts"] == {str(label): IMAGES_PER_CLASS for label in range(NUM_CLASSES)}


def test_metrics_are_scores_and_beat_chance(project):
    metrics = json.loads((project / METRICS_FILE).read_text(encoding="utf-8"))
    assert sorted(metrics) == sorted(METRIC_NAMES)
    assert all(0.0 <= metrics[name] <= 1.0 for name in METRIC_NAMES)
    # Ten balanced classes: guessing scores 0.1. Two epochs on the subset do far better.
    assert metrics["accuracy"] > 0.3


def test_training_curve_has_one_row_per_epoch(project):
    rows = read_csv(project / "plots/training_curve.csv")
    assert [int(row["epoch"]) for row in rows] == list(range(1, EPOCHS + 1))


def test_model_takes_8x8_images_and_returns_one_logit_per_class(project):
    model = load_checkpoint(project / MODEL_FILE)
    test = load_split(project / TEST_FILE)
    assert test.images.dtype == np.float32 and test.images.shape[1:] == (IMAGE_SIZE, IMAGE_SIZE)
    assert 0.0 <= test.images.min() and test.images.max() <= 1.0
    with torch.no_grad():
        logits = model(torch.as_tensor(test.images))
        single = model(torch.as_tensor(test.images[:1]))
    assert logits.shape == (len(test.images), NUM_CLASSES)
    assert single.shape == (1, NUM_CLASSES)
    assert torch.isfinite(logits).all()


def test_model_refuses_images_of_another_size(project):
    model = load_checkpoint(project / MODEL_FILE)
    wrong = torch.zeros((2, IMAGE_SIZE - 1, IMAGE_SIZE - 1), dtype=torch.float32)
    with pytest.raises(RuntimeError):
        model(wrong)


def test_predictions_file_holds_the_saved_models_predictions(project):
    test = load_split(project / TEST_FILE)
    predictions = predict(load_checkpoint(project / MODEL_FILE), test.images)
    assert predictions.shape == test.labels.shape
    assert set(predictions.tolist()) <= set(range(NUM_CLASSES))
    rows = read_csv(project / PREDICTIONS_FILE)
    assert [int(row["index"]) for row in rows] == list(range(len(test.labels)))
    assert [int(row["label"]) for row in rows] == test.labels.tolist()
    assert [int(row["prediction"]) for row in rows] == predictions.tolist()


@pytest.mark.skipif(os.environ.get("MLOPS_CI_CONTAINER") != "1",
                    reason="checks the container image (the Dockerfile sets MLOPS_CI_CONTAINER=1)")
def test_container_runs_as_a_user_who_cannot_change_the_code():
    assert os.getuid() != 0
    assert not os.access(PROJECT_ROOT / "src", os.W_OK)
    assert not os.access(PROJECT_ROOT / "src" / "train.py", os.W_OK)
