"""Data sources as their config options build them, and the stratified split."""

import numpy as np
import pytest

from emotion.core.config import build
from emotion.core.errors import EmotionError
from emotion.data.splits import stratified_split
from emotion.data.synthetic import CLASSES

from conftest import make_cfg
from helpers.files import CLASSES3, write_skillbox, write_tree


def source(option: str, *overrides: str):
    """The data of `data=<option>` with `overrides` (`data.` keys), as a run builds it."""
    return build(make_cfg([f"data={option}", *(f"data.{o}" for o in overrides)]).data, "data")


def test_split_is_stratified_and_reproducible():
    labels = np.repeat(np.arange(4), [100, 50, 10, 2])
    train, val = stratified_split(labels, 0.2, seed=1)
    assert np.bincount(labels[val]).tolist() == [20, 10, 2, 1]
    assert not set(train) & set(val) and len(train) + len(val) == len(labels)
    again_train, again_val = stratified_split(labels, 0.2, seed=1)
    assert (val == again_val).all() and (train == again_train).all()
    assert not (stratified_split(labels, 0.2, seed=2)[1] == val).all()


def test_synthetic_source_has_selection_and_test_splits():
    data = source("synthetic", "per_class=10", "image_size=32", "val_split=0.2", "test_split=0.2", "split_seed=3")
    assert data.splits["train"].images.shape == (54, 32, 32, 3)
    assert data.counts()["val"] == data.counts()["test"] == {c: 2 for c in CLASSES}
    ids = [set(s.ids) for s in data.splits.values()]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2]), "the three splits are disjoint"
    again = source("synthetic", "per_class=10", "image_size=32", "val_split=0.2", "test_split=0.2", "split_seed=3")
    assert data.fingerprint == again.fingerprint
    other = source("synthetic", "per_class=10", "image_size=32", "val_split=0.3", "test_split=0.2", "split_seed=3")
    assert other.fingerprint != data.fingerprint, "another split is other data for champions"


def test_folder_source_and_unreadable_images(tmp_path):
    root = write_tree(tmp_path / "faces")
    (root / "sad" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    data = source("folder", f"root={root}", "val_split=0.2", "test_split=0.2")
    assert data.classes == CLASSES3
    assert sum(len(s) for s in data.splits.values()) == 15
    assert [p.split("/")[-1] for p in data.skipped] == ["broken.jpg"]


@pytest.mark.parametrize("problem,message", [
    ("missing_root", "dataset root not found"),
    ("empty_class", "class folder 'sad' is missing or has no images"),
    ("stranger", "label 'angry' is not in the class list"),
])
def test_folder_source_bad_input(tmp_path, problem, message):
    root = write_tree(tmp_path / "faces")
    if problem == "missing_root":
        root = tmp_path / "nowhere"
    elif problem == "empty_class":
        for f in (root / "sad").iterdir():
            f.unlink()
    else:
        write_tree(root, classes=["angry"])
    with pytest.raises(EmotionError, match=message):
        source("folder", f"root={root}", f"classes=[{','.join(CLASSES3)}]", "val_split=0.2")


def test_skillbox_layout(tmp_path):
    root = write_skillbox(tmp_path / "skillbox")
    data = source("skillbox", f"root={root}", "val_split=0.25", "test_split=0.25")
    assert len(data.splits["val"]) == len(data.splits["test"]) == 9
    assert data.unlabeled.ids == ["test_kaggle/0.jpg", "test_kaggle/1.jpg", "test_kaggle/2.jpg"]
    assert data.splits["train"].ids[0].startswith("train/")


def test_skillbox_label_not_in_class_list(tmp_path):
    root = write_skillbox(tmp_path / "skillbox", label_override="bored")
    with pytest.raises(EmotionError, match=r"train.csv:2: label 'bored' is not in the class list"):
        source("skillbox", f"root={root}", "val_split=0.25")


