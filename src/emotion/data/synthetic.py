"""`data=synthetic`: simple drawn faces whose eyes, brows and mouth differ by emotion.

Used by the offline quick start and the tests: the classes are visibly
different, so a model that learns nothing is caught, and nothing is downloaded.
"""

from __future__ import annotations

import cv2
import numpy as np

from emotion.core.errors import EmotionError
from emotion.data.base import Data, Split, one_hot
from emotion.data.splits import fingerprint, selection_and_test

# Per class: brow tilt (+ = inner ends down, angry), brow lift, eye openness,
# mouth shape and mouth curvature (+ = smile).
FEATURES = {
    "anger": dict(tilt=0.35, lift=-0.02, eye=0.45, mouth="line", curve=-0.02),
    "contempt": dict(tilt=0.0, lift=0.0, eye=0.7, mouth="smirk", curve=0.0),
    "disgust": dict(tilt=0.2, lift=-0.01, eye=0.35, mouth="wave", curve=-0.03),
    "fear": dict(tilt=-0.3, lift=0.06, eye=1.3, mouth="open_wide", curve=0.0),
    "happy": dict(tilt=0.0, lift=0.01, eye=0.8, mouth="arc", curve=0.09),
    "neutral": dict(tilt=0.0, lift=0.0, eye=0.8, mouth="line", curve=0.0),
    "sad": dict(tilt=-0.35, lift=0.02, eye=0.6, mouth="arc", curve=-0.08),
    "surprise": dict(tilt=0.0, lift=0.09, eye=1.4, mouth="round", curve=0.0),
    "uncertain": dict(tilt=0.15, lift=0.03, eye=0.8, mouth="slant", curve=0.0),
}
CLASSES = tuple(FEATURES)


def draw_face(emotion: str, size: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """One RGB uint8 face of `emotion`, with random position, scale, tone and noise."""
    rng = rng or np.random.default_rng()
    f = FEATURES[emotion]
    s = 8  # draw at 8x and downscale: anti-aliased lines at any size
    big = size * s
    img = np.full((big, big, 3), rng.integers(20, 120), np.uint8)
    cx, cy = (0.5 + rng.uniform(-0.06, 0.06, 2)) * big
    r = big * rng.uniform(0.36, 0.44)
    tone = tuple(int(v) for v in rng.integers(140, 240, 3))
    dark = (int(rng.integers(0, 50)),) * 3

    def p(x, y):
        return int(cx + x * r), int(cy + y * r)

    cv2.ellipse(img, p(0, 0), (int(r * 0.8), int(r)), 0, 0, 360, tone, -1, cv2.LINE_AA)
    line = max(2, int(r * 0.06))
    for side in (-1, 1):
        eye_h = max(1, int(r * 0.07 * f["eye"]))
        cv2.ellipse(img, p(side * 0.33, -0.2), (int(r * 0.13), eye_h), 0, 0, 360, dark, -1, cv2.LINE_AA)
        brow = -0.45 - f["lift"]
        cv2.line(img, p(side * 0.15, brow + f["tilt"] * 0.3), p(side * 0.5, brow - f["tilt"] * 0.3), dark, line,
                 cv2.LINE_AA)
    shape, curve = f["mouth"], f["curve"]
    if shape in ("line", "arc"):
        xs = np.linspace(-0.35, 0.35, 24)
        ys = 0.45 + curve * (1 - (xs / 0.35) ** 2) * 3
        pts = np.array([p(x, y) for x, y in zip(xs, ys)], np.int32)
        cv2.polylines(img, [pts], False, dark, line, cv2.LINE_AA)
    elif shape == "smirk":
        pts = np.array([p(-0.3, 0.45), p(0.1, 0.45), p(0.35, 0.32)], np.int32)
        cv2.polylines(img, [pts], False, dark, line, cv2.LINE_AA)
    elif shape == "wave":
        xs = np.linspace(-0.35, 0.35, 24)
        pts = np.array([p(x, 0.48 + 0.05 * np.sin(x * 25)) for x in xs], np.int32)
        cv2.polylines(img, [pts], False, dark, line, cv2.LINE_AA)
    elif shape == "round":
        cv2.ellipse(img, p(0, 0.5), (int(r * 0.14), int(r * 0.2)), 0, 0, 360, dark, -1, cv2.LINE_AA)
    elif shape == "open_wide":
        cv2.ellipse(img, p(0, 0.5), (int(r * 0.3), int(r * 0.12)), 0, 0, 360, dark, -1, cv2.LINE_AA)
    elif shape == "slant":
        cv2.line(img, p(-0.3, 0.5), p(0.3, 0.4), dark, line, cv2.LINE_AA)
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def draw_faces(classes, per_class: int, size: int, seed: int):
    """(images N x size x size x 3 uint8, class indices N) in class order."""
    rng = np.random.default_rng(seed)
    unknown = [c for c in classes if c not in FEATURES]
    if unknown:
        raise ValueError(f"no drawing for classes {unknown}; known: {list(FEATURES)}")
    images = [draw_face(c, size, rng) for c in classes for _ in range(per_class)]
    labels = np.repeat(np.arange(len(classes)), per_class)
    return np.stack(images), labels


def load(classes, per_class: int, image_size: int, val_split: float, test_split: float, split_seed: int,
         name: str) -> Data:
    """`per_class` drawn faces of each class at `image_size`, split with `split_seed`."""
    try:
        images, labels = draw_faces(list(classes), per_class, image_size, split_seed)
    except ValueError as e:
        raise EmotionError(f"data=synthetic: {e}") from None
    everything = Split(images, one_hot(labels, len(classes)), [f"synthetic/{i}" for i in range(len(labels))])
    splits = selection_and_test(labels, val_split, test_split, split_seed)
    return Data(name, list(classes), {k: everything.take(v) for k, v in splits.items()},
                fingerprint(per_class, image_size, split_seed, list(classes), val_split, test_split))
