"""Classifiers: batches of model inputs (float32 RGB, the image contract) in, class probabilities out."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Classify = Callable[[np.ndarray], np.ndarray]

# TensorFlow is imported inside `keras_classifier`: the LiteRT engine imports this module without it.


def with_mirror(classify: Classify) -> Classify:
    """Each face's probabilities averaged with its mirror image's (test-time augmentation)."""
    return lambda batch: (np.asarray(classify(batch)) + np.asarray(classify(batch[:, :, ::-1]))) / 2


def keras_classifier(model) -> Classify:
    """A compiled call of the Keras model (several times faster than `model.predict` per frame).

    Thread counts are the process's: `emotion.runtime.set_threads` sets them before TensorFlow starts.
    """
    import tensorflow as tf

    size = int(model.input_shape[1])
    call = tf.function(lambda x: model(x, training=False), reduce_retracing=True,
                       input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)])
    return lambda batch: call(tf.convert_to_tensor(batch, tf.float32)).numpy()


def evaluator(model, tta_flip: bool) -> Classify:
    """How a trained Keras model is judged: its compiled call, averaged with the mirrored face under `tta_flip`."""
    classify = keras_classifier(model)
    return with_mirror(classify) if tta_flip else classify
