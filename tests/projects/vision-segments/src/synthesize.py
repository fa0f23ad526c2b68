"""Stage synthesize: small grayscale PNGs of three shapes (no download), seeded, one folder per class."""
import random
from pathlib import Path

import numpy as np
import yaml
from PIL import Image, ImageDraw

CLASSES = ("circle", "square", "cross")
RAW = Path("data/raw")


def shape(kind: str, size: int, rng: random.Random, noise: float) -> Image.Image:
    """One image: a shape of `kind` at a random place and scale, on a noisy background."""
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    half = rng.randint(size // 4, size // 3)
    x, y = rng.randint(half, size - half - 1), rng.randint(half, size - half - 1)
    box = (x - half, y - half, x + half, y + half)
    if kind == "circle":
        draw.ellipse(box, fill=255)
    elif kind == "square":
        draw.rectangle(box, fill=255)
    else:
        draw.line((x - half, y, x + half, y), fill=255, width=2)
        draw.line((x, y - half, x, y + half), fill=255, width=2)
    noisy = np.asarray(image, dtype=np.float32) + np.random.default_rng(rng.getrandbits(32)).normal(
        0, 255 * noise, (size, size))
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8), mode="L")


def main() -> None:
    params = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))["synthesize"]
    rng = random.Random(params["seed"])
    for kind in CLASSES:
        folder = RAW / kind
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(params["per_class"]):
            shape(kind, params["size"], rng, params["noise"]).save(folder / f"{index:03d}.png")


if __name__ == "__main__":
    main()
