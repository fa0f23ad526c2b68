"""Training runs on tiny data, is deterministic on the CPU, and the checkpoint round-trips."""
# Test names say what each test checks.
# pylint: disable=missing-function-docstring
import numpy as np
import pytest
import torch

from src import train
from src.common import MODEL_FILE, TRAIN_FILE, TRAINING_CURVE_FILE, Split, read_csv, save_split
from src.model import build_model, load_checkpoint, predict, save_checkpoint

SETTINGS = {"epochs": 2, "lr": 0.01, "hidden": 16, "batch_size": 32, "val_size": 0.2}


@pytest.fixture(name="tiny_split")
def fixture_tiny_split(digit_subset):
    """The digit subset as the prepare stage would hand it over."""
    images, labels = digit_subset
    return Split(images.astype(np.float32) / 255, labels, np.array([str(i) for i in range(len(labels))]))


def test_training_curve_has_one_row_per_epoch(tiny_split):
    model, curve = train.train(tiny_split, SETTINGS, seed=0, device=torch.device("cpu"))
    assert [epoch for epoch, _, _ in curve] == [1, 2]
    assert all(loss > 0 and 0 <= accuracy <= 1 for _, loss, accuracy in curve)
    assert predict(model, tiny_split.images).shape == tiny_split.labels.shape


def test_same_seed_gives_identical_weights_on_cpu(tiny_split):
    runs = [train.train(tiny_split, SETTINGS, seed=3, device=torch.device("cpu")) for _ in range(2)]
    (first, first_curve), (second, second_curve) = runs
    assert first_curve == second_curve
    for name, tensor in first.state_dict().items():
        assert torch.equal(tensor, second.state_dict()[name]), name


def test_a_few_epochs_learn_something(tiny_split):
    model, _ = train.train(tiny_split, dict(SETTINGS, epochs=15, hidden=32), seed=0,
                           device=torch.device("cpu"))
    assert np.mean(predict(model, tiny_split.images) == tiny_split.labels) > 0.8


def test_train_and_save_writes_model_and_curve(tmp_path, tiny_split):
    save_split(tmp_path / TRAIN_FILE, tiny_split)
    params = {"seed": 0, "train": SETTINGS}
    curve = train.train_and_save(tmp_path, params, torch.device("cpu"))
    rows = read_csv(tmp_path / TRAINING_CURVE_FILE)
    assert list(rows[0]) == list(train.CURVE_HEADER) and len(rows) == len(curve) == 2
    assert (tmp_path / MODEL_FILE).stat().st_size > 0


def test_checkpoint_round_trip_keeps_predictions(tmp_path, tiny_split):
    model = build_model(8, 16).eval()
    save_checkpoint(model, 8, 16, tmp_path / "model.pt")
    restored = load_checkpoint(tmp_path / "model.pt")
    assert np.array_equal(predict(model, tiny_split.images), predict(restored, tiny_split.images))
