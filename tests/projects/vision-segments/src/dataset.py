"""The images of data/raw/<class>/*.png as tensors, split the same way on every run."""
from pathlib import Path

import numpy as np
import torch
from PIL import Image

RAW = Path("data/raw")


def classes(root: Path = RAW) -> list[str]:
    return sorted(folder.name for folder in root.iterdir() if folder.is_dir())


def load(root: Path = RAW, test_share: float = 0.25, seed: int = 0):
    """((train images, labels), (test images, labels)): images N x 1 x H x W in [0, 1]."""
    names = classes(root)
    files = [(path, label) for label, name in enumerate(names) for path in sorted((root / name).glob("*.png"))]
    images = np.stack([np.asarray(Image.open(path), dtype=np.float32) / 255.0 for path, _ in files])
    labels = np.array([label for _, label in files])
    order = np.random.default_rng(seed).permutation(len(files))
    test = int(len(files) * test_share)
    tensors = torch.from_numpy(images[:, None]), torch.from_numpy(labels)
    return tuple((tensors[0][part], tensors[1][part]) for part in (order[test:], order[:test]))
