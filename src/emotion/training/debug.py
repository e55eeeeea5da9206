"""`debug=fast`: any config shrunk to a smoke test (a few batches per epoch, one epoch per stage, a few images
scored per split), returned as new objects; the data and the config given are left as they are."""

from __future__ import annotations

import dataclasses

import numpy as np
from omegaconf import DictConfig

from emotion.data.base import Data


def shrunk_data(data: Data, debug: DictConfig, batch_size: int) -> Data:
    """`debug.batches` batches of training images, `debug.images` images in each other split."""
    keep = {"train": debug.batches * batch_size}
    splits = {}
    for name, split in data.splits.items():
        n = min(len(split), keep.get(name, debug.images))
        splits[name] = split.take(np.random.default_rng(0).choice(len(split), n, replace=False))
    return dataclasses.replace(data, splits=splits)


def shrunk_stages(stages: DictConfig, debug: DictConfig) -> dict:
    """Overrides of `schedule.stages`: at most `debug.epochs` epochs each."""
    return {name: {"epochs": min(int(stage.epochs), int(debug.epochs))} for name, stage in stages.items()}
