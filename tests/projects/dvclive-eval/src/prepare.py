"""Stage prepare: synthesize question posts (no download) and split them into train and test TSVs.

A post is tagged python (label 1) or not; the words of a python post lean towards python words."""
import random
import sys
from pathlib import Path

import yaml

PYTHON_WORDS = ["python", "pandas", "numpy", "django", "pip", "venv", "list", "dict", "import", "def"]
OTHER_WORDS = ["java", "maven", "spring", "rust", "cargo", "sql", "join", "css", "html", "regex"]
COMMON_WORDS = ["error", "how", "why", "function", "loop", "file", "string", "install", "version", "test"]


def post(rng: random.Random, label: int) -> str:
    """One post's text: common words with some words of its own tag and a few of the other's."""
    own, other = (PYTHON_WORDS, OTHER_WORDS) if label else (OTHER_WORDS, PYTHON_WORDS)
    words = (rng.choices(COMMON_WORDS, k=6) + rng.choices(own, k=rng.randint(1, 4))
             + rng.choices(other, k=rng.randint(0, 2)))
    rng.shuffle(words)
    return " ".join(words)


def main(output: Path) -> None:
    params = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))["prepare"]
    rng = random.Random(params["seed"])
    rows = [(index, label, post(rng, label)) for index in range(params["posts"])
            for label in [rng.random() < 0.4]]
    output.mkdir(parents=True, exist_ok=True)
    test_size = int(len(rows) * params["split"])
    for name, part in (("test.tsv", rows[:test_size]), ("train.tsv", rows[test_size:])):
        lines = [f"{index}\t{int(label)}\t{text}" for index, label, text in part]
        (output / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
