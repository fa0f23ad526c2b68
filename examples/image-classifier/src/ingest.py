"""Data ingestion: write scikit-learn's bundled digits data set as PNG files, one folder per class.

The digits ship inside scikit-learn, so nothing is downloaded. The output is byte-for-byte the same
on every run, so ``dvc add data/raw`` always yields the hash recorded in ``data/raw.dvc``.

    python -m src.ingest            # writes data/raw/<class>/<index>.png
"""
import argparse
import shutil
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from src.common import RAW_DIR

# load_digits stores each pixel as an integer count from 0 to 16.
DIGITS_MAX_VALUE = 16
# Uncompressed (stored) PNG data: zlib and zlib-ng, which Pillow builds may use, compress to
# different bytes at higher levels, and the DVC hash of data/raw must not depend on the build.
# An 8x8 image is 140 bytes this way against 120 compressed.
PNG_COMPRESS_LEVEL = 0


def load_digit_images() -> tuple[np.ndarray, np.ndarray]:
    """Return the 1797 digits as 8x8 uint8 images spanning 0..255, and their labels."""
    digits = load_digits()
    images = np.rint(digits.images * (255 / DIGITS_MAX_VALUE)).astype(np.uint8)
    return images, digits.target.astype(np.int64)


def image_path(out_dir: Path, label: int, index: int) -> Path:
    """Where sample ``index`` of class ``label`` goes: the index keeps files traceable to the source."""
    return out_dir / str(label) / f"{index:04d}.png"


def write_images(images: np.ndarray, labels: np.ndarray, out_dir: Path) -> int:
    """Replace ``out_dir`` with one grayscale PNG per image; return how many were written."""
    # Start from an empty folder so files left from an older data set cannot linger, and so a file
    # that DVC linked from its cache is replaced rather than written through.
    if out_dir.exists():
        shutil.rmtree(out_dir)
    for index, (image, label) in enumerate(zip(images, labels)):
        path = image_path(out_dir, int(label), index)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return len(images)


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RAW_DIR, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    images, labels = load_digit_images()
    count = write_images(images, labels, args.out)
    print(f"ingest: wrote {count} images in {len(np.unique(labels))} classes to {args.out}")


if __name__ == "__main__":
    main()
