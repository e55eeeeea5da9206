"""Schemas of a screening's parts: where recordings are classified, how an episode is scored, the review page."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from emotion.schema.base import ExecutorKind, bounded


@dataclass
class LocalExecutor:
    kind: ExecutorKind = ExecutorKind.local


@dataclass
class RayExecutor:
    kind: ExecutorKind = ExecutorKind.ray
    address: str | None = MISSING
    workers: int = bounded(ge=1)
    cpus_per_worker: float = bounded(gt=0)
    num_cpus: int | None = bounded(ge=1)


EXECUTORS = {s.kind.value: s for s in (LocalExecutor, RayExecutor)}


@dataclass
class SoundSync:
    by: str = "sound"
    rate_hz: int = bounded(ge=1000, le=48000)
    min_confidence: float = bounded(ge=0.0, le=1.0)
    separation_s: float = bounded(gt=0.0)


@dataclass
class GivenSync:
    by: str = "given"


SYNCS = {s.by: s for s in (SoundSync, GivenSync)}


@dataclass
class ContentShots:
    detector: str = "content"
    threshold: float = bounded(gt=0.0)
    min_shot_s: float = bounded(gt=0.0)
    tolerance_s: float = bounded(ge=0.0)


@dataclass
class NoShots:
    detector: str = "none"


SHOTS = {s.detector: s for s in (ContentShots, NoShots)}


@dataclass
class Decode:
    sampling: bool = MISSING


@dataclass
class Report:
    thumbnails: int = bounded(ge=1, le=20)
    faces: int = bounded(ge=0, le=50)
    face_px: int = bounded(ge=16, le=512)
    embed_trailer_mb: float = bounded(ge=0)


@dataclass
class Segments:
    top_k: int = bounded(ge=1)
    min_len_s: float = bounded(gt=0)
    max_len_s: float = bounded(gt=0)
    min_gap_s: float = bounded(ge=0)
    keep: float = bounded(ge=0.0, le=1.0)
    min_score: float = MISSING
    reaction_lag_s: float = bounded(ge=0)
    budget_s: float = bounded(gt=0)


@dataclass
class Scoring:
    weights: dict[str, float] = MISSING
    baseline_quantile: float = bounded(ge=0.0, le=1.0)
    noise_floor: float = bounded(ge=0.0)
    scale_quantile: float = bounded(gt=0.0, le=1.0)
    react_threshold: float = bounded(ge=0.0, le=1.0)
    together_power: float = bounded(ge=0.0)
    smooth_s: int = bounded(ge=1)
    segments: Segments = field(default_factory=Segments)
