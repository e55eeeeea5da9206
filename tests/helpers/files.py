"""Files the tests write: class-folder trees, the course layout, FER+ folders, per-frame records, face videos."""

import csv

import cv2
import numpy as np

from emotion.data.synthetic import CLASSES, draw_face
from emotion.inference.record import header

CLASSES3 = ["happy", "neutral", "sad"]


def write_tree(root, per_class=5, classes=CLASSES3, size=40):
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            face = draw_face(c if c in CLASSES else "neutral", size, rng)
            cv2.imwrite(str(root / c / f"{i}.jpg"), face[..., ::-1])
    return root


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


ROWS = [
    [0, 10, 0, 0, 0, 0, 0, 0, 0, 0],  # happy, unanimous
    [6, 0, 1, 1, 0, 0, 0, 0, 2, 0],   # neutral, soft
    [5, 5, 0, 0, 0, 0, 0, 0, 0, 0],   # tie: dropped
    [0, 0, 0, 0, 0, 0, 0, 0, 1, 9],   # not a face: dropped
    [1, 0, 0, 0, 0, 0, 0, 0, 7, 2],   # unknown -> uncertain
    [0, 0, 0, 0, 2, 6, 0, 1, 0, 1],   # disgust
]


def write_ferplus(root, splits=("FER2013Train", "FER2013Valid")):
    rng = np.random.default_rng(0)
    for split in splits:
        folder = root / split
        folder.mkdir(parents=True)
        with open(folder / "label.csv", "w", newline="") as f:
            writer = csv.writer(f)
            for i, votes in enumerate(ROWS * 2):
                name = f"fer{i:07d}.png"
                cv2.imwrite(str(folder / name), rng.integers(0, 255, (48, 48), dtype=np.uint8))
                writer.writerow([name, "(0, 0, 48, 48)", *votes])
    return root


def write_viewer(path, seconds, bursts, amplitude=0.8, fps=3, noise=0.02, seed=0):
    """An infer-style CSV: a calm (neutral) viewer, `bursts` = [(start, end, emotion)] of strong reactions."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header(list(CLASSES)))
        for i in range(seconds * fps):
            t = i / fps
            p = np.full(len(CLASSES), 0.02) + rng.uniform(0, noise, len(CLASSES))
            p[list(CLASSES).index("neutral")] += 0.8
            for start, end, emotion in bursts:
                if start <= t < end:
                    p[list(CLASSES).index(emotion)] += amplitude
                    p[list(CLASSES).index("neutral")] = 0.05
            p /= p.sum()
            label = CLASSES[int(p.argmax())]
            writer.writerow([i, f"{t:.3f}", 0, 10, 10, 50, 50, label, f"{p.max():.4f}", *[f"{v:.4f}" for v in p],
                             1, 1, 2])
    return path


def face_video(path, frames=12, size=96, fps=10.0):
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (size, size))
    for i in range(frames):
        writer.write(draw_face(CLASSES[i % len(CLASSES)], size, rng)[..., ::-1])
    writer.release()
    return path
