"""tf.data input pipelines around the image contract (`emotion.core.images`): decode, augment, fit, prefetch.

Decoding, colour order, dtype and the final resize are the contract's functions,
called through `tf.numpy_function` (OpenCV releases the GIL, so parallel calls
do run in parallel); augmentation runs as TensorFlow ops in between, at the
source resolution, which is what keeps the pipeline fast when faces are small.
"""

from __future__ import annotations

import math
import os

import numpy as np
import tensorflow as tf

from emotion.core.errors import EmotionError
from emotion.core.images import RGB, as_rgb, fit_batch, read_image
from emotion.data.base import Split

# Fixed parallelism and tf.data's autotuning off: deleting an iterator that autotuning watched
# (Keras deletes the validation one every epoch) blocked training for up to a minute here, about
# 40 s of every FER+ epoch; with the input far faster than the training step there is nothing to tune.
PARALLEL = os.cpu_count() or 1
PREFETCH = 2


def _untuned(ds: tf.data.Dataset) -> tf.data.Dataset:
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)


def _read(path: bytes) -> tuple[np.ndarray, bool]:
    image = read_image(path.decode())
    if image is None:
        return np.zeros((1, 1, 3), np.float32), False
    return as_rgb(image), True


def _as_rgb_batch(images: np.ndarray) -> np.ndarray:
    return np.stack([as_rgb(image, RGB) for image in images]) if len(images) else images.astype(np.float32)


def _numpy(function, *args, dtypes=tf.float32):
    return tf.numpy_function(function, list(args), dtypes, stateful=False)


def _fit(images, size: int):
    fitted = _numpy(lambda batch: fit_batch(batch, size), images)
    fitted.set_shape([None, size, size, 3])
    return fitted


def _decoded(split: Split, shuffle: bool, seed: int, multiple_of: int = 1) -> tf.data.Dataset:
    """(float32 RGB image at its own size, target, readable) per image; in-memory images are batched later."""
    ds = tf.data.Dataset.from_tensor_slices((split.images, split.targets))
    if shuffle:
        ds = ds.shuffle(len(split), seed=seed, reshuffle_each_iteration=True)
    if multiple_of > 1:  # after shuffling: other images are left out each epoch
        ds = ds.take(len(split) // multiple_of * multiple_of)
    if isinstance(split.images, np.ndarray):
        return ds

    def decode(path, target):
        image, readable = _numpy(_read, path, dtypes=(tf.float32, tf.bool))
        image.set_shape([None, None, 3])
        readable.set_shape([])
        return image, target, readable

    return ds.map(decode, num_parallel_calls=PARALLEL, deterministic=not shuffle)


def _batches(split: Split, image_size: int, batch_size: int, augment, shuffle: bool, seed: int,
             multiple_of: int = 1):
    """(images, targets, readable) batches: augmented at the source resolution, then fitted by the contract."""
    ds = _decoded(split, shuffle, seed, multiple_of)
    if isinstance(split.images, np.ndarray):  # one size: augment whole batches
        def prepare(images, targets):
            images = _numpy(_as_rgb_batch, images)
            images.set_shape([None, *split.images.shape[1:3], 3])
            if augment is not None:
                images = augment(images)
            return _fit(images, image_size), targets, tf.ones(tf.shape(targets)[:1], tf.bool)

        ds = ds.batch(batch_size, num_parallel_calls=PARALLEL, deterministic=True)
        return ds.map(prepare, num_parallel_calls=PARALLEL, deterministic=not shuffle)

    def prepare_one(image, target, readable):
        image = image[None]
        if augment is not None:
            image = augment(image)
        return _fit(image, image_size)[0], target, readable

    ds = ds.map(prepare_one, num_parallel_calls=PARALLEL, deterministic=not shuffle)
    return ds.batch(batch_size, num_parallel_calls=PARALLEL, deterministic=True)


def to_dataset(split: Split, image_size: int, batch_size: int, augment=None, shuffle: bool = False,
               seed: int = 0, replicas: int = 1) -> tf.data.Dataset:
    """Training / validation batches of (float32 RGB images at `image_size`, targets).

    The data sources drop unreadable files (and list them) when they load, so
    every image here decodes; one that stops decoding mid-run is left out of
    the batch rather than trained on as a blank. With several `replicas`
    (a mirrored strategy) every batch must split evenly across them, which
    Keras 3 needs: an epoch then keeps a multiple of `replicas` images (with a
    batch size that is one too), leaving out at most `replicas - 1`.
    """
    if batch_size % replicas:
        raise EmotionError(f"schedule.batch_size {batch_size} must be a multiple of the {replicas} replicas of "
                           "the distribution strategy")
    ds = _batches(split, image_size, batch_size, augment, shuffle, seed, replicas)
    ds = ds.map(lambda images, targets, readable: (tf.boolean_mask(images, readable),
                                                   tf.boolean_mask(targets, readable)))
    return _untuned(ds.prefetch(PREFETCH))


def epoch_steps(split: Split, batch_size: int, replicas: int = 1) -> int:
    """Batches in one pass of `to_dataset` over the split (the images a mirrored strategy keeps)."""
    return max(1, math.ceil(len(split) // replicas * replicas / batch_size))


def prediction_dataset(split: Split, image_size: int, batch_size: int) -> tf.data.Dataset:
    """Batches of (images, readable) in the split's order: one row per image, always.

    An image that cannot be decoded keeps its row (a blank input, `readable`
    False), so predictions line up with `split.ids`.
    """
    ds = _batches(split, image_size, batch_size, None, False, 0)
    return _untuned(ds.map(lambda images, targets, readable: (images, readable)).prefetch(PREFETCH))
