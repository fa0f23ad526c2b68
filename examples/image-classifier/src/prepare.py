"""Data cleaning and transformation: quality-check the raw images, normalise them, split train/test.

Checks (each one drops the offending images or fails the stage, as ``prepare.on_issue`` says):

- ``unreadable``: the file cannot be decoded as an image (corrupt or not an image at all);
- ``wrong_shape``: not a grayscale (mode ``L``) image of ``prepare.image_size`` pixels square;
- ``duplicate``: the same pixels already appear in the same class (only later copies are flagged);
- ``label_conflict``: the same pixels appear in more than one class (every copy is flagged).

    python -m src.prepare     # data/raw -> data/processed/{train,test}.npz + quality.json
"""
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from src.common import (QUALITY_FILE, RAW_DIR, TEST_FILE, TRAIN_FILE, Split,
                        load_params, save_split, stratified_split, write_json)

CHECKS = ("unreadable", "wrong_shape", "duplicate", "label_conflict")
ACTIONS = ("drop", "fail")
# How many offending file names the quality report lists per check.
REPORT_EXAMPLES = 20


class DataQualityError(ValueError):
    """Raised when a check whose action is ``fail`` finds a problem."""


@dataclass
class RawImage:
    """One file under ``data/raw``: its name relative to that folder, its class, and what it holds."""

    source: str
    label: int
    mode: str | None = None
    size: tuple[int, int] | None = None
    pixels: np.ndarray | None = None

    @property
    def content_hash(self) -> str:
        """Hash of the decoded pixels, so a re-encoded copy of a picture still counts as a copy."""
        return hashlib.sha256(self.pixels.tobytes()).hexdigest()


def read_raw_images(raw_dir: Path) -> list[RawImage]:
    """Read every ``<class>/<name>.png`` under ``raw_dir`` in a stable (sorted) order."""
    class_dirs = sorted(path for path in raw_dir.iterdir() if path.is_dir() and path.name.isdigit())
    return [read_image(path, raw_dir, int(class_dir.name))
            for class_dir in class_dirs for path in sorted(class_dir.glob("*.png"))]


def read_image(path: Path, raw_dir: Path, label: int) -> RawImage:
    """Decode one file; an unreadable file gives a :class:`RawImage` without pixels."""
    image = RawImage(source=path.relative_to(raw_dir).as_posix(), label=label)
    try:
        with Image.open(path) as decoded:
            decoded.load()
            image.mode, image.size = decoded.mode, decoded.size
            image.pixels = np.asarray(decoded)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        # Pillow signals truncated or garbled files with any of these.
        pass
    return image


def find_issues(images: list[RawImage], image_size: int) -> dict[str, list[str]]:
    """Run every check; return, per check, the source names of the images it flags."""
    issues: dict[str, list[str]] = {check: [] for check in CHECKS}
    by_hash: dict[str, list[RawImage]] = defaultdict(list)
    for image in images:
        if image.pixels is None:
            issues["unreadable"].append(image.source)
        elif image.mode != "L" or image.size != (image_size, image_size):
            issues["wrong_shape"].append(image.source)
        else:
            by_hash[image.content_hash].append(image)
    for copies in by_hash.values():
        if len({image.label for image in copies}) > 1:
            issues["label_conflict"].extend(image.source for image in copies)
        else:
            issues["duplicate"].extend(image.source for image in copies[1:])
    return issues


def enforce_policy(issues: dict[str, list[str]], on_issue: dict[str, str]) -> set[str]:
    """Raise for checks set to ``fail`` that found something; return the sources to drop."""
    if set(on_issue) != set(CHECKS) or not set(on_issue.values()) <= set(ACTIONS):
        raise ValueError(f"prepare.on_issue needs one of {ACTIONS} for each of {CHECKS}, got {on_issue}")
    failed = {check: len(issues[check]) for check in CHECKS
              if issues[check] and on_issue[check] == "fail"}
    if failed:
        details = "; ".join(f"{check}: {count} (e.g. {issues[check][0]})" for check, count in failed.items())
        raise DataQualityError(f"data quality checks failed: {details}")
    return {source for check in CHECKS for source in issues[check]}


def quality_report(images: list[RawImage], issues: dict[str, list[str]],
                   on_issue: dict[str, str], kept: list[RawImage]) -> dict[str, Any]:
    """Summarise the checks for ``quality.json``: counts, actions taken, a few example files."""
    class_counts = Counter(image.label for image in kept)
    return {
        "total_images": len(images),
        "kept_images": len(kept),
        "dropped_images": len(images) - len(kept),
        "class_counts": {str(label): count for label, count in sorted(class_counts.items())},
        "checks": {check: {"action": on_issue[check], "count": len(issues[check]),
                           "examples": issues[check][:REPORT_EXAMPLES]}
                   for check in CHECKS},
    }


def to_split(images: list[RawImage]) -> Split:
    """Stack images into arrays, scaling 8-bit pixels to float32 values in [0, 1]."""
    pixels = np.stack([image.pixels for image in images]).astype(np.float32) / 255.0
    labels = np.array([image.label for image in images], dtype=np.int64)
    sources = np.array([image.source for image in images])
    return Split(pixels, labels, sources)


def prepare(root: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Check, clean, normalise and split the raw images under ``root``; return the quality report."""
    settings = params["prepare"]
    images = read_raw_images(root / RAW_DIR)
    issues = find_issues(images, settings["image_size"])
    dropped = enforce_policy(issues, settings["on_issue"])
    kept = [image for image in images if image.source not in dropped]
    report = quality_report(images, issues, settings["on_issue"], kept)
    train, test = stratified_split(to_split(kept), settings["test_size"], params["seed"])
    save_split(root / TRAIN_FILE, train)
    save_split(root / TEST_FILE, test)
    write_json(root / QUALITY_FILE, report)
    return report


def main() -> None:
    """Command line entry point: run with the paths and parameters of the DVC pipeline."""
    try:
        report = prepare(Path("."), load_params())
    except DataQualityError as error:
        # A data problem, not a code bug: one readable line for the CI log instead of a traceback.
        raise SystemExit(f"prepare: {error}") from None
    print(f"prepare: kept {report['kept_images']} of {report['total_images']} images, "
          f"dropped {report['dropped_images']}; report in {QUALITY_FILE}")


if __name__ == "__main__":
    main()
