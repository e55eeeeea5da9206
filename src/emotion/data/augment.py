"""Batched image augmentation with ImageDataGenerator's semantics, as tf ops.

One projective transform per image combines rotation, shear, zoom and shift
(fill mode `nearest`, as the notebook's generator), then flip, brightness
(a multiplicative factor, like `brightness_range`) and contrast. Working on
whole batches at the source resolution, before resizing to the model input,
is what makes the pipeline fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import tensorflow as tf
from omegaconf import DictConfig


def _uniform(shape, low, high, seed=None):
    return tf.random.uniform(shape, low, high, dtype=tf.float32, seed=seed)


def sample_affine(cfg: DictConfig, batch, height, width, seed=None):
    """Per-image transforms (batch x 8, output -> input pixel) and the sampled parameters."""
    n = (batch,)
    degrees = _uniform(n, -cfg.rotation, cfg.rotation, seed) if cfg.rotation else tf.zeros(n)
    shear = _uniform(n, -cfg.shear, cfg.shear, seed) if cfg.shear else tf.zeros(n)
    if cfg.zoom:
        zx, zy = _uniform(n, 1 - cfg.zoom, 1 + cfg.zoom, seed), _uniform(n, 1 - cfg.zoom, 1 + cfg.zoom, seed)
    else:
        zx = zy = tf.ones(n)
    h, w = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    tx = _uniform(n, -cfg.width_shift, cfg.width_shift, seed) * w if cfg.width_shift else tf.zeros(n)
    ty = _uniform(n, -cfg.height_shift, cfg.height_shift, seed) * h if cfg.height_shift else tf.zeros(n)

    theta, phi = degrees * (math.pi / 180), shear * (math.pi / 180)
    cos, sin = tf.cos(theta), tf.sin(theta)
    # M = rotation @ shear @ zoom, acting on (x, y) about the image centre.
    m00 = cos * zx
    m01 = (-cos * tf.sin(phi) - sin * tf.cos(phi)) * zy
    m10 = sin * zx
    m11 = (-sin * tf.sin(phi) + cos * tf.cos(phi)) * zy
    cx, cy = (w - 1) / 2, (h - 1) / 2
    b0 = cx - m00 * cx - m01 * cy + tx
    b1 = cy - m10 * cx - m11 * cy + ty
    zeros = tf.zeros(n)
    transforms = tf.stack([m00, m01, b0, m10, m11, b1, zeros, zeros], axis=1)
    params = {"rotation": degrees, "shear": shear, "zoom_x": zx, "zoom_y": zy, "shift_x": tx, "shift_y": ty}
    return transforms, params


def _geometric(cfg: DictConfig) -> bool:
    return any((cfg.rotation, cfg.shear, cfg.zoom, cfg.width_shift, cfg.height_shift))


def make_augment(cfg: DictConfig) -> Callable[[tf.Tensor], tf.Tensor] | None:
    """A function on float32 batches (B, H, W, C) in [0, 255], or None when all is off."""
    if not (_geometric(cfg) or cfg.horizontal_flip or cfg.brightness or cfg.contrast or cfg.erase):
        return None

    def augment(images: tf.Tensor) -> tf.Tensor:
        shape = tf.shape(images)
        batch, height, width = shape[0], shape[1], shape[2]
        if _geometric(cfg):
            transforms, _ = sample_affine(cfg, batch, height, width)
            images = tf.raw_ops.ImageProjectiveTransformV3(
                images=images, transforms=transforms, output_shape=tf.stack([height, width]),
                fill_value=0.0, interpolation="BILINEAR", fill_mode=cfg.fill_mode.upper(),
            )
        if cfg.horizontal_flip:
            flip = _uniform((batch, 1, 1, 1), 0, 1) < 0.5
            images = tf.where(flip, tf.reverse(images, axis=[2]), images)
        if cfg.brightness:
            low, high = cfg.brightness
            images = images * _uniform((batch, 1, 1, 1), low, high)
        if cfg.contrast:
            mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
            images = (images - mean) * _uniform((batch, 1, 1, 1), 1 - cfg.contrast, 1 + cfg.contrast) + mean
        images = tf.clip_by_value(images, 0.0, 255.0)
        if cfg.erase:
            images = erase(images, cfg.erase, cfg.erase_area)
        return images

    return augment


def erase(images: tf.Tensor, probability: float, area) -> tf.Tensor:
    """Random erasing (Zhong et al., 2020): with `probability`, a rectangle covering a share of the image drawn
    from `area` (aspect ratio log-uniform in [0.3, 3.3]) is filled with uniform noise in [0, 255]."""
    shape = tf.shape(images)
    batch, height, width = shape[0], tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    share = _uniform((batch,), area[0], area[1])
    ratio = tf.exp(_uniform((batch,), math.log(0.3), math.log(3.3)))
    h = tf.minimum(tf.sqrt(share * height * width * ratio), height)
    w = tf.minimum(tf.sqrt(share * height * width / ratio), width)
    top, left = _uniform((batch,), 0, 1) * (height - h), _uniform((batch,), 0, 1) * (width - w)
    rows = tf.range(height)[None, :, None]
    cols = tf.range(width)[None, None, :]
    inside = ((rows >= top[:, None, None]) & (rows < (top + h)[:, None, None])
              & (cols >= left[:, None, None]) & (cols < (left + w)[:, None, None]))
    chosen = (_uniform((batch,), 0, 1) < probability)[:, None, None]
    mask = tf.cast(inside & chosen, images.dtype)[..., None]
    noise = tf.random.uniform(shape, 0.0, 255.0, dtype=images.dtype)
    return images * (1 - mask) + noise * mask
