"""The synthesized listings: the same on every run, split as params.yaml says, readable as features."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import features  # noqa: E402  pylint: disable=wrong-import-position
import generate  # noqa: E402  pylint: disable=wrong-import-position


def test_listings_are_deterministic_and_split(tmp_path, monkeypatch):
    (tmp_path / "params.yaml").write_text("seed: 1\ndata: {rows: 40, noise: 0.1, test_size: 0.25}\n",
                                          encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    generate.main(tmp_path / "a")
    generate.main(tmp_path / "b")
    assert (tmp_path / "a" / "train.csv").read_bytes() == (tmp_path / "b" / "train.csv").read_bytes()
    table, prices = features.read(tmp_path / "a" / "test.csv")
    assert table.shape == (10, 4) and len(prices) == 10
