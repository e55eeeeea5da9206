"""Probabilities for every image of a split, in order: through the tf.data pipeline in batches, or each image
through the inference engine (what `emotion.infer detector=none` runs). Both take images through the one
image contract (`emotion.core.images`), so on the same model they agree; an image that cannot be decoded keeps
its row, as NaN."""

from __future__ import annotations

import numpy as np
from omegaconf import DictConfig

from emotion.core.images import read_image
from emotion.data.base import Split
from emotion.inference.backends import engine_for, load_classifier
from emotion.inference.classifiers import Classify, with_mirror
from emotion.inference.detectors import WholeFrame
from emotion.inference.engine import Engine

# TensorFlow is imported inside `dataset_predictions`: `via=engine` on LiteRT runs without it.


def dataset_predictions(classify: Classify, split: Split, image_size: int, batch_size: int) -> np.ndarray:
    """Through tf.data, in batches."""
    from emotion.data.pipeline import prediction_dataset

    rows = []
    for images, readable in prediction_dataset(split, image_size, batch_size):
        probabilities = np.array(classify(images.numpy()), dtype=np.float64)
        probabilities[~readable.numpy()] = np.nan
        rows.append(probabilities)
    return np.concatenate(rows) if rows else np.zeros((0, split.targets.shape[1]))


def engine_predictions(engine: Engine, split: Split) -> np.ndarray:
    """Each image a still through the inference engine."""
    rows = np.full((len(split), len(engine.classes)), np.nan)
    in_memory = isinstance(split.images, np.ndarray)
    for i in range(len(split)):
        # In-memory images are RGB; the engine takes frames as OpenCV decodes them (BGR).
        frame = split.images[i][..., ::-1] if in_memory else read_image(split.images[i])
        if frame is not None:
            rows[i] = engine.process_still(frame).faces[0].probabilities
    return rows


def model_predictions(uri: str, meta: dict, split: Split, via: str, engine: DictConfig,
                      eval_cfg: DictConfig) -> tuple[np.ndarray, str]:
    """(probabilities, the runtime that made them) of the tracked model `uri` on `split`, `via` dataset or engine."""
    backend = engine.backend if via == "engine" else "keras"
    classify, runtime = load_classifier(uri, backend, engine.variant, engine.threads)
    if eval_cfg.tta_flip:
        classify = with_mirror(classify)
    if via == "engine":
        whole = engine_for(WholeFrame(), classify, meta["classes"], meta["input_size"], engine)
        return engine_predictions(whole, split), runtime
    return dataset_predictions(classify, split, meta["input_size"], eval_cfg.batch_size), runtime
