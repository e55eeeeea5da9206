"""`data=folder`: any tree of `root/<class>/<image>`."""

from __future__ import annotations

from emotion.core.errors import EmotionError
from emotion.core.images import images_in
from emotion.data.base import Data
from emotion.data.files import existing_root, labelled


def load(root, classes, val_split: float, test_split: float, split_seed: int, name: str) -> Data:
    """Classes default to the subfolder names (sorted)."""
    root = existing_root(root, "folder")
    found = sorted(p.name for p in root.iterdir() if p.is_dir())
    classes = list(classes) if classes else found
    strangers = sorted(set(found) - set(classes))
    if strangers:
        raise EmotionError(f"{root}: label {strangers[0]!r} is not in the class list {classes}")
    paths, labels = [], []
    for index, label in enumerate(classes):
        images = [str(p) for p in images_in(root / label)] if (root / label).is_dir() else []
        if not images:
            raise EmotionError(f"{root}: class folder {label!r} is missing or has no images")
        paths += images
        labels += [index] * len(images)
    return labelled(name, classes, paths, labels, root, val_split, test_split, split_seed)
