"""Schemas of the data sources, one per option of the `data` group, chosen by its `_target_`."""

from __future__ import annotations

from dataclasses import dataclass, field

from omegaconf import MISSING

from emotion.schema.base import FRACTION, LabelMode, RemoteFile, bounded


@dataclass
class Splits:
    """The selection (val) and test fractions of a labelled set, and the seed that draws them."""

    val_split: float = bounded(gt=0.0, lt=1.0)
    test_split: float = bounded(**FRACTION)
    split_seed: int = MISSING


@dataclass
class SyntheticData(Splits):
    _target_: str = "emotion.data.synthetic.load"
    name: str = MISSING
    classes: list[str] = MISSING
    per_class: int = bounded(ge=3)
    image_size: int = bounded(ge=16, le=1024)


@dataclass
class FolderData(Splits):
    _target_: str = "emotion.data.folder.load"
    name: str = MISSING
    root: str = MISSING
    classes: list[str] | None = MISSING


@dataclass
class SkillboxDownload:
    train: RemoteFile = field(default_factory=RemoteFile)
    test: RemoteFile = field(default_factory=RemoteFile)


@dataclass
class SkillboxData(Splits):
    _target_: str = "emotion.data.skillbox.load"
    name: str = MISSING
    root: str | None = MISSING
    classes: list[str] = MISSING
    labels_csv: str = MISSING
    test_dir: str = MISSING
    cache_dir: str = MISSING
    download: SkillboxDownload = field(default_factory=SkillboxDownload)


@dataclass
class FerplusData:
    _target_: str = "emotion.data.ferplus.load"
    name: str = MISSING
    root: str = MISSING
    classes: list[str] = MISSING
    label_mode: LabelMode = MISSING
    drop_uncertain: bool = MISSING
    drop_single_votes: bool = MISSING
    val_split: float = bounded(gt=0.0, lt=1.0)
    test_folder: str = MISSING
    split_seed: int = MISSING


DATA = {s._target_: s for s in (SyntheticData, FolderData, SkillboxData, FerplusData)}
