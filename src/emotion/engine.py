"""The per-frame engine shared by `emotion.infer`, the notebook API and the moments pipeline.

detect -> square crops -> one batch through the model -> faces tracked across
frames (optionally with smoothed probabilities), each stage timed.
"""

from __future__ import annotations

import resource
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from emotion.detect import Box, square_crop

Classify = Callable[[np.ndarray], np.ndarray]


@dataclass
class Face:
    id: int
    box: Box
    probabilities: np.ndarray
    label: str
    confidence: float


@dataclass
class FrameResult:
    faces: list[Face] = field(default_factory=list)
    detect_ms: float = 0.0
    classify_ms: float = 0.0
    total_ms: float = 0.0


def iou(a: Box, b: Box) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    union = aw * ah + bw * bh - inter
    return inter / union if union else 0.0


class Tracker:
    """Gives each face an id kept across frames (greedy box overlap) and averages its
    probabilities over its last `window` frames."""

    def __init__(self, window: int = 1, min_iou: float = 0.3):
        self.window, self.min_iou = max(1, int(window)), min_iou
        self.tracks: dict[int, tuple[Box, deque]] = {}
        self.next_id = 0

    def update(self, boxes: list[Box], probabilities: np.ndarray) -> list[tuple[int, np.ndarray]]:
        pairs = sorted(((iou(box, old), i, tid) for i, box in enumerate(boxes)
                        for tid, (old, _) in self.tracks.items()), reverse=True)
        assigned: dict[int, int] = {}
        for overlap, i, tid in pairs:
            if overlap < self.min_iou:
                break
            if i not in assigned and tid not in assigned.values():
                assigned[i] = tid
        tracks = {}
        out = []
        for i, box in enumerate(boxes):
            tid = assigned.get(i)
            if tid is None:
                tid, self.next_id = self.next_id, self.next_id + 1
                history = deque(maxlen=self.window)
            else:
                history = self.tracks[tid][1]
            history.append(probabilities[i])
            tracks[tid] = (box, history)
            out.append((tid, np.mean(history, axis=0)))
        self.tracks = tracks
        return out


def prepare(crops: list[np.ndarray], size: int) -> np.ndarray:
    """BGR crops -> one float32 RGB batch at the model's input size (pixels in [0, 255])."""
    batch = np.empty((len(crops), size, size, 3), np.float32)
    for i, crop in enumerate(crops):
        interpolation = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR
        batch[i] = cv2.cvtColor(cv2.resize(crop, (size, size), interpolation=interpolation), cv2.COLOR_BGR2RGB)
    return batch


class Engine:
    def __init__(self, detector: Callable[[np.ndarray], list[Box]], classify: Classify, classes: list[str],
                 input_size: int, margin: float = 0.1, smoothing: int = 1, detect_every: int = 1):
        self.detector, self.classify = detector, classify
        self.classes, self.input_size, self.margin = list(classes), int(input_size), margin
        self.tracker = Tracker(smoothing)
        self.detect_every = max(1, int(detect_every))
        self.frames = 0
        self.boxes: list[Box] = []

    def process(self, frame: np.ndarray) -> FrameResult:
        start = time.perf_counter()
        if self.frames % self.detect_every == 0:
            self.boxes = list(self.detector(frame))
        self.frames += 1
        detected = time.perf_counter()
        result = FrameResult(detect_ms=(detected - start) * 1000)
        if self.boxes:
            crops, squares = zip(*(square_crop(frame, box, self.margin) for box in self.boxes))
            probabilities = np.asarray(self.classify(prepare(list(crops), self.input_size)))
            classified = time.perf_counter()
            result.classify_ms = (classified - detected) * 1000
            for (tid, p), box in zip(self.tracker.update(list(squares), probabilities), squares):
                k = int(np.argmax(p))
                result.faces.append(Face(tid, box, p, self.classes[k], float(p[k])))
        else:
            self.tracker.update([], np.zeros((0, len(self.classes))))
        result.total_ms = (time.perf_counter() - start) * 1000
        return result


def keras_classifier(model, threads: int | None = None) -> Classify:
    """A compiled call of the Keras model (several times faster than `model.predict` per frame)."""
    import tensorflow as tf

    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        except RuntimeError:  # TensorFlow already started: its thread pool is fixed
            pass

    size = int(model.input_shape[1])
    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True,
                       input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)])
    return lambda batch: call(tf.convert_to_tensor(batch)).numpy()


def peak_rss_mb() -> float:
    """Peak resident memory of this process. Linux's VmHWM, unlike ru_maxrss, is not inherited
    from a larger parent across fork and exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
