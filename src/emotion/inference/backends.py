"""Which runtime classifies: a tracked model's accepted LiteRT export (through `ai_edge_litert` alone) or its
Keras model (through TensorFlow); and the engine built around the configured model and detector."""

from __future__ import annotations

import logging

import mlflow
from omegaconf import DictConfig

from emotion.core.config import build
from emotion.core.errors import EmotionError
from emotion.core.threads import set_threads
from emotion.inference.classifiers import Classify, keras_classifier
from emotion.inference.engine import Engine
from emotion.inference.litert import PREFERENCE, LiteRTClassifier
from emotion.inference.packaged import PACKAGED, require_packaged
from emotion.tracking.lookup import exported_variants, load_keras_model, model_metadata, resolve_model_uri, run_id_of

log = logging.getLogger(__name__)


def load_classifier(uri: str, backend: str, variant: str | None, threads: int) -> tuple[Classify, str]:
    """The model behind `uri` as a classifier, and a description of its runtime ("keras, 2 threads", ...).

    `litert`, or `auto` when `python -m emotion.export` accepted a LiteRT file
    for the model: LiteRT, never importing TensorFlow (the fastest accepted
    variant unless `variant` names one). Otherwise Keras, with TensorFlow's
    threads set before it starts. The packaged model is LiteRT only.
    """
    if uri == PACKAGED:
        meta = require_packaged()
        if backend == "keras" or (variant and variant != meta["variant"]):
            raise EmotionError(f"the packaged model is LiteRT {meta['variant']} only: use engine=auto or litert")
        return LiteRTClassifier(meta["path"], threads), f"litert {meta['variant']}, {_threads(threads)}"
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
    effective = set_threads(threads, threads)
    return keras_classifier(load_keras_model(uri)), f"keras, {_threads(effective['intra_op'])}"


def _threads(n: int) -> str:
    return f"{n} thread{'' if n == 1 else 's'}"


def engine_for(detector, classify: Classify, classes: list[str], input_size: int, engine_cfg: DictConfig) -> Engine:
    """An engine with the `engine` group's margin, smoothing, detection interval and track lifetime."""
    return Engine(detector, classify, classes, input_size, margin=engine_cfg.margin, smoothing=engine_cfg.smoothing,
                  detect_every=engine_cfg.detect_every, lost_track_s=engine_cfg.lost_track_s)


def build_engine(engine_cfg: DictConfig, detector_cfg: DictConfig, tracking_cfg: DictConfig,
                 model: str) -> tuple[Engine, dict]:
    """The model chosen by `model`, the configured detector, and the engine around them; with the model's
    metadata, its URI and runtime."""
    uri = resolve_model_uri(str(model), tracking_cfg)
    meta = model_metadata(uri)
    classify, runtime = load_classifier(uri, engine_cfg.backend, engine_cfg.variant, engine_cfg.threads)
    detector = build(detector_cfg, "detector")
    engine = engine_for(detector, classify, meta["classes"], meta["input_size"], engine_cfg)
    log.info("model %s on %s (%d classes, %d px), detector %s", uri, runtime, len(meta["classes"]),
             meta["input_size"], type(detector).__name__)
    return engine, {**meta, "uri": uri, "runtime": runtime}
