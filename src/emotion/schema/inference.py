"""Schemas of the inference engine and of the face detectors (one per option, chosen by `_target_`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from emotion.schema.base import Backend, RemoteFile, Variant, bounded


@dataclass
class Engine:
    backend: Backend = MISSING
    variant: Variant | None = MISSING
    threads: int = bounded(ge=1)
    margin: float = bounded(ge=0.0, le=2.0)
    smoothing: int = bounded(ge=1)
    detect_every: int = bounded(ge=1)
    lost_track_s: float = bounded(gt=0)


@dataclass
class HaarDetector:
    _target_: str = "emotion.inference.detectors.HaarDetector"
    cascade: str = MISSING
    scale_factor: float = bounded(gt=1.0)
    min_neighbors: int = bounded(ge=0)
    min_size: float = bounded(ge=0.0, le=1.0)
    max_width: int | None = bounded(ge=16)


@dataclass
class YuNetDetector:
    _target_: str = "emotion.inference.detectors.YuNetDetector"
    model: RemoteFile = field(default_factory=RemoteFile)
    cache_dir: str = MISSING
    score_threshold: float = bounded(ge=0.0, le=1.0)
    nms_threshold: float = bounded(ge=0.0, le=1.0)
    max_width: int | None = bounded(ge=16)


@dataclass
class BlazeFaceDetector:
    _target_: str = "emotion.inference.blazeface.BlazeFaceDetector"
    model: str = MISSING
    near_model: str | None = MISSING
    near_min_face: float = bounded(ge=0.0, le=1.0)
    score_threshold: float = bounded(gt=0.0, lt=1.0)
    track_threshold: float = bounded(gt=0.0, lt=1.0)
    nms_threshold: float = bounded(ge=0.0, le=1.0)
    threads: int = bounded(ge=1)


@dataclass
class WholeFrame:
    _target_: str = "emotion.inference.detectors.WholeFrame"


DETECTORS = {s._target_: s for s in (BlazeFaceDetector, HaarDetector, YuNetDetector, WholeFrame)}
