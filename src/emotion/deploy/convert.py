"""LiteRT flatbuffers of a Keras model, and the images that calibrate and judge them (through the image contract)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from emotion.core.images import BGR, RGB, model_batch, read_image
from emotion.data.base import Split
from emotion.model.assemble import float32_copy


def convert(model, variant: str, representative: np.ndarray | None = None) -> bytes:
    """The LiteRT flatbuffer of `model` (fp32, dynamic or int8); int8 is calibrated on `representative` images."""
    converter = tf.lite.TFLiteConverter.from_keras_model(float32_copy(model))
    if variant in ("dynamic", "int8"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "int8":
        converter.representative_dataset = lambda: ([image[None]] for image in representative)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return converter.convert()


def images_of(split: Split, size: int, limit: int | None = None, seed: int = 0) -> tuple[np.ndarray, Split]:
    """(model inputs through the image contract, the split they belong to): unreadable files are left out
    of both, so rows and labels stay aligned; a random subset of `limit` when given."""
    if limit and limit < len(split):
        split = split.take(np.sort(np.random.default_rng(seed).choice(len(split), limit, replace=False)))
    if isinstance(split.images, np.ndarray):
        return model_batch(split.images, size, RGB), split
    decoded = [read_image(path) for path in split.images]
    readable = [i for i, image in enumerate(decoded) if image is not None]
    return model_batch([decoded[i] for i in readable], size, BGR), split.take(readable)
