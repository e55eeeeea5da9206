"""Data sources (synthetic, class folders, the course dataset, FER+) and the tf.data pipeline.

Every source returns a `Data`: labelled splits with targets as (N, n_classes)
float rows (one-hot, or vote shares for FER+), so losses, class weights and
metrics treat all sources alike.
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
    """Indices (train, val): `fraction` of every class goes to val, at least one when it has two."""
    if not 0 < fraction < 1:
        raise EmotionError(f"validation fraction must be in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        n_val = int(round(len(members) * fraction))
        n_val = min(max(n_val, 1 if len(members) > 1 else 0), len(members) - 1)
        val.extend(members[:n_val])
        train.extend(members[n_val:])
    return np.sort(np.array(train, int)), np.sort(np.array(val, int))


def fingerprint(*parts) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.tobytes() if isinstance(part, np.ndarray) else str(part).encode())
    return digest.hexdigest()[:16]


def _unreadable(path: str) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.verify()
        return False
    except Exception:  # noqa: BLE001 - any decoder failure means the file is unusable
        return True


def drop_unreadable(paths: list[str]) -> tuple[np.ndarray, list[str]]:
    """(mask of readable files, the unreadable ones), checked in parallel before training."""
    with ThreadPoolExecutor(8) as pool:
        bad = list(tqdm(pool.map(_unreadable, paths), total=len(paths), desc="checking images",
                        disable=len(paths) < 2000, leave=False))
    bad = np.array(bad, dtype=bool)
    skipped = [p for p, b in zip(paths, bad) if b]
    for p in skipped:
        log.warning("skipping unreadable image %s", p)
    return ~bad, skipped


def _labelled(name, classes, paths, labels, root, val_split, seed, unlabeled=None) -> Data:
    keep, skipped = drop_unreadable(paths)
    paths = [p for p, k in zip(paths, keep) if k]
    labels = np.asarray(labels)[keep]
    if not paths:
        raise EmotionError(f"{root}: no readable images")
    ids = [str(Path(p).relative_to(root)) for p in paths]
    sizes = [Path(p).stat().st_size for p in paths]
    everything = Split(paths, one_hot(labels, len(classes)), ids)
    train, val = stratified_split(labels, val_split, seed)
    return Data(name, list(classes), {"train": everything.take(train), "val": everything.take(val)},
                fingerprint(sorted(zip(ids, sizes, labels.tolist()))), unlabeled, skipped)


def synthetic(classes, per_class: int = 100, image_size: int = 64, val_split: float = 0.2,
              seed: int = 0, name: str = "synthetic", **_) -> Data:
    """Drawn faces made in code: the offline quick start needs no file at all."""
    from emotion.synthetic import draw_faces

    try:
        images, labels = draw_faces(list(classes), per_class, image_size, seed)
    except ValueError as e:
        raise EmotionError(f"data=synthetic: {e}") from None
    everything = Split(images, one_hot(labels, len(classes)), [f"synthetic/{i}" for i in range(len(labels))])
    train, val = stratified_split(labels, val_split, seed)
    return Data(name, list(classes), {"train": everything.take(train), "val": everything.take(val)},
                fingerprint(per_class, image_size, seed, list(classes)))


def _images_in(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _existing_root(root, source: str) -> Path:
    if not root:
        raise EmotionError(f"data={source} needs data.root=<folder>")
    path = Path(root).expanduser()
    if not path.is_dir():
        raise EmotionError(f"dataset root not found: {path}")
    return path


def folder(root, classes=None, val_split: float = 0.2, seed: int = 0, name: str = "folder", **_) -> Data:
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
    return _labelled(name, classes, paths, labels, root, val_split, seed)


def skillbox(root=None, classes=(), val_split: float = 0.2, seed: int = 0, name: str = "skillbox",
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
    return _labelled(name, classes, paths, labels, root, val_split, seed, unlabeled)


# FER+ label.csv vote columns, in file order, mapped to our class names.
FERPLUS_VOTES = ("neutral", "happy", "surprise", "sad", "anger", "disgust", "fear", "contempt", "uncertain", "NF")
FERPLUS_SPLITS = {"train": "FER2013Train", "val": "FER2013Valid", "test": "FER2013Test"}


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


def ferplus(root=None, classes=(), label_mode: str = "probability", drop_uncertain: bool = False,
            drop_single_votes: bool = True, name: str = "ferplus", **_) -> Data:
    """FER+ as Microsoft publishes it: FER2013Train / FER2013Valid (/ FER2013Test) with label.csv.

    Images (48x48 gray) are held in memory as RGB; `val` is FER2013Valid, never a
    slice of the training set, and `test` is present when the folder exists.
    """
    root = _existing_root(root, "ferplus")
    classes = [c for c in classes if not (drop_uncertain and c == "uncertain")]
    splits, skipped, parts = {}, [], []
    for split, folder_name in FERPLUS_SPLITS.items():
        folder = root / folder_name
        if not folder.is_dir():
            if split == "test":
                continue
            raise EmotionError(f"{root}: {folder_name} not found (FER+ layout expected)")
        names, votes = _read_ferplus_split(folder)
        keep, targets = ferplus_targets(votes, classes, label_mode, drop_single_votes)
        names = [n for n, k in zip(names, keep) if k]
        gray, bad = _load_gray([folder / n for n in names])
        skipped += [str(folder / names[i]) for i in bad]
        if gray is None:
            raise EmotionError(f"{folder}: no readable images")
        good = np.setdiff1d(np.arange(len(names)), bad)
        ids = [f"{folder_name}/{names[i]}" for i in good]
        splits[split] = Split(np.repeat(gray[..., None], 3, axis=-1), targets[good].astype(np.float32), ids)
        parts += [ids, targets[good]]
        log.info("FER+ %s: %d of %d images kept (%s labels)", folder_name, len(ids), len(keep), label_mode)
    return Data(name, classes, splits, fingerprint(label_mode, classes, *parts), skipped=skipped)
