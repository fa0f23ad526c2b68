"""Ingestion writes the digits as PNG files, identically on every run."""
# Test names say what each test checks.
# pylint: disable=missing-function-docstring
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from src import ingest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def read_tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative name, with its bytes."""
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_writes_one_grayscale_8x8_png_per_image_in_class_folders(raw_dir, digit_subset):
    images, labels = digit_subset
    files = sorted(raw_dir.rglob("*.png"))
    assert len(files) == len(images)
    assert sorted(path.name for path in raw_dir.iterdir()) == [str(label) for label in range(10)]
    first = ingest.image_path(raw_dir, int(labels[0]), 0)
    with Image.open(first) as image:
        assert (image.mode, image.size) == ("L", (8, 8))
        assert np.array_equal(np.asarray(image), images[0])


def test_pixels_span_the_8_bit_range():
    images, labels = ingest.load_digit_images()
    assert images.dtype == np.uint8 and images.shape == (1797, 8, 8)
    assert images.min() == 0 and images.max() == 255
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_rerun_gives_the_same_bytes_and_removes_stale_files(tmp_path, digit_subset):
    first, second = tmp_path / "first", tmp_path / "second"
    ingest.write_images(*digit_subset, first)
    ingest.write_images(*digit_subset, second)
    (second / "3" / "stale.png").write_bytes(b"left over")
    ingest.write_images(*digit_subset, second)
    assert read_tree(first) == read_tree(second)


def test_full_ingest_reproduces_the_committed_dvc_hash(tmp_path):
    """`dvc add` on a fresh ingest must give exactly the md5 recorded in data/raw.dvc."""
    ingest.main(["--out", str(tmp_path / "data" / "raw")])
    dvc = [sys.executable, "-m", "dvc"]
    quiet_env = dict(os.environ, DVC_NO_ANALYTICS="1")  # no usage report sent from a test
    subprocess.run(dvc + ["init", "--no-scm", "-q"], cwd=tmp_path, env=quiet_env, check=True)
    # --no-commit: hash and write the .dvc file without copying 1797 files into a cache.
    subprocess.run(dvc + ["add", "--no-commit", "-q", "data/raw"], cwd=tmp_path, env=quiet_env, check=True)
    fresh = yaml.safe_load((tmp_path / "data" / "raw.dvc").read_text(encoding="utf-8"))
    committed = yaml.safe_load((PROJECT_ROOT / "data" / "raw.dvc").read_text(encoding="utf-8"))
    assert fresh["outs"] == committed["outs"]
