"""Stage featurize: TF-IDF bag-of-words features of the prepared posts."""
import pickle
import sys
from pathlib import Path

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer


def read_posts(path: Path) -> tuple[list[str], np.ndarray]:
    """(texts, labels) of a prepared TSV file."""
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [text for _, _, text in rows], np.array([int(label) for _, label, _ in rows])


def main(prepared: Path, features: Path) -> None:
    params = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))["featurize"]
    vectorizer = TfidfVectorizer(max_features=params["max_features"], ngram_range=(1, params["ngrams"]))
    train_text, train_labels = read_posts(prepared / "train.tsv")
    test_text, test_labels = read_posts(prepared / "test.tsv")
    features.mkdir(parents=True, exist_ok=True)
    for name, matrix, labels in (("train.pkl", vectorizer.fit_transform(train_text), train_labels),
                                 ("test.pkl", vectorizer.transform(test_text), test_labels)):
        with (features / name).open("wb") as file:
            pickle.dump((matrix, labels, vectorizer.get_feature_names_out()), file)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
