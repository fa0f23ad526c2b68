"""Data cleaning: each quality check finds its problem, and the policy drops or fails."""
# Test names say what each test checks.
# pylint: disable=missing-function-docstring
import shutil

import numpy as np
import pytest
from PIL import Image

from src import prepare
from src.common import QUALITY_FILE, TEST_FILE, TRAIN_FILE, Split, load_split, stratified_split

ALL_DROP = dict.fromkeys(prepare.CHECKS, "drop")


def first_image(raw_dir, label):
    """The first PNG file of a class folder."""
    return sorted((raw_dir / str(label)).glob("*.png"))[0]


@pytest.fixture(name="dirty_raw_dir")
def fixture_dirty_raw_dir(raw_dir):
    """The digit subset plus one file for each problem the checks look for."""
    (raw_dir / "0" / "corrupt.png").write_bytes(b"not a png at all")
    (raw_dir / "0" / "truncated.png").write_bytes(first_image(raw_dir, 0).read_bytes()[:40])
    Image.new("L", (16, 16)).save(raw_dir / "1" / "too_big.png")
    Image.new("RGB", (8, 8)).save(raw_dir / "1" / "colour.png")
    shutil.copy(first_image(raw_dir, 4), raw_dir / "4" / "copy.png")  # duplicate within its class
    shutil.copy(first_image(raw_dir, 5), raw_dir / "6" / "also_a_six.png")  # one picture, two labels
    return raw_dir


def issues_of(raw_dir):
    """Run the checks on a raw folder."""
    return prepare.find_issues(prepare.read_raw_images(raw_dir), image_size=8)


def test_clean_data_has_no_issues(raw_dir):
    assert all(not flagged for flagged in issues_of(raw_dir).values())


def test_each_check_flags_its_problem(dirty_raw_dir, raw_dir):
    original_five = first_image(raw_dir, 5).relative_to(raw_dir).as_posix()
    issues = issues_of(dirty_raw_dir)
    assert sorted(issues["unreadable"]) == ["0/corrupt.png", "0/truncated.png"]
    assert sorted(issues["wrong_shape"]) == ["1/colour.png", "1/too_big.png"]
    # The first copy in a class is kept; only the later one is a duplicate.
    assert issues["duplicate"] == ["4/copy.png"]
    assert sorted(issues["label_conflict"]) == [original_five, "6/also_a_six.png"]


def test_drop_policy_removes_flagged_images_and_reports_them(dirty_raw_dir, params):
    params["prepare"]["on_issue"] = ALL_DROP
    root = dirty_raw_dir.parents[1]
    report = prepare.prepare(root, params)
    assert report["total_images"] == 120 + 6  # the subset plus the six planted files
    # The conflicting original goes as well as its copy: which of them is right is unknown.
    assert report["dropped_images"] == 2 + 2 + 1 + 2
    assert {check: entry["count"] for check, entry in report["checks"].items()} == {
        "unreadable": 2, "wrong_shape": 2, "duplicate": 1, "label_conflict": 2}
    assert (root / QUALITY_FILE).exists()
    train, test = load_split(root / TRAIN_FILE), load_split(root / TEST_FILE)
    assert len(train.labels) + len(test.labels) == report["kept_images"] == 119
    flagged = {example for entry in report["checks"].values() for example in entry["examples"]}
    assert flagged.isdisjoint(set(train.sources) | set(test.sources))


def test_processed_images_are_normalised_float32(raw_dir, params):
    prepare.prepare(raw_dir.parents[1], params)
    train = load_split(raw_dir.parents[1] / TRAIN_FILE)
    assert train.images.dtype == np.float32 and train.images.shape[1:] == (8, 8)
    assert 0.0 <= train.images.min() and train.images.max() <= 1.0


@pytest.mark.parametrize("check", prepare.CHECKS)
def test_fail_policy_stops_the_stage(dirty_raw_dir, params, check):
    params["prepare"]["on_issue"] = dict(ALL_DROP, **{check: "fail"})
    with pytest.raises(prepare.DataQualityError, match=check):
        prepare.prepare(dirty_raw_dir.parents[1], params)


def test_default_params_fail_on_label_conflicts(dirty_raw_dir, params):
    with pytest.raises(prepare.DataQualityError, match="label_conflict"):
        prepare.prepare(dirty_raw_dir.parents[1], params)


def test_unknown_policy_is_rejected(raw_dir, params):
    params["prepare"]["on_issue"] = dict(ALL_DROP, duplicate="ignore")
    with pytest.raises(ValueError, match="on_issue"):
        prepare.prepare(raw_dir.parents[1], params)


def test_split_is_stratified_and_reproducible():
    labels = np.repeat(np.arange(10), 20)
    data = Split(np.zeros((200, 8, 8), np.float32), labels, np.array([f"{i}.png" for i in range(200)]))
    first, second = stratified_split(data, 0.25, seed=1)
    assert np.bincount(second.labels).tolist() == [5] * 10
    assert set(first.sources).isdisjoint(second.sources) and len(first.labels) == 150
    again = stratified_split(data, 0.25, seed=1)[1]
    assert np.array_equal(second.sources, again.sources)
    assert not np.array_equal(second.sources, stratified_split(data, 0.25, seed=2)[1].sources)
