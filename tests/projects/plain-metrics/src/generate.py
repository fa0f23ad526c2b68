"""Stage generate: synthesized house listings (no download), split into train and test CSVs."""
import csv
import sys
from pathlib import Path

import numpy as np
import yaml

COLUMNS = ("area", "rooms", "age", "distance", "price")


def listings(rows: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Listings whose price depends on area, rooms, age and distance, plus noise."""
    area = rng.uniform(30, 200, rows)
    rooms = rng.integers(1, 7, rows)
    age = rng.uniform(0, 80, rows)
    distance = rng.uniform(0.5, 30, rows)
    price = 2.0 * area + 15 * rooms - 0.8 * age - 3 * np.sqrt(distance) * 10 + 100
    price = price * (1 + rng.normal(0, noise / 3, rows))
    return np.column_stack([area, rooms, age, distance, price])


def write(path: Path, table: np.ndarray) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        writer.writerows([[f"{value:.4f}" for value in row] for row in table])


def main(folder: Path) -> None:
    params = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))
    table = listings(params["data"]["rows"], params["data"]["noise"], np.random.default_rng(params["seed"]))
    test = int(len(table) * params["data"]["test_size"])
    folder.mkdir(parents=True, exist_ok=True)
    write(folder / "test.csv", table[:test])
    write(folder / "train.csv", table[test:])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
