"""Data sources, the split, downloads with cache and checksum, and the tf.data pipeline."""

import csv
import hashlib

import cv2
import numpy as np
import pytest

from emotion.data import Split, folder, one_hot, skillbox, stratified_split, synthetic
from emotion.download import extract_once, fetch
from emotion.errors import EmotionError
from emotion.synthetic import CLASSES, draw_face

from conftest import make_cfg

CLASSES3 = ["happy", "neutral", "sad"]


def write_tree(root, per_class=5, classes=CLASSES3, size=40):
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            face = draw_face(c if c in CLASSES else "neutral", size, rng)
            cv2.imwrite(str(root / c / f"{i}.jpg"), face[..., ::-1])
    return root


def test_split_is_stratified_and_reproducible():
    labels = np.repeat(np.arange(4), [100, 50, 10, 2])
    train, val = stratified_split(labels, 0.2, seed=1)
    assert np.bincount(labels[val]).tolist() == [20, 10, 2, 1]
    assert not set(train) & set(val) and len(train) + len(val) == len(labels)
    again_train, again_val = stratified_split(labels, 0.2, seed=1)
    assert (val == again_val).all() and (train == again_train).all()
    assert not (stratified_split(labels, 0.2, seed=2)[1] == val).all()


def test_synthetic_source_has_selection_and_test_splits():
    data = synthetic(list(CLASSES), per_class=10, image_size=32, val_split=0.2, test_split=0.2, split_seed=3)
    assert data.splits["train"].images.shape == (54, 32, 32, 3)
    assert data.counts()["val"] == data.counts()["test"] == {c: 2 for c in CLASSES}
    ids = [set(s.ids) for s in data.splits.values()]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2]), "the three splits are disjoint"
    again = synthetic(list(CLASSES), per_class=10, image_size=32, val_split=0.2, test_split=0.2, split_seed=3)
    assert data.fingerprint == again.fingerprint
    other = synthetic(list(CLASSES), per_class=10, image_size=32, val_split=0.3, test_split=0.2, split_seed=3)
    assert other.fingerprint != data.fingerprint, "another split is other data for champions"


