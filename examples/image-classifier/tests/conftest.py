"""Test set-up: make the project's ``src`` package importable, and build small data sets and projects.

The fixtures use a subset of the digits (a few per class) so that the whole suite runs in seconds.
"""
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

# pylint: disable=wrong-import-position  # these imports need the path set above
from src import ingest  # noqa: E402
from src.common import load_params  # noqa: E402

IMAGES_PER_CLASS = 12
TINY_PROJECT_EPOCHS = 3


@pytest.fixture(name="digit_subset", scope="session")
def fixture_digit_subset() -> tuple[np.ndarray, np.ndarray]:
    """The first ``IMAGES_PER_CLASS`` digits of every class, as written by the ingest step."""
    images, labels = ingest.load_digit_images()
    keep = np.concatenate([np.flatnonzero(labels == label)[:IMAGES_PER_CLASS] for label in range(10)])
    keep.sort()
    return images[keep], labels[keep]


@pytest.fixture
def raw_dir(tmp_path: Path, digit_subset: tuple[np.ndarray, np.ndarray]) -> Path:
    """A ``data/raw`` folder holding the digit subset as PNG files."""
    out = tmp_path / "data" / "raw"
    ingest.write_images(*digit_subset, out)
    return out


@pytest.fixture
def params() -> dict:
    """The project's own params.yaml."""
    return load_params(PROJECT_ROOT / "params.yaml")


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory: pytest.TempPathFactory,
                 digit_subset: tuple[np.ndarray, np.ndarray]) -> Path:
    """A copy of the project's configuration with the whole pipeline run on the digit subset.

    Used by the evaluation and tracking tests: a few training epochs, outputs where DVC puts them.
    """
    # Imported here: only the tests that need a trained model pay for importing torch.
    import torch  # pylint: disable=import-outside-toplevel
    from src import evaluate, prepare, train  # pylint: disable=import-outside-toplevel

    root = tmp_path_factory.mktemp("project")
    for name in ("params.yaml", "requirements.txt", "data/raw.dvc"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_ROOT / name, root / name)
    project_params = load_params(root / "params.yaml")
    project_params["train"]["epochs"] = TINY_PROJECT_EPOCHS
    ingest.write_images(*digit_subset, root / "data" / "raw")
    prepare.prepare(root, project_params)
    train.train_and_save(root, project_params, torch.device("cpu"))
    evaluate.evaluate(root)
    return root
