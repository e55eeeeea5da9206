"""tf.data input pipelines: decode in parallel, augment whole batches, resize, prefetch."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from emotion.data import Split

AUTOTUNE = tf.data.AUTOTUNE


def _decode(path):
    image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return tf.cast(image, tf.float32)


def to_dataset(split: Split, image_size: int, batch_size: int, augment=None, shuffle: bool = False,
               seed: int = 0, with_targets: bool = True) -> tf.data.Dataset:
    """Batches of (float32 RGB images in [0, 255] at `image_size`, targets).

    Images are augmented at their own resolution and resized afterwards: far
    cheaper than augmenting at 224 px when faces are small. In-memory images
    (all one size) are augmented a batch at a time; files (sizes differ) one
    by one as they are decoded. A file that fails to decode is dropped, never
    a crash.
    """
    size = (image_size, image_size)
    in_memory = isinstance(split.images, np.ndarray)
    ds = tf.data.Dataset.from_tensor_slices((split.images, split.targets))
    if shuffle:
        ds = ds.shuffle(len(split), seed=seed, reshuffle_each_iteration=True)

    def prepare(images, targets):
        images = tf.cast(images, tf.float32)
        if augment is not None:
            images = augment(images)
        return tf.image.resize(images, size), targets

    if in_memory:
        ds = ds.batch(batch_size, num_parallel_calls=AUTOTUNE, deterministic=True)
        ds = ds.map(prepare, num_parallel_calls=AUTOTUNE, deterministic=not shuffle)
    else:
        def decode(path, target):
            image, target = prepare(_decode(path)[None], target)
            return image[0], target

        ds = ds.map(decode, num_parallel_calls=AUTOTUNE, deterministic=not shuffle).ignore_errors()
        ds = ds.batch(batch_size, num_parallel_calls=AUTOTUNE, deterministic=True)
    if not with_targets:
        ds = ds.map(lambda images, _: images)
    return ds.prefetch(AUTOTUNE)
