"""The synthesized images: the same on every run, one folder per class, sized as params.yaml says."""
from PIL import Image

from src import dataset, synthesize


def test_images_are_deterministic_and_load_as_a_split(tmp_path, monkeypatch):
    (tmp_path / "params.yaml").write_text("synthesize: {seed: 1, per_class: 4, size: 12, noise: 0.1}\n",
                                          encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    synthesize.main()
    first = Image.open("data/raw/circle/000.png").tobytes()
    synthesize.main()
    assert Image.open("data/raw/circle/000.png").tobytes() == first
    (train_x, _), (test_x, test_y) = dataset.load(test_share=0.25)
    assert dataset.classes() == sorted(synthesize.CLASSES)
    assert tuple(train_x.shape[1:]) == (1, 12, 12) and len(test_x) == len(test_y) == 3
