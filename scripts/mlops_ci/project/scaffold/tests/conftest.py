"""Each test runs in a scratch copy of the project's params and pipeline, so outputs land in tmp_path."""
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(name="workdir")
def fixture_workdir(tmp_path, monkeypatch):
    """A scratch project root holding params.yaml and dvc.yaml, as the current directory."""
    for name in ("params.yaml", "dvc.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path
