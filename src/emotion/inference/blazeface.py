"""MediaPipe's BlazeFace full-range face detector, run by LiteRT: every face of a group, near or far.

The model file ships inside the package (`models/`, Apache-2.0, see its README):
nothing is downloaded at run time and MediaPipe is not needed. The frame is
letterboxed into the model's 192x192 input, each of the 48x48 anchors predicts a
box and a score, and overlapping boxes are merged by OpenCV's non-maximum
suppression. Boxes at or above `track_threshold` are returned with their
score: the engine keeps a face on its own from `score_threshold`, and one that
continues a tracked face from `track_threshold` (ByteTrack's second stage).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import cv2
import numpy as np
from ai_edge_litert.interpreter import Interpreter

from emotion.core.errors import EmotionError, first_line
from emotion.inference.detectors import Found

SHIPPED = "face_detection_full_range_sparse.tflite"
# The full-range model's anchors: one per cell of a 48x48 grid (stride 4 on 192 px), unit size.
GRID = 48
# Logits are clipped as MediaPipe does before the sigmoid.
CLIP = 100.0


def shipped_model() -> Path:
    """The model file inside the installed package (a plain file: the package is never zipped)."""
    return Path(str(files("emotion.inference").joinpath("models", SHIPPED)))


class BlazeFaceDetector:
    def __init__(self, model: str | None, score_threshold: float, track_threshold: float, nms_threshold: float,
                 threads: int):
        path = Path(model).expanduser() if model else shipped_model()
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
        centres = (np.arange(GRID) + 0.5) / GRID
        x, y = np.meshgrid(centres, centres)
        self.anchors = np.stack([x.ravel(), y.ravel()], axis=1) * self.size
        self.score_threshold, self.track_threshold = score_threshold, track_threshold
        self.nms_threshold = nms_threshold
        self.min_logit = float(np.log(track_threshold / (1 - track_threshold))) if 0 < track_threshold < 1 else -CLIP

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

    def __call__(self, frame: np.ndarray) -> list[Found]:
        tensor, scale, left, top = self._input(frame)
        self.interpreter.set_tensor(self.input, tensor)
        self.interpreter.invoke()
        logits = np.clip(self.interpreter.get_tensor(self.scores_out)[0, :, 0], -CLIP, CLIP)
        keep = np.flatnonzero(logits >= self.min_logit)
        if not len(keep):
            return []
        raw = self.interpreter.get_tensor(self.boxes_out)[0, keep, :4]
        scores = 1 / (1 + np.exp(-logits[keep]))
        centre = raw[:, :2] + self.anchors[keep]
        corner = (centre - raw[:, 2:4] / 2 - (left, top)) / scale
        sizes = raw[:, 2:4] / scale
        boxes = np.concatenate([corner, sizes], axis=1)
        chosen = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), self.track_threshold, self.nms_threshold)
        return [Found(tuple(int(round(v)) for v in boxes[i]), float(scores[i])) for i in np.ravel(chosen)]
