"""The per-frame algorithm shared by `emotion.infer`, the notebook API, the moments pipeline and evaluation.

detect -> square crops -> one batch through the model -> faces identified across
frames (optionally with smoothed probabilities), each stage timed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from emotion.core.images import BGR, model_batch
from emotion.inference.classifiers import Classify
from emotion.inference.detectors import Box, Detector, square_crop
from emotion.inference.tracks import FaceTracks


@dataclass
class Face:
    track_id: int | None  # the identity across a stream's frames; None for a still or a face seen once
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


class Engine:
    """Frames in, faces with probabilities out.

    `process` treats frames as a continuous stream (camera, video): boxes are
    carried between detections, faces keep their identity (ByteTrack, on the
    frames' presentation times) and their probabilities are smoothed over it.
    `process_still` treats a frame on its own (a photo, a folder of faces):
    nothing is carried from the previous image. `reset` starts a new stream.
    """

    def __init__(self, detector: Detector, classify: Classify, classes: list[str],
                 input_size: int, *, margin: float, smoothing: int, detect_every: int, lost_track_s: float):
        self.detector, self.classify = detector, classify
        self.classes, self.input_size, self.margin = list(classes), int(input_size), margin
        self.smoothing, self.lost_track_s = smoothing, lost_track_s
        self.detect_every = max(1, int(detect_every))
        self.reset()

    def reset(self, rate: float = 30.0) -> None:
        """Forget every face, identity and carried box: a new stream of about `rate` frames per second."""
        self.tracks = FaceTracks(self.smoothing, self.lost_track_s, rate, self.detector.score_threshold)
        self.frames = 0
        self.boxes: list[Box] = []
        self.ids: list[int | None] = []

    def crops(self, frame: np.ndarray, boxes: list[Box]) -> tuple[list[np.ndarray], list[Box]]:
        if getattr(self.detector, "whole_frame", False):  # the frame is the face: no square crop
            return [frame], [(0, 0, frame.shape[1], frame.shape[0])]
        pairs = [square_crop(frame, box, self.margin) for box in boxes]
        return [crop for crop, _ in pairs], [box for _, box in pairs]

    def _classified(self, frame: np.ndarray, boxes: list[Box], start: float, detected: float):
        """(the timed result so far, probabilities, the square boxes classified)."""
        result = FrameResult(detect_ms=(detected - start) * 1000)
        if not boxes:
            return result, np.zeros((0, len(self.classes))), []
        crops, squares = self.crops(frame, boxes)
        before = time.perf_counter()
        probabilities = np.asarray(self.classify(model_batch(crops, self.input_size, BGR)))
        result.classify_ms = (time.perf_counter() - before) * 1000
        return result, probabilities, squares

    def _faces(self, result: FrameResult, ids, squares, probabilities, start: float) -> FrameResult:
        for track_id, box, p in zip(ids, squares, probabilities):
            k = int(np.argmax(p))
            result.faces.append(Face(track_id, box, p, self.classes[k], float(p[k])))
        result.total_ms = (time.perf_counter() - start) * 1000
        return result

    def process_still(self, frame: np.ndarray) -> FrameResult:
        """A frame on its own: the faces the detector is sure of."""
        start = time.perf_counter()
        boxes = [f.box for f in self.detector(frame) if f.score >= self.detector.score_threshold]
        result, probabilities, squares = self._classified(frame, boxes, start, time.perf_counter())
        return self._faces(result, [None] * len(squares), squares, probabilities, start)

    def process(self, frame: np.ndarray, time_s: float | None = None) -> FrameResult:
        """A frame of a stream: the faces the detector is sure of, and weaker ones that continue a tracked face."""
        start = time.perf_counter()
        detected = start
        if self.frames % self.detect_every == 0:
            found = self.detector(frame)
            detected = time.perf_counter()
            ids = self.tracks.identify([f.box for f in found], [f.score for f in found], time_s)
            sure = self.detector.score_threshold
            kept = [(f.box, i) for f, i in zip(found, ids) if i is not None or f.score >= sure]
            self.boxes, self.ids = [box for box, _ in kept], [i for _, i in kept]
        self.frames += 1
        result, probabilities, squares = self._classified(frame, self.boxes, start, detected)
        return self._faces(result, self.ids, squares, self.tracks.smooth(self.ids, probabilities), start)
