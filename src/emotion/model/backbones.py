"""Backbones: the VGGFace2 ResNet50 of keras-vggface, rebuilt for Keras 3, and compact nets.

keras-vggface names its layers like `conv2_1_1x1_reduce/bn`; Keras 3 rejects
'/' in layer names, so `keras_name` / `original_name` below are the single
place where the two spellings are mapped (reversibly: no original name holds
a double underscore).
"""

from __future__ import annotations

import difflib
import logging

import keras
from keras import layers

from emotion.core.errors import EmotionError

log = logging.getLogger(__name__)


def keras_name(original: str) -> str:
    return original.replace("/", "__")


def original_name(name: str) -> str:
    return name.replace("__", "/")


def _bottleneck(x, filters, stage, block, strides=1, project=False):
    """One keras-vggface ResNet50 block; `project` makes it a conv block."""
    reduce_, increase = f"conv{stage}_{block}_1x1_reduce", f"conv{stage}_{block}_1x1_increase"
    mid, proj = f"conv{stage}_{block}_3x3", f"conv{stage}_{block}_1x1_proj"
    f1, f2, f3 = filters

    def conv_bn(t, n_filters, kernel, name, stride=1, padding="valid"):
        t = layers.Conv2D(n_filters, kernel, strides=stride, padding=padding, use_bias=False,
                          name=keras_name(name))(t)
        return layers.BatchNormalization(axis=3, name=keras_name(f"{name}/bn"))(t)

    y = conv_bn(x, f1, 1, reduce_, stride=strides)
    y = layers.Activation("relu", name=keras_name(f"{reduce_}/relu"))(y)
    y = conv_bn(y, f2, 3, mid, padding="same")
    y = layers.Activation("relu", name=keras_name(f"{mid}/relu"))(y)
    y = conv_bn(y, f3, 1, increase)
    shortcut = conv_bn(x, f3, 1, proj, stride=strides) if project else x
    y = layers.Add(name=keras_name(f"conv{stage}_{block}/add"))([y, shortcut])
    return layers.Activation("relu", name=keras_name(f"conv{stage}_{block}/relu"))(y)


def resnet50_vggface2(input_shape) -> keras.Model:
    """keras-vggface's RESNET50 (include_top=False) up to `avg_pool`.

    `avg_pool` is a global average pool kept 4-D: identical to the original 7x7
    pool at 224 px, and still defined at the small inputs of smoke runs.
    """
    inputs = keras.Input(input_shape, name="backbone_input")
    x = layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False,
                      name=keras_name("conv1/7x7_s2"))(inputs)
    x = layers.BatchNormalization(axis=3, name=keras_name("conv1/7x7_s2/bn"))(x)
    x = layers.Activation("relu", name=keras_name("conv1/relu"))(x)
    x = layers.MaxPooling2D(3, strides=2, name=keras_name("pool1/3x3_s2"))(x)
    for stage, blocks, filters in ((2, 3, (64, 64, 256)), (3, 4, (128, 128, 512)),
                                   (4, 6, (256, 256, 1024)), (5, 3, (512, 512, 2048))):
        for block in range(1, blocks + 1):
            x = _bottleneck(x, filters, stage, block, strides=1 if stage == 2 or block > 1 else 2,
                            project=block == 1)
    x = layers.GlobalAveragePooling2D(keepdims=True, name="avg_pool")(x)
    return keras.Model(inputs, x, name="vggface2_resnet50")


def compact_vgg(input_shape, widths, convs_per_block: int, dropout: float) -> keras.Model:
    """A VGG-style net for training from scratch on small faces (FER+ VGG13-like).

    Each block: `convs_per_block` 3x3 conv + BN + ReLU, 2x2 max pool, dropout.
    """
    inputs = keras.Input(input_shape, name="backbone_input")
    x = inputs
    for b, width in enumerate(widths, start=1):
        for c in range(1, convs_per_block + 1):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"block{b}_conv{c}")(x)
            x = layers.BatchNormalization(name=f"block{b}_conv{c}_bn")(x)
            x = layers.Activation("relu", name=f"block{b}_conv{c}_relu")(x)
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"block{b}_dropout")(x)
    return keras.Model(inputs, x, name="compact_vgg")


def find_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """A layer by its original or Keras name, with suggestions when it is not there."""
    names = [layer.name for layer in model.layers]
    wanted = keras_name(name)
    if wanted in names:
        return model.get_layer(wanted)
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(original_name(c) for c in close)}?" if close else ""
    raise EmotionError(f"layer {name!r} is not in {model.name}{hint}")


def cut(model: keras.Model, layer_name: str | None) -> keras.Model:
    """The sub-model from the input to `layer_name` (shares the layers and weights)."""
    if not layer_name:
        return model
    layer = find_layer(model, layer_name)
    return keras.Model(model.input, layer.output, name=f"{model.name}_to_{layer.name}")


def set_trainable_from(backbone: keras.Model, first: str | None, freeze_bn: bool = False) -> int:
    """Freeze the backbone, then unfreeze `first` and every layer after it.

    `first` is a layer name, `all`, or None (all frozen). With `freeze_bn`
    every BatchNormalization layer stays frozen, which in Keras 3 also keeps it
    in inference mode (pretrained statistics) while the model trains: calling
    the backbone with `training=False` does not, since a functional model's
    own `training` overrides what its nodes were built with. Returns how many
    layers with weights became trainable.
    """
    backbone.trainable = True
    start = len(backbone.layers)
    if first == "all":
        start = 0
    elif first:
        start = backbone.layers.index(find_layer(backbone, first))
    for i, layer in enumerate(backbone.layers):
        layer.trainable = i >= start and not (freeze_bn and isinstance(layer, layers.BatchNormalization))
    return sum(1 for layer in backbone.layers[start:] if layer.trainable and layer.weights)
