"""The one preprocessing function, used by training, evaluation and inference.

It lives inside every model as the `Preprocess` layer, so a saved or exported
model takes plain RGB pixels in [0, 255] and nobody can forget (or re-implement)
the normalisation at inference time, which is what the original notebook did.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

# VGGFace2 "version 2" means per BGR channel, as keras-vggface's preprocess_input.
VGGFACE2_MEAN_BGR = (91.4953, 103.8827, 131.0912)
# dlib's face ResNet: its input layer subtracts these RGB means and divides by 256.
DLIB_MEAN_RGB = (122.782, 117.001, 104.298)
RGB_TO_GRAY = (0.299, 0.587, 0.114)


def linear_map(mode: str, channels: int, color: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(weights 3 x channels, bias) such that backbone input = RGB pixels @ weights + bias.

    `vggface2`: BGR order minus the VGGFace2 channel means (3 channels);
    `dlib`: minus dlib's RGB means, over 256 (3 channels);
    `unit`: scaled to [0, 1]; `symmetric`: scaled to [-1, 1].
    `color="gray"` (implied by `channels=1`) puts the luminance in every
    channel, for networks trained on gray faces.
    """
    if channels not in (1, 3):
        raise ValueError(f"preprocessing makes 1 or 3 channels, not {channels}")
    gray = (color or ("gray" if channels == 1 else "rgb")) == "gray"
    if channels == 1 and not gray:
        raise ValueError("one channel is gray: color must be gray")
    if mode in ("vggface2", "dlib") and channels != 3:
        raise ValueError(f"{mode} preprocessing needs 3 channels")
    luminance = np.asarray(RGB_TO_GRAY, np.float32)[:, None]
    weights = np.repeat(luminance, channels, 1) if gray else np.eye(3, dtype=np.float32)
    if mode == "vggface2":
        return weights[:, ::-1], -np.asarray(VGGFACE2_MEAN_BGR, np.float32)
    if mode == "dlib":
        return weights / 256.0, -np.asarray(DLIB_MEAN_RGB, np.float32) / 256.0
    if mode == "unit":
        return weights / 255.0, np.zeros(channels, np.float32)
    return weights / 127.5, -np.ones(channels, np.float32)


def preprocess(images, mode: str, channels: int, color: str | None = None):
    """RGB pixels in [0, 255], shape (N, H, W, 3) -> backbone input.

    One fixed linear map per pixel, computed as a 1x1 convolution: it folds
    into the first layers' arithmetic and quantizes to int8 like any other
    convolution (a channel reversal op does not: LiteRT int8 gave it its own
    scale and corrupted the pixels).
    """
    weights, bias = linear_map(mode, channels, color)
    kernel = ops.convert_to_tensor(weights[None, None])
    return ops.conv(ops.cast(images, "float32"), kernel) + ops.convert_to_tensor(bias)


@keras.saving.register_keras_serializable(package="emotion")
class Preprocess(keras.layers.Layer):
    """`preprocess` as the first layer of a model."""

    def __init__(self, mode: str, channels: int, color: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.mode = mode
        self.channels = channels
        self.color = color  # None in models saved before it existed: gray when one channel

    def call(self, images):
        return preprocess(images, self.mode, self.channels, self.color)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.channels)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "channels": self.channels, "color": self.color}
