"""Schemas of what a training run is made of: augmentation, backbone, head, schedule, runtime, evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from emotion.schema.base import (
    FRACTION,
    ClassWeight,
    Color,
    FillMode,
    Mode,
    Precision,
    Preprocessing,
    Strategy,
    Weights,
    bounded,
)


@dataclass
class Augment:
    rotation: float = bounded(ge=0, le=180)
    width_shift: float = bounded(**FRACTION)
    height_shift: float = bounded(**FRACTION)
    shear: float = bounded(ge=0, lt=90)
    zoom: float = bounded(**FRACTION)
    horizontal_flip: bool = MISSING
    brightness: list[float] | None = MISSING
    contrast: float = bounded(**FRACTION)
    fill_mode: FillMode = MISSING
    erase: float = bounded(ge=0.0, le=1.0)
    erase_area: list[float] = MISSING


@dataclass
class Backbone:
    net: Any = MISSING
    input_size: int = bounded(ge=16, le=1024)
    channels: int = bounded(ge=1, le=3)
    color: Color = MISSING
    preprocessing: Preprocessing = MISSING
    cut_layer: str | None = MISSING
    freeze_bn: bool = MISSING
    weights: Weights | None = MISSING
    pretrained: bool = MISSING


@dataclass
class Head:
    layers: list[Any] = MISSING
    output: Any = MISSING


@dataclass
class Stage:
    epochs: int = bounded(ge=0)
    backbone_trainable_from: str | None = MISSING
    optimizer: Any = MISSING


@dataclass
class Schedule:
    batch_size: int = bounded(ge=1)
    steps_per_epoch: int | None = MISSING
    label_smoothing: float = bounded(**FRACTION)
    class_weight: ClassWeight | None = MISSING
    ema_momentum: float | None = bounded(gt=0.0, lt=1.0)
    cache_views: int | None = bounded(ge=1)
    verbose: int = bounded(ge=0, le=2)
    monitor: str = MISSING
    monitor_mode: Mode = MISSING
    stages: dict[str, Stage] = MISSING


@dataclass
class Threads:
    intra_op: int = bounded(ge=0)
    inter_op: int = bounded(ge=0)


@dataclass
class Runtime:
    seed: int = MISSING
    threads: Threads = field(default_factory=Threads)
    precision: Precision = MISSING
    strategy: Strategy = MISSING
    cpu_devices: int = bounded(ge=1, le=64)
    jit_compile: bool = MISSING


@dataclass
class Eval:
    batch_size: int = bounded(ge=1)
    tta_flip: bool = MISSING
    bootstrap: int = bounded(ge=0)
    prior_shift: list[float] = MISSING
    prior_shift_max_drop: float = bounded(ge=0.0)


@dataclass
class Debug:
    batches: int = bounded(ge=1)
    epochs: int = bounded(ge=1)
    images: int = bounded(ge=1)
