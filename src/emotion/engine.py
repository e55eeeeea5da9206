"""The per-frame engine shared by `emotion.infer`, the notebook API, the moments pipeline and evaluation.

detect -> square crops -> one batch through the model -> faces identified across
frames (optionally with smoothed probabilities), each stage timed.
"""

from __future__ import annotations

import logging
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from emotion.detect import Box, square_crop
from emotion.errors import EmotionError
from emotion.inputs import BGR, model_batch
from emotion.tracks import FaceTracks

log = logging.getLogger(__name__)

Classify = Callable[[np.ndarray], np.ndarray]


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


def with_mirror(classify: Classify) -> Classify:
    """Each face's probabilities averaged with its mirror image's (test-time augmentation)."""
    return lambda batch: (np.asarray(classify(batch)) + np.asarray(classify(batch[:, :, ::-1]))) / 2


class Engine:
    """Frames in, faces with probabilities out.

    `process` treats frames as a continuous stream (camera, video): boxes are
    carried between detections, faces keep their identity (ByteTrack, on the
    frames' presentation times) and their probabilities are smoothed over it.
    `process_still` treats a frame on its own (a photo, a folder of faces):
    nothing is carried from the previous image. `reset` starts a new stream.
    """

    def __init__(self, detector: Callable[[np.ndarray], list[Box]], classify: Classify, classes: list[str],
                 input_size: int, margin: float = 0.1, smoothing: int = 1, detect_every: int = 1,
                 lost_track_s: float = 2.0):
        self.detector, self.classify = detector, classify
        self.classes, self.input_size, self.margin = list(classes), int(input_size), margin
        self.smoothing, self.lost_track_s = smoothing, lost_track_s
        self.detect_every = max(1, int(detect_every))
        self.reset()

    def reset(self, rate: float = 30.0) -> None:
        """Forget every face, identity and carried box: a new stream of about `rate` frames per second."""
        self.tracks = FaceTracks(self.smoothing, self.lost_track_s, rate)
        self.frames = 0
        self.boxes: list[Box] = []
        self.ids: list[int | None] = []

    def crops(self, frame: np.ndarray, boxes: list[Box]) -> tuple[list[np.ndarray], list[Box]]:
        if getattr(self.detector, "whole_frame", False):  # the frame is the face: no square crop
            return [frame], [(0, 0, frame.shape[1], frame.shape[0])]
        pairs = [square_crop(frame, box, self.margin) for box in boxes]
        return [crop for crop, _ in pairs], [box for _, box in pairs]

    def _classified(self, frame: np.ndarray, boxes: list[Box], start: float):
        """(the timed result so far, probabilities, the square boxes classified)."""
        detected = time.perf_counter()
        result = FrameResult(detect_ms=(detected - start) * 1000)
        if not boxes:
            return result, np.zeros((0, len(self.classes))), []
        crops, squares = self.crops(frame, boxes)
        probabilities = np.asarray(self.classify(model_batch(crops, self.input_size, BGR)))
        result.classify_ms = (time.perf_counter() - detected) * 1000
        return result, probabilities, squares

    def _faces(self, result: FrameResult, ids, squares, probabilities, start: float) -> FrameResult:
        for track_id, box, p in zip(ids, squares, probabilities):
            k = int(np.argmax(p))
            result.faces.append(Face(track_id, box, p, self.classes[k], float(p[k])))
        result.total_ms = (time.perf_counter() - start) * 1000
        return result

    def process_still(self, frame: np.ndarray) -> FrameResult:
        start = time.perf_counter()
        result, probabilities, squares = self._classified(frame, list(self.detector(frame)), start)
        return self._faces(result, [None] * len(squares), squares, probabilities, start)

    def process(self, frame: np.ndarray, time_s: float | None = None) -> FrameResult:
        start = time.perf_counter()
        detect_now = self.frames % self.detect_every == 0
        if detect_now:
            self.boxes = list(self.detector(frame))
        self.frames += 1
        result, probabilities, squares = self._classified(frame, self.boxes, start)
        if detect_now:
            self.ids = self.tracks.identify(self.boxes, time_s)
        return self._faces(result, self.ids, squares, self.tracks.smooth(self.ids, probabilities), start)


def keras_classifier(model) -> Classify:
    """A compiled call of the Keras model (several times faster than `model.predict` per frame).

    Thread counts are the process's: `emotion.runtime.set_threads` sets them before TensorFlow starts.
    """
    import tensorflow as tf

    size = int(model.input_shape[1])
    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True,
                       input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)])
    return lambda batch: call(tf.convert_to_tensor(batch, tf.float32)).numpy()


BACKENDS = ("auto", "keras", "litert")


def load_classifier(uri: str, backend: str = "auto", variant: str | None = None,
                    threads: int = 2) -> tuple[Classify, str]:
    """The model behind `uri` as a classifier, and a description of its runtime ("keras, 2 threads", ...).

    `litert`, or `auto` when `python -m emotion.export` accepted a LiteRT file
    for the model: LiteRT through `ai_edge_litert`, never importing TensorFlow
    (the fastest accepted variant unless `variant` names one). Otherwise Keras,
    with TensorFlow's threads set before it starts.
    """
    import mlflow

    from emotion.litert import PREFERENCE, LiteRTClassifier
    from emotion.tracking import exported_variants, load_keras_model, run_id_of

    if backend not in BACKENDS:
        raise EmotionError(f"engine.backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    run_id = run_id_of(uri) if backend in ("litert", "auto") else None
    exported = exported_variants(run_id) if run_id else {}
    if backend == "litert" and not exported:
        raise EmotionError(f"model {uri} has no LiteRT export: run `python -m emotion.export model={uri}`")
    if exported:
        variant = variant or next(v for v in PREFERENCE if v in exported)
        if variant not in exported:
            raise EmotionError(f"model {uri} has no accepted LiteRT {variant} export (it has {', '.join(exported)})")
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=exported[variant])
        return LiteRTClassifier(path, threads), f"litert {variant}, {_threads(threads)}"
    from emotion.runtime import set_threads

    effective = set_threads(threads, threads)
    return keras_classifier(load_keras_model(uri)), f"keras, {_threads(effective['intra_op'])}"


def _threads(n: int) -> str:
    return f"{n} thread{'' if n == 1 else 's'}"


def build_engine(engine_cfg: DictConfig, detector_cfg: DictConfig, tracking_cfg: DictConfig,
                 model: str = "best") -> tuple[Engine, dict]:
    """The model chosen by `model`, the configured detector, and the engine around them."""
    from emotion.config import build
    from emotion.tracking import model_metadata, resolve_model_uri

    uri = resolve_model_uri(str(model), tracking_cfg)
    meta = model_metadata(uri)
    classify, runtime = load_classifier(uri, engine_cfg.backend, engine_cfg.variant, engine_cfg.threads)
    detector = build(detector_cfg, "detector")
    engine = Engine(detector, classify, meta["classes"], meta["input_size"], engine_cfg.margin,
                    engine_cfg.smoothing, engine_cfg.detect_every, engine_cfg.lost_track_s)
    log.info("model %s on %s (%d classes, %d px), detector %s", uri, runtime, len(meta["classes"]),
             meta["input_size"], type(detector).__name__)
    return engine, {**meta, "uri": uri, "runtime": runtime}


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
