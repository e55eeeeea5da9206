"""What every data source returns: labelled splits of images with (N, n_classes) float targets.

Targets are one-hot, or vote shares for FER+, so losses, class weights and
metrics treat all sources alike. The splits have roles: `train`; `val`, the
selection split, which chooses epochs, checkpoints and champions; and `test`,
which chooses nothing and is only reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Split:
    """Images (a uint8 N x H x W x 3 array, or file paths) with their targets."""

    images: np.ndarray | list[str]
    targets: np.ndarray
    ids: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def labels(self) -> np.ndarray:
        return self.targets.argmax(axis=1)

    def take(self, index) -> Split:
        index = np.asarray(index, dtype=int)
        images = self.images[index] if isinstance(self.images, np.ndarray) else [self.images[i] for i in index]
        return Split(images, self.targets[index], [self.ids[i] for i in index])


@dataclass
class Data:
    name: str
    classes: list[str]
    splits: dict[str, Split]
    fingerprint: str
    unlabeled: Split | None = None
    skipped: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            split: {c: int(n) for c, n in zip(self.classes, np.bincount(s.labels, minlength=len(self.classes)))}
            for split, s in self.splits.items()
        }


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes, dtype=np.float32)[labels]
