"""Each test runs in a scratch copy of the project's params, so pipeline outputs land in tmp_path."""
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(name="workdir")
def fixture_workdir(tmp_path, monkeypatch):
    """A scratch project root holding params.yaml, as the current directory."""
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path
