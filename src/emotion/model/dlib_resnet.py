"""dlib's face-recognition ResNet (`dlib_face_recognition_resnet_model_v1`, Davis King, CC0) as a Keras 3 network.

The network of dlib's dnn_face_recognition_ex.cpp: a 7x7 stem, then five levels of residual blocks (3, 4, 3,
3 and 1 blocks of 32, 64, 128, 256 and 256 filters; 29 convolutions in all), a global average and a
128-d descriptor without bias. Layer names: `stem_*`, `level{L}_block{B}_*` (level 4 is the first, as dlib
counts them), and the output of each level is the layer named `level{L}`; `pool` and `descriptor` follow.
So a cut is named by its stage: `stem`, `level4` ... `level0`, `pool`, `descriptor`; and unfreezing from a
stage names its first layer, `level1_block1_conv1`.

dlib's conventions, reproduced because the weights depend on them: a convolution with stride 2 and every
pooling have no padding (stride-1 3x3 convolutions pad by 1); a block that halves the size adds its
branch to a 2x2 average of its input, and a sum of tensors of different sizes zero-fills the smaller one
at the bottom, right and in the extra channels (dlib's tt::add); dlib's `affine` layers (BatchNorm
folded into a scale and shift) become BatchNormalization layers, which in inference compute gamma * x +
beta once the loader (`emotion.model.weights.load_dlib_weights`) has set their statistics, and
`backbone.freeze_bn` means what it means for the other backbones. dlib's input layer ((pixel - mean) /
256) is the `dlib` preprocessing.
"""

from __future__ import annotations

from collections.abc import Iterator

import keras
from keras import layers, ops

BN_EPSILON = 1e-3
# (level, filters, blocks), input first; the first block of every level but level 4 halves the size.
LEVELS = ((4, 32, 3), (3, 64, 4), (2, 128, 3), (1, 256, 3), (0, 256, 1))
DESCRIPTOR = 128
MIN_INPUT = 104  # below it level 0's stride-2 convolution has nothing left to convolve


@keras.saving.register_keras_serializable(package="emotion")
class ZeroFillAdd(layers.Layer):
    """a + b, the smaller zero-filled to the larger at the bottom, the right and in the extra channels."""

    def compute_output_shape(self, input_shapes):
        a, b = input_shapes
        return (a[0], *(max(x, y) for x, y in zip(a[1:], b[1:])))

    def call(self, inputs):
        a, b = inputs
        target = self.compute_output_shape((a.shape, b.shape))[1:]

        def fill(t):
            pads = [(0, 0)] + [(0, want - have) for want, have in zip(target, t.shape[1:])]
            return t if all(p == (0, 0) for p in pads) else ops.pad(t, pads)

        return fill(a) + fill(b)


def blocks() -> Iterator[tuple[int, int, int, bool]]:
    """(level, block, filters, halves the size) for every residual block, from the input upwards."""
    for level, filters, count in LEVELS:
        for block in range(1, count + 1):
            yield level, block, filters, block == 1 and level != 4


def layer_order() -> list[tuple[str, str]]:
    """(Keras layer name, dlib layer kind) of every layer that dlib's file describes, in the file's order."""
    order = [("stem_conv", "con"), ("stem_bn", "affine"), ("stem_relu", "relu"), ("stem", "max_pool")]
    for level, block, _, down in blocks():
        name = f"level{level}_block{block}"
        order += [(f"{name}_conv1", "con"), (f"{name}_bn1", "affine"), (f"{name}_relu1", "relu"),
                  (f"{name}_conv2", "con"), (f"{name}_bn2", "affine")]
        order += [(f"{name}_shortcut", "avg_pool")] if down else []
        order += [(f"{name}_add", "add_prev"), (_block_output(level, block), "relu")]
    return order + [("pool", "avg_pool"), ("descriptor", "fc")]


def _block_output(level: int, block: int) -> str:
    last = dict((lv, n) for lv, _, n in LEVELS)[level]
    return f"level{level}" if block == last else f"level{level}_block{block}_out"


def _bn(name: str):
    return layers.BatchNormalization(epsilon=BN_EPSILON, name=name)


def dlib_face_resnet(input_shape) -> keras.Model:
    """The whole network, input to `descriptor`; `backbone.cut_layer` takes a stage of it."""
    if min(input_shape[:2]) < MIN_INPUT:
        raise ValueError(f"dlib's face ResNet needs inputs of at least {MIN_INPUT} px, not {input_shape[:2]}")
    inputs = keras.Input(input_shape, name="backbone_input")
    x = layers.Conv2D(32, 7, strides=2, padding="valid", name="stem_conv")(inputs)
    x = layers.Activation("relu", name="stem_relu")(_bn("stem_bn")(x))
    x = layers.MaxPooling2D(3, strides=2, padding="valid", name="stem")(x)
    for level, block, filters, down in blocks():
        name = f"level{level}_block{block}"
        y = layers.Conv2D(filters, 3, strides=2 if down else 1, padding="valid" if down else "same",
                          name=f"{name}_conv1")(x)
        y = layers.Activation("relu", name=f"{name}_relu1")(_bn(f"{name}_bn1")(y))
        y = _bn(f"{name}_bn2")(layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(y))
        shortcut = layers.AveragePooling2D(2, strides=2, padding="valid", name=f"{name}_shortcut")(x) if down else x
        x = ZeroFillAdd(name=f"{name}_add")([shortcut, y])
        x = layers.Activation("relu", name=_block_output(level, block))(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dense(DESCRIPTOR, use_bias=False, name="descriptor")(x)
    return keras.Model(inputs, x, name="dlib_face_resnet")
