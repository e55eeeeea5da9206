"""`data=skillbox`: the course dataset, `train.csv` (image_path,emotion), `train/<class>/`, `test_kaggle/`."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from emotion.core.errors import EmotionError
from emotion.core.images import images_in
from emotion.core.remote import extract_once, fetch
from emotion.data.base import Data, Split
from emotion.data.files import existing_root, labelled


def _downloaded(download, cache_dir: str, labels_csv: str, test_dir: str) -> tuple[Path, Path | None]:
    """The archives fetched once from Google Drive into the cache and unpacked: (root, test folder or None)."""
    unpacked = Path(cache_dir).expanduser() / "skillbox"
    for part in ("train", "test"):
        archive = fetch(download[part], cache_dir, override_hint="data.root=<local copy of the dataset>")
        extract_once(archive.path, unpacked / part)
    found = sorted(unpacked.rglob(labels_csv))
    if not found:
        raise EmotionError(f"{unpacked}: the downloaded archive has no {labels_csv}")
    return found[0].parent, next((p for p in sorted(unpacked.rglob(test_dir)) if p.is_dir()), None)


def load(root, classes, val_split: float, test_split: float, split_seed: int, name: str, labels_csv: str,
         test_dir: str, download, cache_dir: str) -> Data:
    """From `root`, or, without it, from the course's archives (see `_downloaded`)."""
    if root:
        root, test = existing_root(root, "skillbox"), None
    else:
        root, test = _downloaded(download, cache_dir, labels_csv, test_dir)
    table = root / labels_csv
    if not table.is_file():
        raise EmotionError(f"{root}: {labels_csv} not found")
    index = {c: i for i, c in enumerate(classes)}
    paths, labels = [], []
    with open(table, newline="") as f:
        for row_number, row in enumerate(csv.DictReader(f), start=2):
            label = row["emotion"].strip()
            if label not in index:
                raise EmotionError(f"{table}:{row_number}: label {label!r} is not in the class list {list(classes)}")
            relative = row["image_path"].strip().removeprefix("./")
            paths.append(str(root / relative))
            labels.append(index[label])
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise EmotionError(f"{table}: {len(missing)} listed images are missing, e.g. {missing[0]}")
    test = test or root / test_dir
    unlabeled = None
    if test.is_dir():
        test_images = [str(p) for p in images_in(test)]
        unlabeled = Split(test_images, np.zeros((len(test_images), len(classes)), np.float32),
                          [str(Path(p).relative_to(test.parent)) for p in test_images])
    return labelled(name, classes, paths, labels, root, val_split, test_split, split_seed, unlabeled)
