"""Typed schemas of the config groups: types, choices (Enums) and ranges (field metadata).

Groups whose options build different things (data sources, detectors) have one
schema per option, chosen by the option's `_target_`. Keys that name a Keras
class to build (`_target_` specs of layers, optimizers, callbacks) stay `Any`:
every such option is instantiated by a test instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


def bounded(default, ge=None, gt=None, le=None, lt=None):
    """A field with a range, checked by `emotion.schema.validate`."""
    return field(default=default, metadata={k: v for k, v in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt))
                                            if v is not None})


FRACTION = dict(ge=0.0, lt=1.0)


def choices(name: str, *values: str) -> type[Enum]:
    """An Enum of the allowed strings: OmegaConf refuses any other value and lists these."""
    return Enum(name, {value: value for value in values})


LabelMode = choices("LabelMode", "majority", "probability")
FillMode = choices("FillMode", "nearest", "reflect", "wrap", "constant")
Preprocessing = choices("Preprocessing", "vggface2", "unit", "symmetric")
ClassWeight = choices("ClassWeight", "balanced")
Mode = choices("Mode", "min", "max")
Precision = choices("Precision", "float32", "mixed_float16", "mixed_bfloat16")
Strategy = choices("Strategy", "default", "mirrored", "tpu")
Backend = choices("Backend", "auto", "keras", "litert")
Variant = choices("Variant", "fp32", "dynamic", "int8")
# What a run is optimised and promoted on: the selection split's figures, never the test split's.
SelectionMetric = choices("SelectionMetric", "selection_accuracy", "selection_macro_f1")
Promote = choices("Promote", "better", "always", "never")


# --- data: one schema per source ---------------------------------------------------------------

@dataclass
class Download:
    filename: str = "???"
    gdrive_ids: list[str] = field(default_factory=list)
    sha256: str | None = None


@dataclass
class SkillboxDownload:
    train: Download = field(default_factory=Download)
    test: Download = field(default_factory=Download)


@dataclass
class Splits:
    """The selection (val) and test fractions of a labelled set, and the seed that draws them."""

    val_split: float = bounded(0.1, gt=0.0, lt=1.0)
    test_split: float = bounded(0.1, **FRACTION)
    split_seed: int = 0


@dataclass
class SyntheticData(Splits):
    _target_: str = "emotion.data.synthetic"
    name: str = "synthetic"
    classes: list[str] = field(default_factory=list)
    per_class: int = bounded(150, ge=3)
    image_size: int = bounded(64, ge=16, le=1024)


@dataclass
class FolderData(Splits):
    _target_: str = "emotion.data.folder"
    name: str = "folder"
    root: str = "???"
    classes: list[str] | None = None


@dataclass
class SkillboxData(Splits):
    _target_: str = "emotion.data.skillbox"
    name: str = "skillbox"
    root: str | None = None
    classes: list[str] = field(default_factory=list)
    labels_csv: str = "train.csv"
    test_dir: str = "test_kaggle"
    download: SkillboxDownload = field(default_factory=SkillboxDownload)


@dataclass
class FerplusData:
    _target_: str = "emotion.data.ferplus"
    name: str = "ferplus"
    root: str = "???"
    classes: list[str] = field(default_factory=list)
    label_mode: LabelMode = LabelMode.probability
    drop_uncertain: bool = False
    drop_single_votes: bool = True
    val_split: float = bounded(0.1, gt=0.0, lt=1.0)
    test_folder: str = "FER2013Valid"
    split_seed: int = 0


DATA = {s._target_: s for s in (SyntheticData, FolderData, SkillboxData, FerplusData)}


# --- model ------------------------------------------------------------------------------------

@dataclass
class Augment:
    rotation: float = bounded(0.0, ge=0, le=180)
    width_shift: float = bounded(0.0, **FRACTION)
    height_shift: float = bounded(0.0, **FRACTION)
    shear: float = bounded(0.0, ge=0, lt=90)
    zoom: float = bounded(0.0, **FRACTION)
    horizontal_flip: bool = False
    brightness: list[float] | None = None
    contrast: float = bounded(0.0, **FRACTION)
    fill_mode: FillMode = FillMode.nearest


@dataclass
class Weights:
    filename: str = "???"
    urls: list[str] = field(default_factory=list)
    gdrive_ids: list[str] = field(default_factory=list)
    sha256: str | None = None
    path: str | None = None


@dataclass
class Backbone:
    net: Any = None
    input_size: int = bounded(224, ge=16, le=1024)
    channels: int = bounded(3, ge=1, le=3)
    preprocessing: Preprocessing = Preprocessing.vggface2
    cut_layer: str | None = None
    freeze_bn: bool = True
    weights: Weights | None = None


@dataclass
class Head:
    layers: list[Any] = field(default_factory=list)
    output: Any = None


@dataclass
class Stage:
    epochs: int = bounded(0, ge=0)
    backbone_trainable_from: str | None = None
    optimizer: Any = None


@dataclass
class Schedule:
    batch_size: int = bounded(64, ge=1)
    steps_per_epoch: int | None = None
    label_smoothing: float = bounded(0.0, **FRACTION)
    class_weight: ClassWeight | None = None
    verbose: int = bounded(2, ge=0, le=2)
    monitor: str = "val_accuracy"
    monitor_mode: Mode = Mode.max
    stages: dict[str, Stage] = field(default_factory=dict)


@dataclass
class Threads:
    intra_op: int = bounded(0, ge=0)
    inter_op: int = bounded(0, ge=0)


@dataclass
class Runtime:
    seed: int = 42
    threads: Threads = field(default_factory=Threads)
    precision: Precision = Precision.float32
    strategy: Strategy = Strategy.default
    cpu_devices: int = bounded(1, ge=1, le=64)
    jit_compile: bool = False


@dataclass
class Eval:
    batch_size: int = bounded(64, ge=1)
    tta_flip: bool = False
    bootstrap: int = bounded(1000, ge=0)


@dataclass
class Debug:
    batches: int = bounded(2, ge=1)
    epochs: int = bounded(1, ge=1)
    images: int = bounded(64, ge=1)


@dataclass
class Tracking:
    uri: str = "sqlite:///mlflow.db"
    experiment: str = "emotion"
    model_name: str | None = None
    metric: SelectionMetric = SelectionMetric.selection_accuracy
    mode: Mode = Mode.max
    promote: Promote = Promote.better


@dataclass
class Paths:
    cache_dir: str = "~/.cache/emotion"
    checkpoint_dir: str = "checkpoints"


# --- inference --------------------------------------------------------------------------------

@dataclass
class Engine:
    backend: Backend = Backend.auto
    variant: Variant | None = None
    threads: int = bounded(2, ge=1)
    margin: float = bounded(0.1, ge=0.0, le=2.0)
    smoothing: int = bounded(5, ge=1)
    detect_every: int = bounded(1, ge=1)
    lost_track_s: float = bounded(2.0, gt=0)


@dataclass
class HaarDetector:
    _target_: str = "emotion.detect.HaarDetector"
    cascade: str = "haarcascade_frontalface_default.xml"
    scale_factor: float = bounded(1.2, gt=1.0)
    min_neighbors: int = bounded(5, ge=0)
    min_size: float = bounded(0.15, ge=0.0, le=1.0)
    max_width: int | None = bounded(320, ge=16)


@dataclass
class ModelFile:
    filename: str = "???"
    urls: list[str] = field(default_factory=list)
    sha256: str | None = None
    path: str | None = None


@dataclass
class YuNetDetector:
    _target_: str = "emotion.detect.YuNetDetector"
    model: ModelFile = field(default_factory=ModelFile)
    cache_dir: str = "~/.cache/emotion"
    score_threshold: float = bounded(0.8, ge=0.0, le=1.0)
    nms_threshold: float = bounded(0.3, ge=0.0, le=1.0)
    max_width: int | None = bounded(None, ge=16)


@dataclass
class WholeFrame:
    _target_: str = "emotion.detect.WholeFrame"


DETECTORS = {s._target_: s for s in (HaarDetector, YuNetDetector, WholeFrame)}
