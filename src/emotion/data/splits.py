"""Stratified selection and test splits with a fixed seed, and the fingerprint that identifies a dataset.

Fractions are checked once, by the config schema; these functions trust them.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (rest, part): `fraction` of every class goes to part, at least one when it has two."""
    rng = np.random.default_rng(seed)
    rest, part = [], []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        n_part = int(round(len(members) * fraction))
        n_part = min(max(n_part, 1 if len(members) > 1 else 0), len(members) - 1)
        part.extend(members[:n_part])
        rest.extend(members[n_part:])
    return np.sort(np.array(rest, int)), np.sort(np.array(part, int))


def selection_and_test(labels: np.ndarray, val_split: float, test_split: float, seed: int) -> dict[str, np.ndarray]:
    """Stratified indices for `train`, `val` (the selection split) and, when `test_split` > 0, `test`.

    `val` chooses epochs, checkpoints and champions; `test` is only ever
    reported. Fractions are of the whole labelled set.
    """
    everything = np.arange(len(labels))
    splits = {}
    if test_split > 0:
        everything, splits["test"] = stratified_split(labels, test_split, seed)
    rest, val = stratified_split(labels[everything], val_split / (1 - test_split), seed + 1)
    return {"train": everything[rest], "val": everything[val], **splits}


def fingerprint(*parts) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.tobytes() if isinstance(part, np.ndarray) else str(part).encode())
    return digest.hexdigest()[:16]
