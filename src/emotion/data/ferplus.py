"""`data=ferplus`: Microsoft's FER+ relabelling of FER2013 (48x48 gray faces, 10 crowd votes each).

The folders are as FER+ publishes them: FER2013Train and FER2013Valid (and
FER2013Test), each with label.csv (file, box, 10 vote counts).
"""

from __future__ import annotations

import csv
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from emotion.core.errors import EmotionError
from emotion.data.base import Data, Split, one_hot
from emotion.data.files import existing_root
from emotion.data.splits import fingerprint, stratified_split

log = logging.getLogger(__name__)

# FER+ label.csv vote columns, in file order, mapped to our class names.
FERPLUS_VOTES = ("neutral", "happy", "surprise", "sad", "anger", "disgust", "fear", "contempt", "uncertain", "NF")
FERPLUS_TRAIN = "FER2013Train"


def ferplus_targets(votes: np.ndarray, classes: list[str], mode: str, drop_single_votes: bool):
    """(keep mask, targets) from FER+ vote counts (N x 10).

    Kept: images whose most-voted class is unique, is not NF ("not a face")
    and is one of `classes`. `majority`: one-hot of that class; `probability`:
    the vote shares over `classes` (single stray votes removed first, as the
    FER+ paper does), a soft target whose argmax is the majority class.
    """
    top = votes.max(axis=1, keepdims=True)
    unique_top = (votes == top).sum(axis=1) == 1
    majority = votes.argmax(axis=1)
    columns = [FERPLUS_VOTES.index(c) for c in classes]
    in_classes = np.isin(majority, columns)
    keep = unique_top & in_classes
    ours = np.array([columns.index(m) if m in columns else 0 for m in majority])
    if mode == "majority":
        return keep, one_hot(ours, len(classes))[keep]
    shares = votes[:, columns].astype(np.float32)
    if drop_single_votes:
        shares = np.where(shares <= 1, 0, shares)
    shares[np.arange(len(votes)), ours] = np.maximum(shares[np.arange(len(votes)), ours], 1)
    shares = shares[keep]
    return keep, shares / shares.sum(axis=1, keepdims=True)


def _read_ferplus_split(folder: Path) -> tuple[list[str], np.ndarray]:
    table = folder / "label.csv"
    if not table.is_file():
        raise EmotionError(f"{folder}: label.csv not found (not a FER+ split folder)")
    names, votes = [], []
    with open(table, newline="") as f:
        for row_number, row in enumerate(csv.reader(f), start=1):
            if not row or row[0] == "Image name":
                continue
            if len(row) != 12:
                raise EmotionError(f"{table}:{row_number}: expected file, box and 10 vote counts")
            names.append(row[0])
            votes.append([int(float(v)) for v in row[2:]])
    return names, np.array(votes, dtype=np.int64).reshape(-1, len(FERPLUS_VOTES))


def _load_gray(paths: list[Path]) -> tuple[np.ndarray, list[int]]:
    def read(path):
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        return None if image is None else cv2.resize(image, (48, 48), interpolation=cv2.INTER_AREA)

    with ThreadPoolExecutor(4) as pool:
        images = list(tqdm(pool.map(read, paths), total=len(paths), desc="reading FER+", leave=False))
    bad = [i for i, image in enumerate(images) if image is None]
    stack = np.stack([image for image in images if image is not None]) if len(bad) < len(images) else None
    return stack, bad


def _ferplus_folder(folder: Path, classes, label_mode, drop_single_votes) -> tuple[Split, list[str]]:
    """One FER+ folder as an in-memory split (48x48 gray held as RGB), and its unreadable files."""
    if not folder.is_dir():
        raise EmotionError(f"{folder.parent}: {folder.name} not found (FER+ layout expected)")
    names, votes = _read_ferplus_split(folder)
    keep, targets = ferplus_targets(votes, classes, label_mode, drop_single_votes)
    names = [n for n, k in zip(names, keep) if k]
    gray, bad = _load_gray([folder / n for n in names])
    if gray is None:
        raise EmotionError(f"{folder}: no readable images")
    good = np.setdiff1d(np.arange(len(names)), bad)
    ids = [f"{folder.name}/{names[i]}" for i in good]
    log.info("FER+ %s: %d of %d images kept (%s labels)", folder.name, len(ids), len(keep), label_mode)
    split = Split(np.repeat(gray[..., None], 3, axis=-1), targets[good].astype(np.float32), ids)
    return split, [str(folder / names[i]) for i in bad]


def load(root, classes, label_mode: str, drop_uncertain: bool, drop_single_votes: bool, val_split: float,
         test_folder: str, split_seed: int, name: str) -> Data:
    """FER+ as Microsoft publishes it: FER2013Train and FER2013Valid (and FER2013Test) with label.csv.

    `train` and `val` (the selection split: epochs, checkpoints, champions) are
    a fixed stratified split of FER2013Train; `test` is `test_folder`
    (FER2013Valid by default), which nothing is chosen on: it is only reported.
    """
    root = existing_root(root, "ferplus")
    if test_folder == FERPLUS_TRAIN:
        raise EmotionError(f"data.test_folder cannot be {FERPLUS_TRAIN}: the model trains on it")
    classes = [c for c in classes if not (drop_uncertain and c == "uncertain")]
    labelled, skipped = _ferplus_folder(root / FERPLUS_TRAIN, classes, label_mode, drop_single_votes)
    test, bad = _ferplus_folder(root / test_folder, classes, label_mode, drop_single_votes)
    rest, val = stratified_split(labelled.labels, val_split, split_seed)
    splits = {"train": labelled.take(rest), "val": labelled.take(val), "test": test}
    parts = [labelled.ids, labelled.targets, test.ids, test.targets, val_split, split_seed]
    return Data(name, classes, splits, fingerprint(label_mode, classes, *parts), skipped=skipped + bad)