def test_folder_source_and_unreadable_images(tmp_path):
    root = write_tree(tmp_path / "faces")
    (root / "sad" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    data = folder(str(root), classes=None, val_split=0.2, test_split=0.2, split_seed=0)
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
        folder(str(root), classes=CLASSES3, val_split=0.2, split_seed=0)


def write_skillbox(root, label_override=None):
    write_tree(root / "train", per_class=4, classes=list(CLASSES))
    with open(root / "train.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["image_path", "emotion"])
        for c in CLASSES:
            for i in range(4):
                writer.writerow([f"./train/{c}/{i}.jpg", label_override or c])
    write_tree(root / "test_kaggle_tmp", per_class=3, classes=["x"])
    (root / "test_kaggle_tmp" / "x").rename(root / "test_kaggle")
    return root


def test_skillbox_layout(tmp_path):
    cfg = make_cfg(["data=skillbox"]).data
    root = write_skillbox(tmp_path / "skillbox")
    data = skillbox(str(root), classes=list(cfg.classes), val_split=0.25, test_split=0.25, split_seed=0)
    assert len(data.splits["val"]) == len(data.splits["test"]) == 9
    assert data.unlabeled.ids == ["test_kaggle/0.jpg", "test_kaggle/1.jpg", "test_kaggle/2.jpg"]
    assert data.splits["train"].ids[0].startswith("train/")


def test_skillbox_label_not_in_class_list(tmp_path):
    root = write_skillbox(tmp_path / "skillbox", label_override="bored")
    with pytest.raises(EmotionError, match=r"train.csv:2: label 'bored' is not in the class list"):
        skillbox(str(root), classes=list(CLASSES), val_split=0.25, split_seed=0)


def test_skillbox_offline_download_fails_with_the_override(tmp_path):
    cfg = make_cfg(["data=skillbox"]).data
    with pytest.raises(EmotionError, match=r"could not download skillbox_train.zip .*data.root="):
        skillbox(None, classes=list(cfg.classes), download=cfg.download, cache_dir=str(tmp_path))
    assert not list(tmp_path.iterdir()), "a failed download leaves nothing behind"


def test_fetch_http_caches_and_checks_sha256(tmp_path):
    source = tmp_path / "weights.bin"
    source.write_bytes(b"weights" * 1000)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    fetched = fetch("w.bin", cache, urls=[source.as_uri()], sha256=digest)
    assert fetched.path == cache / "w.bin" and fetched.sha256 == digest
    source.unlink()  # the second call must not need the source any more
    assert fetch("w.bin", cache, urls=[source.as_uri()], sha256=digest).path == fetched.path


def test_fetch_refuses_a_hash_mismatch_and_keeps_nothing(tmp_path):
    source = tmp_path / "weights.bin"
    source.write_bytes(b"tampered")
    with pytest.raises(EmotionError, match="sha256 is"):
        fetch("w.bin", tmp_path / "cache", urls=[source.as_uri()], sha256="0" * 64)
    assert not (tmp_path / "cache" / "w.bin").exists()


def test_fetch_falls_back_to_the_next_source(tmp_path):
    good = tmp_path / "good.bin"
    good.write_bytes(b"ok")
    fetched = fetch("w.bin", tmp_path / "cache", urls=[(tmp_path / "missing.bin").as_uri(), good.as_uri()])
    assert fetched.path.read_bytes() == b"ok"


def test_fetch_local_path(tmp_path):
    with pytest.raises(EmotionError, match="file not found"):
        fetch("w.bin", tmp_path, path=str(tmp_path / "nope.h5"))


def test_extract_once(tmp_path):
    import zipfile

    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("inner/train.csv", "image_path,emotion\n")
    out = extract_once(archive, tmp_path / "out")
    assert (out / "inner" / "train.csv").is_file()
    archive.write_bytes(b"garbage")  # already extracted: not read again
    assert extract_once(archive, tmp_path / "out") == out
    with pytest.raises(EmotionError, match="not a valid zip"):
        extract_once(archive, tmp_path / "other")


def test_pipeline_shapes_and_decode_failures(tmp_path):
    from emotion.pipeline import prediction_dataset, to_dataset

    root = write_tree(tmp_path / "faces", per_class=2)
    paths = sorted(str(p) for p in root.rglob("*.jpg"))
    (root / "happy" / "0.jpg").write_bytes(b"corrupted after the scan")
    split = Split(paths, one_hot(np.arange(len(paths)) % 3, 3), paths)
    batches = list(to_dataset(split, 24, batch_size=4))
    assert sum(len(images) for images, _ in batches) == len(paths) - 1, "training leaves the broken image out"
    images, targets = batches[0]
    assert images.shape[1:] == (24, 24, 3) and targets.shape[1:] == (3,)
    assert 0 <= float(np.min(images)) and float(np.max(images)) <= 255

    rows = [(images.numpy(), readable.numpy()) for images, readable in prediction_dataset(split, 24, 4)]
    readable = np.concatenate([r for _, r in rows])
    assert len(readable) == len(paths), "predictions keep one row per image"
    assert readable.tolist() == [p != str(root / "happy" / "0.jpg") for p in paths]

    memory = Split(np.zeros((5, 48, 48, 3), np.uint8), one_hot(np.zeros(5, int), 3), list("abcde"))
    images, _ = next(iter(to_dataset(memory, 64, batch_size=8)))
    assert images.shape == (5, 64, 64, 3)


def test_an_epoch_of_steps_is_one_pass_and_nothing_is_autotuned():
    from emotion.pipeline import epoch_steps, prediction_dataset, to_dataset

    memory = Split(np.zeros((21, 8, 8, 3), np.uint8), one_hot(np.arange(21) % 3, 3), [str(i) for i in range(21)])
    assert epoch_steps(memory, 4) == 6 and epoch_steps(memory, 4, replicas=2) == 5 and epoch_steps(memory, 64) == 1
    for replicas in (1, 2):
        batches = list(to_dataset(memory, 8, batch_size=4, shuffle=True, replicas=replicas))
        assert len(batches) == epoch_steps(memory, 4, replicas)
    # Deleting an iterator that tf.data's autotuning watched stalled each FER+ epoch for ~40 s.
    assert to_dataset(memory, 8, 4).options().autotune.enabled is False
    assert prediction_dataset(memory, 8, 4).options().autotune.enabled is False
