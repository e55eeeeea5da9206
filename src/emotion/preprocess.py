"""The one preprocessing function, used by training, evaluation and inference.

It lives inside every model as the `Preprocess` layer, so a saved or exported
model takes plain RGB pixels in [0, 255] and nobody can forget (or re-implement)
the normalisation at inference time, which is what the original notebook did.
"""

from __future__ import annotations

import keras
from keras import ops

# VGGFace2 "version 2" means per BGR channel, as keras-vggface's preprocess_input.
VGGFACE2_MEAN_BGR = (91.4953, 103.8827, 131.0912)
RGB_TO_GRAY = (0.299, 0.587, 0.114)
MODES = ("vggface2", "unit", "symmetric")


def preprocess(images, mode: str = "vggface2", channels: int = 3):
    """RGB pixels in [0, 255], shape (..., H, W, 3) -> backbone input.

    `vggface2`: BGR order minus the VGGFace2 channel means (3 channels);
    `unit`: scaled to [0, 1]; `symmetric`: scaled to [-1, 1].
    `channels=1` converts to luminance first, for networks trained on gray faces.
    """
    if mode not in MODES:
        raise ValueError(f"unknown preprocessing mode {mode!r}; expected one of {MODES}")
    x = ops.cast(images, "float32")
    if channels == 1:
        x = ops.sum(x * ops.convert_to_tensor(RGB_TO_GRAY), axis=-1, keepdims=True)
    if mode == "vggface2":
        if channels != 3:
            raise ValueError("vggface2 preprocessing needs 3 channels")
        return ops.flip(x, axis=-1) - ops.convert_to_tensor(VGGFACE2_MEAN_BGR)
    if mode == "unit":
        return x / 255.0
    return x / 127.5 - 1.0


@keras.saving.register_keras_serializable(package="emotion")
class Preprocess(keras.layers.Layer):
    """`preprocess` as the first layer of a model."""

    def __init__(self, mode: str = "vggface2", channels: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.mode = mode
        self.channels = channels

    def call(self, images):
        return preprocess(images, self.mode, self.channels)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.channels)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "channels": self.channels}
