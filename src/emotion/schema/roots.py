"""Typed schemas of the entry points' root configs (train, evaluate, export, infer, moments, screen)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from emotion.schema.base import Paths, ScreenStage, Stage, Tracking, Variant, Via, ViewerMode, bounded
from emotion.schema.inference import Engine
from emotion.schema.live import Alert, Page, Record
from emotion.schema.screening import Decode, Report, Scoring
from emotion.schema.training import Augment, Backbone, Debug, Eval, Head, Runtime, Schedule


@dataclass
class TrainConfig:
    data: Any = MISSING
    augment: Augment = field(default_factory=Augment)
    backbone: Backbone = field(default_factory=Backbone)
    head: Head = field(default_factory=Head)
    schedule: Schedule = field(default_factory=Schedule)
    callbacks: dict[str, Any] = MISSING
    runtime: Runtime = field(default_factory=Runtime)
    eval: Eval = field(default_factory=Eval)
    tracking: Tracking = field(default_factory=Tracking)
    paths: Paths = field(default_factory=Paths)
    debug: Debug | None = None  # the group is off unless chosen (debug=fast)


@dataclass
class TrackedModel:
    """What every entry point that uses a trained model has: the model, where runs live, where files go."""

    model: str = MISSING
    tracking: Tracking = field(default_factory=Tracking)
    paths: Paths = field(default_factory=Paths)


@dataclass
class Engined(TrackedModel):
    """The entry points that run the inference engine on frames (infer, moments)."""

    detector: Any = MISSING
    engine: Engine = field(default_factory=Engine)


@dataclass
class EvaluateConfig(TrackedModel):
    data: Any = MISSING
    eval: Eval = field(default_factory=Eval)
    engine: Engine = field(default_factory=Engine)
    split: str = MISSING
    via: Via = MISSING


@dataclass
class ExportConfig(TrackedModel):
    variants: list[Variant] = MISSING
    representative_images: int = bounded(ge=1)
    max_drop: float = MISSING
    force: bool = MISSING
    threads: int = bounded(ge=1)
    data_root: str | None = MISSING
    output_dir: str = MISSING


@dataclass
class Output:
    video: str | None = MISSING
    csv: str | None = MISSING
    summary: str | None = MISSING


@dataclass
class InferConfig(Engined):
    camera: int | None = bounded(ge=0)
    source: str | None = MISSING
    display: Any = MISSING
    max_frames: int | None = bounded(ge=1)
    warmup_frames: int = bounded(ge=0)
    min_timed_frames: int = bounded(ge=1)
    budget_s: float = bounded(gt=0.0)
    strict: bool = MISSING
    output: Output = field(default_factory=Output)


@dataclass
class MomentsConfig(Engined):
    recordings: list[str] = MISSING
    recording: str | None = MISSING
    manifest: str | None = MISSING
    frames_csv: list[str] = MISSING
    frames_dir: str | None = MISSING
    stage: Stage = MISSING
    moments_json: str | None = MISSING
    executor: Any = MISSING
    sync: Any = MISSING
    shots: Any = MISSING
    viewers: ViewerMode = MISSING
    min_track_share: float = bounded(ge=0.0, le=1.0)
    report: Report = field(default_factory=Report)
    episode: str | None = MISSING
    duration_s: float | None = bounded(gt=0)
    output_dir: str = MISSING
    run_name: str | None = MISSING
    fps: float = bounded(gt=0)
    decode: Decode = field(default_factory=Decode)
    classes: list[str] = MISSING
    scoring: Scoring = field(default_factory=Scoring)


@dataclass
class ScreenConfig(Engined):
    cameras: list[int] = MISSING
    microphones: list[str | None] = MISSING
    sources: list[str] = MISSING
    names: list[str] = MISSING
    stage: ScreenStage = MISSING
    output_dir: str = MISSING
    max_s: float | None = bounded(gt=0)
    fps: float = bounded(gt=0)
    classes: list[str] = MISSING
    scoring: Scoring = field(default_factory=Scoring)
    episode: str | None = MISSING
    moments: list[str] = MISSING
    record: Record = field(default_factory=Record)
    page: Page = field(default_factory=Page)
    alert: Alert = field(default_factory=Alert)


ROOTS = {"train": TrainConfig, "evaluate": EvaluateConfig, "export": ExportConfig, "infer": InferConfig,
         "moments": MomentsConfig, "screen": ScreenConfig}
