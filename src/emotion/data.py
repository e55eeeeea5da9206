"""Data sources: synthetic faces, class folders, the course dataset, FER+.

Every source returns a `Data`: labelled splits with targets as (N, n_classes)
float rows (one-hot, or vote shares for FER+), so losses, class weights and
metrics treat all sources alike. The splits have roles: `train`; `val`, the
selection split, which chooses epochs, checkpoints and champions; and `test`,
which chooses nothing and is only reported.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from emotion.download import extract_once, fetch
from emotion.errors import EmotionError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


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


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (rest, part): `fraction` of every class goes to part, at least one when it has two."""
    if not 0 < fraction < 1:
        raise EmotionError(f"split fraction must be in (0, 1), got {fraction}")
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
    if not 0 <= test_split < 1 or not 0 < val_split < 1 or val_split + test_split >= 1:
        raise EmotionError(f"val_split {val_split} and test_split {test_split} must be fractions summing below 1")
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


def drop_unreadable(paths: list[str]) -> tuple[np.ndarray, list[str]]:
    """(mask of readable files, the unreadable ones): decoded in parallel by the contract's reader."""
    from emotion.inputs import read_image

    with ThreadPoolExecutor(4) as pool:
        bad = list(tqdm(pool.map(lambda p: read_image(p) is None, paths), total=len(paths),
                        desc="checking images", disable=len(paths) < 2000, leave=False))
    bad = np.array(bad, dtype=bool)
    skipped = [p for p, b in zip(paths, bad) if b]
    for p in skipped:
        log.warning("skipping unreadable image %s", p)
    return ~bad, skipped


def _labelled(name, classes, paths, labels, root, val_split, test_split, split_seed, unlabeled=None) -> Data:
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


def synthetic(classes, per_class: int = 100, image_size: int = 64, val_split: float = 0.2,
              test_split: float = 0.2, split_seed: int = 0, name: str = "synthetic", **_) -> Data:
    """Drawn faces made in code: the offline quick start needs no file at all."""
    from emotion.synthetic import draw_faces

    try:
        images, labels = draw_faces(list(classes), per_class, image_size, split_seed)
    except ValueError as e:
        raise EmotionError(f"data=synthetic: {e}") from None
    everything = Split(images, one_hot(labels, len(classes)), [f"synthetic/{i}" for i in range(len(labels))])
    splits = selection_and_test(labels, val_split, test_split, split_seed)
    return Data(name, list(classes), {k: everything.take(v) for k, v in splits.items()},
                fingerprint(per_class, image_size, split_seed, list(classes), val_split, test_split))


def _images_in(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _existing_root(root, source: str) -> Path:
    if not root:
        raise EmotionError(f"data={source} needs data.root=<folder>")
    path = Path(root).expanduser()
    if not path.is_dir():
        raise EmotionError(f"dataset root not found: {path}")
    return path


def folder(root, classes=None, val_split: float = 0.1, test_split: float = 0.1, split_seed: int = 0,
           name: str = "folder", **_) -> Data:
    """Any tree of `root/<class>/<image>`; classes default to the subfolder names."""
    root = _existing_root(root, "folder")
    found = sorted(p.name for p in root.iterdir() if p.is_dir())
    classes = list(classes) if classes else found
    strangers = sorted(set(found) - set(classes))
    if strangers:
        raise EmotionError(f"{root}: label {strangers[0]!r} is not in the class list {classes}")
    paths, labels = [], []
    for index, label in enumerate(classes):
        images = _images_in(root / label) if (root / label).is_dir() else []
        if not images:
            raise EmotionError(f"{root}: class folder {label!r} is missing or has no images")
        paths += images
        labels += [index] * len(images)
    return _labelled(name, classes, paths, labels, root, val_split, test_split, split_seed)


def skillbox(root=None, classes=(), val_split: float = 0.1, test_split: float = 0.1, split_seed: int = 0,
             name: str = "skillbox",
             download=None, cache_dir: str = "~/.cache/emotion", labels_csv: str = "train.csv",
             test_dir: str = "test_kaggle", **_) -> Data:
    """The course dataset: `train.csv` (image_path,emotion), `train/<class>/`, `test_kaggle/`.

    Without `root` the archives are fetched from Google Drive once into the cache.
    """
    test = None
    if root:
        root = _existing_root(root, "skillbox")
    else:
        unpacked = Path(cache_dir).expanduser() / "skillbox"
        for part in ("train", "test"):
            spec = download[part]
            archive = fetch(spec.filename, Path(cache_dir).expanduser(), gdrive_ids=list(spec.gdrive_ids),
                            sha256=spec.get("sha256"), override_hint="data.root=<local copy of the dataset>")
            extract_once(archive.path, unpacked / part)
        found = sorted(unpacked.rglob(labels_csv))
        if not found:
            raise EmotionError(f"{unpacked}: the downloaded archive has no {labels_csv}")
        root = found[0].parent
        test = next((p for p in sorted(unpacked.rglob(test_dir)) if p.is_dir()), None)
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
        test_images = _images_in(test)
        unlabeled = Split(test_images, np.zeros((len(test_images), len(classes)), np.float32),
                          [str(Path(p).relative_to(test.parent)) for p in test_images])
    return _labelled(name, classes, paths, labels, root, val_split, test_split, split_seed, unlabeled)


# FER+ label.csv vote columns, in file order, mapped to our class names.
FERPLUS_VOTES = ("neutral", "happy", "surprise", "sad", "anger", "disgust", "fear", "contempt", "uncertain", "NF")
FERPLUS_TRAIN = "FER2013Train"


def ferplus_targets(votes: np.ndarray, classes: list[str], mode: str, drop_single_votes: bool = True):
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
    if mode != "probability":
        raise EmotionError(f"data.label_mode must be majority or probability, not {mode!r}")
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
    import cv2

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


def ferplus(root=None, classes=(), label_mode: str = "probability", drop_uncertain: bool = False,
            drop_single_votes: bool = True, val_split: float = 0.1, test_folder: str = "FER2013Valid",
            split_seed: int = 0, name: str = "ferplus", **_) -> Data:
    """FER+ as Microsoft publishes it: FER2013Train and FER2013Valid (and FER2013Test) with label.csv.

    `train` and `val` (the selection split: epochs, checkpoints, champions) are
    a fixed stratified split of FER2013Train; `test` is `test_folder`
    (FER2013Valid by default), which nothing is chosen on: it is only reported.
    """
    root = _existing_root(root, "ferplus")
    if test_folder == FERPLUS_TRAIN:
        raise EmotionError(f"data.test_folder cannot be {FERPLUS_TRAIN}: the model trains on it")
    classes = [c for c in classes if not (drop_uncertain and c == "uncertain")]
    labelled, skipped = _ferplus_folder(root / FERPLUS_TRAIN, classes, label_mode, drop_single_votes)
    test, bad = _ferplus_folder(root / test_folder, classes, label_mode, drop_single_votes)
    rest, val = stratified_split(labelled.labels, val_split, split_seed)
    splits = {"train": labelled.take(rest), "val": labelled.take(val), "test": test}
    parts = [labelled.ids, labelled.targets, test.ids, test.targets, val_split, split_seed]
    return Data(name, classes, splits, fingerprint(label_mode, classes, *parts), skipped=skipped + bad)
