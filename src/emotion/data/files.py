"""Datasets of image files: the root that must exist, images that do not decode, a labelled set split."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from emotion.core.errors import EmotionError
from emotion.core.images import read_image
from emotion.data.base import Data, Split, one_hot
from emotion.data.splits import fingerprint, selection_and_test

log = logging.getLogger(__name__)


def existing_root(root, source: str) -> Path:
    if not root:
        raise EmotionError(f"data={source} needs data.root=<folder>")
    path = Path(root).expanduser()
    if not path.is_dir():
        raise EmotionError(f"dataset root not found: {path}")
    return path


def drop_unreadable(paths: list[str]) -> tuple[np.ndarray, list[str]]:
    """(mask of readable files, the unreadable ones): decoded in parallel by the contract's reader."""
    with ThreadPoolExecutor(4) as pool:
        bad = list(tqdm(pool.map(lambda p: read_image(p) is None, paths), total=len(paths),
                        desc="checking images", disable=len(paths) < 2000, leave=False))
    bad = np.array(bad, dtype=bool)
    skipped = [p for p, b in zip(paths, bad) if b]
    for p in skipped:
        log.warning("skipping unreadable image %s", p)
    return ~bad, skipped


def labelled(name, classes, paths, labels, root, val_split, test_split, split_seed, unlabeled=None) -> Data:
    """Image files with their class indices: unreadable ones dropped (and listed), split, fingerprinted."""
    keep, skipped = drop_unreadable(paths)
    paths = [p for p, k in zip(paths, keep) if k]
    labels = np.asarray(labels)[keep]
    if not paths:
        raise EmotionError(f"{root}: no readable images")
    ids = [str(Path(p).relative_to(root)) for p in paths]
    sizes = [Path(p).stat().st_size for p in paths]
    everything = Split(paths, one_hot(labels, len(classes)), ids)
    splits = selection_and_test(labels, val_split, test_split, split_seed)
    return Data(name, list(classes), {k: everything.take(v) for k, v in splits.items()},
                fingerprint(sorted(zip(ids, sizes, labels.tolist())), val_split, test_split, split_seed),
                unlabeled, skipped)
