"""The building blocks of the schemas: ranged fields, choice lists (Enums), and the specs several groups share.

Values are written once, in the YAML of conf/: a schema field declares a type,
a range or a choice list, never a default (it is `???` until the YAML gives it).
Enums are the one list of the choices of a key; code that needs the list reads it here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from omegaconf import MISSING


def bounded(ge=None, gt=None, le=None, lt=None, default=MISSING):
    """A field with a range, checked by `emotion.schema.validate`."""
    return field(default=default, metadata={k: v for k, v in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt))
                                            if v is not None})


FRACTION = dict(ge=0.0, lt=1.0)


def choices(name: str, *values: str) -> type[Enum]:
    """An Enum of the allowed strings: OmegaConf refuses any other value and lists these."""
    return Enum(name, {value: value for value in values})


def names(enum: type[Enum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


LabelMode = choices("LabelMode", "majority", "probability")
FillMode = choices("FillMode", "nearest", "reflect", "wrap", "constant")
Preprocessing = choices("Preprocessing", "vggface2", "unit", "symmetric", "dlib")
Color = choices("Color", "rgb", "gray")
WeightsFormat = choices("WeightsFormat", "keras2_h5", "dlib")
ClassWeight = choices("ClassWeight", "balanced", "sqrt")
Mode = choices("Mode", "min", "max")
Precision = choices("Precision", "float32", "mixed_float16", "mixed_bfloat16")
Strategy = choices("Strategy", "default", "mirrored", "tpu")
Backend = choices("Backend", "auto", "keras", "litert")
# LiteRT variants, fastest first: what `engine=auto` picks among the exported ones.
Variant = choices("Variant", "int8", "dynamic", "fp32")
# What a run is optimised and promoted on: the selection split's figures, never the test split's.
SelectionMetric = choices("SelectionMetric", "selection_accuracy", "selection_macro_f1")
Promote = choices("Promote", "better", "always", "never")
Via = choices("Via", "dataset", "engine")
Stage = choices("Stage", "all", "classify", "score", "cut")
# emotion.screen: record live then run moments; record live only; finish a stopped or killed screening's folder.
ScreenStage = choices("ScreenStage", "all", "record", "moments")
ViewerMode = choices("ViewerMode", "all", "largest")
ExecutorKind = choices("ExecutorKind", "local", "ray")


@dataclass
class RemoteFile:
    """One file that may have to be fetched: weights, a dataset archive, a detector model.

    `path` (a local copy) wins; otherwise the Drive ids and URLs are tried in
    turn into the cache, and the file must match `sha256` when it is given.
    """

    filename: str = MISSING
    path: str | None = MISSING
    urls: list[str] = MISSING
    gdrive_ids: list[str] = MISSING
    sha256: str | None = MISSING


@dataclass
class PackageFile:
    """A file that an installed Python package carries: `module`'s folder / `file`; `install` is what to pip
    install when the package is missing."""

    module: str = MISSING
    file: str = MISSING
    install: str = MISSING


@dataclass
class Weights(RemoteFile):
    """A backbone's pretrained weights: a `RemoteFile`, or a file of an installed package, in a `format`."""

    format: WeightsFormat = MISSING
    package: PackageFile | None = MISSING


@dataclass
class Tracking:
    uri: str = MISSING
    experiment: str = MISSING
    model_name: str | None = MISSING
    metric: SelectionMetric = MISSING
    mode: Mode = MISSING
    promote: Promote = MISSING


@dataclass
class Paths:
    cache_dir: str = MISSING
    checkpoint_dir: str = MISSING
