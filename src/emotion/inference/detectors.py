"""Face detectors: OpenCV's Haar cascade, OpenCV's YuNet, or none (the frame is the face); BlazeFace, the
default, is in `emotion.inference.blazeface`.

Each returns what it found, boxes (x, y, w, h) in the pixels of the frame it was given with a score, and
says from which score a face stands on its own (`score_threshold`): the engine keeps such faces, and weaker
ones only where they continue a tracked face.
"""

from __future__ import annotations

import logging
from typing import NamedTuple, Protocol

import cv2
import numpy as np

from emotion.core.errors import EmotionError
from emotion.core.remote import fetch

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]


class Found(NamedTuple):
    """A face a detector found, and how sure it is (0-1; detectors without scores say 1)."""

    box: Box
    score: float


class Detector(Protocol):
    """Frames (BGR) in, faces out; from `score_threshold` on a face stands on its own."""

    score_threshold: float

    def __call__(self, frame: np.ndarray) -> list[Found]: ...


class HaarDetector:
    """The frontal-face cascade shipped with OpenCV (`cv2.data`); `cascade` is a file name there, or a path.

    Detection runs on a grayscale copy downscaled to `max_width` (boxes are
    scaled back), and faces smaller than `min_size` of the frame's shorter
    side are not searched for: both cut the cost that grows with image area.
    The cascade has no score: every face it finds stands on its own.
    """

    score_threshold = 1.0

    def __init__(self, cascade: str, scale_factor: float, min_neighbors: int, min_size: float,
                 max_width: int | None):
        path = cascade if "/" in cascade else cv2.data.haarcascades + cascade
        self.cascade = cv2.CascadeClassifier(path)
        if self.cascade.empty():
            raise EmotionError(f"cannot load the Haar cascade {path}")
        self.scale_factor, self.min_neighbors = scale_factor, min_neighbors
        self.min_size, self.max_width = min_size, max_width

    def __call__(self, frame: np.ndarray) -> list[Found]:
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        scale = 1.0
        if self.max_width and gray.shape[1] > self.max_width:
            scale = self.max_width / gray.shape[1]
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        side = max(1, int(self.min_size * min(gray.shape[:2])))
        found = self.cascade.detectMultiScale(gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
                                              minSize=(side, side))
        return [Found(tuple(int(round(v / scale)) for v in box), 1.0) for box in found]


class YuNetDetector:
    """OpenCV's `FaceDetectorYN` with the YuNet ONNX model (path, or URL with checksum and cache)."""

    def __init__(self, model, cache_dir: str, score_threshold: float, nms_threshold: float, max_width: int | None):
        fetched = fetch(model, cache_dir, override_hint="detector.model.path=<yunet .onnx file>")
        try:
            self.net = cv2.FaceDetectorYN.create(str(fetched.path), "", (320, 320), score_threshold, nms_threshold)
        except cv2.error as e:
            raise EmotionError(f"cannot load YuNet model {fetched.path}: {str(e).strip().splitlines()[-1]}") from None
        self.max_width, self.score_threshold = max_width, score_threshold

    def __call__(self, frame: np.ndarray) -> list[Found]:
        scale = 1.0
        if self.max_width and frame.shape[1] > self.max_width:
            scale = self.max_width / frame.shape[1]
            frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        self.net.setInputSize((frame.shape[1], frame.shape[0]))
        _, faces = self.net.detect(frame)
        if faces is None:
            return []
        return [Found(tuple(int(round(v / scale)) for v in face[:4]), float(face[-1])) for face in faces]


class WholeFrame:
    """No detection: the frame is the face (pre-cropped faces); it is classified whole, not cropped square."""

    whole_frame = True
    score_threshold = 1.0

    def __call__(self, frame: np.ndarray) -> list[Found]:
        return [Found((0, 0, frame.shape[1], frame.shape[0]), 1.0)]


def square_crop(frame: np.ndarray, box: Box, margin: float = 0.1) -> tuple[np.ndarray, Box]:
    """A square around `box`, grown by `margin` of its side and kept inside the frame."""
    height, width = frame.shape[:2]
    x, y, w, h = box
    side = int(round(max(w, h) * (1 + margin)))
    side = max(1, min(side, width, height))
    cx, cy = x + w / 2, y + h / 2
    left = int(round(min(max(cx - side / 2, 0), width - side)))
    top = int(round(min(max(cy - side / 2, 0), height - side)))
    return frame[top:top + side, left:left + side], (left, top, side, side)
