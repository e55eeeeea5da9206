"""Typed schemas of the entry points' root configs (train, evaluate, export, infer, moments)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emotion.schema.groups import (
    Augment,
    Backbone,
    Debug,
    Engine,
    Eval,
    Head,
    Paths,
    Runtime,
    Schedule,
    Tracking,
    Variant,
    bounded,
    choices,
)


@dataclass
class TrainConfig:
    data: Any = None
    augment: Augment = field(default_factory=Augment)
    backbone: Backbone = field(default_factory=Backbone)
    head: Head = field(default_factory=Head)
    schedule: Schedule = field(default_factory=Schedule)
    callbacks: dict[str, Any] = field(default_factory=dict)
    runtime: Runtime = field(default_factory=Runtime)
    eval: Eval = field(default_factory=Eval)
    tracking: Tracking = field(default_factory=Tracking)
    paths: Paths = field(default_factory=Paths)
    debug: Debug | None = None


@dataclass
class TrackedModel:
    """What every entry point that uses a trained model has: the model, where runs live, where files go."""

    model: str = "best"
    tracking: Tracking = field(default_factory=Tracking)
    paths: Paths = field(default_factory=Paths)


@dataclass
class Engined(TrackedModel):
    """The entry points that run the inference engine on frames (infer, moments)."""

    detector: Any = None
    engine: Engine = field(default_factory=Engine)


Via = choices("Via", "dataset", "engine")


@dataclass
class EvaluateConfig(TrackedModel):
    data: Any = None
    eval: Eval = field(default_factory=Eval)
    engine: Engine = field(default_factory=Engine)
    split: str = "test"
    via: Via = Via.dataset


@dataclass
class ExportConfig(TrackedModel):
    variants: list[Variant] = field(default_factory=lambda: list(Variant))
    representative_images: int = bounded(300, ge=1)
    max_drop: float = 1.0
    force: bool = False
    threads: int = bounded(2, ge=1)
    data_root: str | None = None
    output_dir: str = "???"


@dataclass
class Output:
    video: str | None = None
    csv: str | None = None
    summary: str | None = None


@dataclass
class InferConfig(Engined):
    camera: int | None = bounded(None, ge=0)
    source: str | None = None
    display: Any = "auto"
    max_frames: int | None = bounded(None, ge=1)
    warmup_frames: int = bounded(3, ge=0)
    min_timed_frames: int = bounded(10, ge=1)
    budget_s: float = bounded(0.33, gt=0.0)
    strict: bool = False
    output: Output = field(default_factory=Output)


Stage = choices("Stage", "all", "classify", "score")
ViewerMode = choices("ViewerMode", "all", "largest")
ExecutorKind = choices("ExecutorKind", "local", "ray")


@dataclass
class Executor:
    kind: ExecutorKind = ExecutorKind.local
    address: str | None = None
    workers: int = bounded(2, ge=1)
    cpus_per_worker: float = bounded(1, gt=0)
    num_cpus: int | None = bounded(None, ge=1)


@dataclass
class Report:
    thumbnails: int = bounded(5, ge=1, le=20)
    embed_trailer_mb: float = bounded(25, ge=0)


@dataclass
class Segments:
    top_k: int = bounded(5, ge=1)
    min_len_s: float = bounded(3, gt=0)
    max_len_s: float = bounded(12, gt=0)
    min_gap_s: float = bounded(5, ge=0)
    keep: float = bounded(0.5, ge=0.0, le=1.0)
    min_score: float = 0.0
    reaction_lag_s: float = bounded(1.5, ge=0)
    budget_s: float = bounded(60, gt=0)


@dataclass
class MomentsConfig(Engined):
    recordings: list[str] = field(default_factory=list)
    recording: str | None = None
    manifest: str | None = None
    frames_csv: list[str] = field(default_factory=list)
    frames_dir: str | None = None
    stage: Stage = Stage.all
    executor: Executor = field(default_factory=Executor)
    viewers: ViewerMode = ViewerMode.all
    min_track_share: float = bounded(0.2, ge=0.0, le=1.0)
    report: Report = field(default_factory=Report)
    episode: str | None = None
    duration_s: float | None = bounded(None, gt=0)
    output_dir: str = "???"
    run_name: str | None = None
    fps: float = bounded(3, gt=0)
    classes: list[str] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict)
    baseline_quantile: float = bounded(0.5, ge=0.0, le=1.0)
    noise_floor: float = bounded(0.05, ge=0.0)
    scale_quantile: float = bounded(0.99, gt=0.0, le=1.0)
    react_threshold: float = bounded(0.3, ge=0.0, le=1.0)
    together_power: float = bounded(1.0, ge=0.0)
    smooth_s: int = bounded(3, ge=1)
    segments: Segments = field(default_factory=Segments)


ROOTS = {"train": TrainConfig, "evaluate": EvaluateConfig, "export": ExportConfig, "infer": InferConfig,
         "moments": MomentsConfig}
