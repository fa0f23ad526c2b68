"""The synthesized data is the same on every run and splits as params.yaml says."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import prepare  # noqa: E402  pylint: disable=wrong-import-position


def test_prepare_is_deterministic_and_splits(tmp_path, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    prepare.main(tmp_path / "a")
    prepare.main(tmp_path / "b")
    first = (tmp_path / "a" / "train.tsv").read_text(encoding="utf-8")
    assert first == (tmp_path / "b" / "train.tsv").read_text(encoding="utf-8")
    test_rows = (tmp_path / "a" / "test.tsv").read_text(encoding="utf-8").splitlines()
    assert len(test_rows) == 150 and {row.split("\t")[1] for row in test_rows} == {"0", "1"}
