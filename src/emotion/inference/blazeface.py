"""MediaPipe's BlazeFace face detectors, run by LiteRT: the full-range model for every face of a group, and the
short-range model for the faces near the camera that the full-range model is unsure of.

The model files ship inside the package (`models/`, Apache-2.0, see its README):
nothing is downloaded at run time and MediaPipe is not needed. The frame is
letterboxed into each model's square input (192 px full range, 128 px short
range), each SSD anchor predicts a box and a score, and overlapping boxes of
both models are merged by OpenCV's non-maximum suppression. Boxes at or above
`track_threshold` are returned with their score: the engine keeps a face on its
own from `score_threshold`, and one that continues a tracked face from
`track_threshold` (ByteTrack's second stage).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import cv2
import numpy as np
from ai_edge_litert.interpreter import Interpreter

from emotion.core.errors import EmotionError, first_line
from emotion.inference.detectors import Found

FULL_RANGE = "face_detection_full_range_sparse.tflite"
SHORT_RANGE = "face_detection_short_range.tflite"
# MediaPipe's SSD anchors, unit size, at the centres of each grid's cells: (stride, anchors per cell) by the
# model's input side. Full range: one per cell of 48x48 (2304); short range: two per cell of 16x16 and six
# per cell of 8x8 (896). A box's offsets are in input pixels from its anchor.
ANCHORS = {192: ((4, 1),), 128: ((8, 2), (16, 6))}
# Logits are clipped as MediaPipe does before the sigmoid.
CLIP = 100.0


def shipped_model(name: str = FULL_RANGE) -> Path:
    """A model file inside the installed package (a plain file: the package is never zipped)."""
    return Path(str(files("emotion.inference").joinpath("models", name)))


def logit(p: float) -> float:
    return float(np.log(p / (1 - p))) if 0 < p < 1 else -CLIP


def anchors(size: int) -> np.ndarray:
    """The (x, y) input pixel of each anchor, in the model's output order."""
    grids = []
    for stride, per_cell in ANCHORS.get(size, ()):
        centres = (np.arange(size // stride) + 0.5) * stride
        x, y = np.meshgrid(centres, centres)
        grids.append(np.repeat(np.stack([x.ravel(), y.ravel()], axis=1), per_cell, axis=0))
    return np.concatenate(grids) if grids else np.zeros((0, 2))


class BlazeFaceModel:
    """One BlazeFace model file: a frame in, every anchor's box (x, y, w, h in the frame's pixels) and logit out."""

    def __init__(self, name: str, threads: int):
        path = Path(name).expanduser() if "/" in name else shipped_model(name)
        if not path.is_file():
            raise EmotionError(f"BlazeFace model not found: {path}")
        try:
            self.interpreter = Interpreter(model_path=str(path), num_threads=int(threads))
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise EmotionError(f"cannot load BlazeFace model {path}: {first_line(e)}") from None
        details = self.interpreter.get_input_details()[0]
        self.input, self.size = details["index"], int(details["shape"][1])
        outputs = sorted(self.interpreter.get_output_details(), key=lambda d: int(d["shape"][-1]), reverse=True)
        self.boxes_out, self.scores_out = outputs[0]["index"], outputs[1]["index"]
        self.anchors = anchors(self.size)
        if len(self.anchors) != int(outputs[1]["shape"][1]):
            raise EmotionError(f"{path} is not a BlazeFace model with MediaPipe's anchors (input {self.size} px)")

    def _input(self, frame: np.ndarray) -> tuple[np.ndarray, float, int, int]:
        """The letterboxed model input, and how to map its pixels back (scale, left, top)."""
        height, width = frame.shape[:2]
        scale = self.size / max(height, width)
        w, h = max(1, round(width * scale)), max(1, round(height * scale))
        left, top = (self.size - w) // 2, (self.size - h) // 2
        small = cv2.resize(frame, (w, h), interpolation=cv2.INTER_LINEAR)
        padded = cv2.copyMakeBorder(small, top, self.size - h - top, left, self.size - w - left,
                                    cv2.BORDER_CONSTANT, value=0)
        rgb = cv2.cvtColor(padded, cv2.COLOR_BGR2RGB if padded.ndim == 3 else cv2.COLOR_GRAY2RGB)
        return (rgb.astype(np.float32) * (1 / 127.5) - 1)[None], scale, left, top

    def __call__(self, frame: np.ndarray, min_logit: float) -> tuple[np.ndarray, np.ndarray]:
        """(boxes N x 4, logits N) of the anchors whose logit is at least `min_logit`."""
        tensor, scale, left, top = self._input(frame)
        self.interpreter.set_tensor(self.input, tensor)
        self.interpreter.invoke()
        logits = np.clip(self.interpreter.get_tensor(self.scores_out)[0, :, 0], -CLIP, CLIP)
        keep = np.flatnonzero(logits >= min_logit)
        raw = self.interpreter.get_tensor(self.boxes_out)[0, keep, :4]
        corner = (raw[:, :2] + self.anchors[keep] - raw[:, 2:4] / 2 - (left, top)) / scale
        return np.concatenate([corner, raw[:, 2:4] / scale], axis=1), logits[keep]


class BlazeFaceDetector:
    """`model` on every face; `near_model`, when given, adds the faces near the camera that `model` is unsure of.

    Both are file names in the package or paths. The near model's boxes count from `near_min_face` of the
    frame's shorter side (smaller faces are `model`'s, and there the near model takes title letters for faces)
    and from `score_threshold`: its weaker boxes, large and on an empty background, would keep the track of a
    viewer who has left alive.
    """

    def __init__(self, model: str, near_model: str | None, near_min_face: float, score_threshold: float,
                 track_threshold: float, nms_threshold: float, threads: int):
        self.model = BlazeFaceModel(model, threads)
        self.near = BlazeFaceModel(near_model, threads) if near_model else None
        self.near_min_face = near_min_face
        self.score_threshold, self.track_threshold = score_threshold, track_threshold
        self.nms_threshold = nms_threshold
        self.min_logit, self.near_min_logit = logit(track_threshold), logit(score_threshold)

    def __call__(self, frame: np.ndarray) -> list[Found]:
        boxes, logits = self.model(frame, self.min_logit)
        if self.near:
            near, near_logits = self.near(frame, self.near_min_logit)
            big = near[:, 2:].max(axis=1, initial=0) >= self.near_min_face * min(frame.shape[:2])
            boxes, logits = np.concatenate([boxes, near[big]]), np.concatenate([logits, near_logits[big]])
        if not len(logits):
            return []
        scores = 1 / (1 + np.exp(-logits))
        chosen = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), self.track_threshold, self.nms_threshold)
        return [Found(tuple(int(round(v)) for v in boxes[i]), float(scores[i])) for i in np.ravel(chosen)]
