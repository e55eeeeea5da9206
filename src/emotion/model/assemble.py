"""Assemble the emotion model: RGB pixels -> Preprocess -> backbone (cut) -> head."""

from __future__ import annotations

import keras
from omegaconf import DictConfig

from emotion.core.config import build
from emotion.core.errors import EmotionError, first_line
from emotion.model.backbones import cut
from emotion.model.heads import head_layers
from emotion.model.preprocess import Preprocess
from emotion.model.weights import load_backbone_weights

BACKBONE = "backbone"


def build_model(backbone_cfg: DictConfig, head_cfg: DictConfig, n_classes: int,
                cache_dir: str) -> tuple[keras.Model, dict]:
    size, channels = int(backbone_cfg.input_size), int(backbone_cfg.channels)
    net = build(backbone_cfg.net, "backbone", input_shape=(size, size, channels))
    info = load_backbone_weights(net, backbone_cfg.weights, cache_dir, backbone_cfg.pretrained)
    features = cut(net, backbone_cfg.cut_layer)
    backbone = keras.Model(features.input, features.output, name=BACKBONE)

    inputs = keras.Input((size, size, 3), name="image")
    x = Preprocess(backbone_cfg.preprocessing, channels, backbone_cfg.color, name="preprocess")(inputs)
    # backbone.freeze_bn (pretrained BatchNorm statistics kept while fine-tuning) is the training stages'
    # business: `set_trainable_from` keeps those layers frozen, hence in inference mode.
    x = backbone(x)
    for layer in head_layers(head_cfg, n_classes):
        try:
            x = layer(x)
        except (ValueError, TypeError) as e:
            raise EmotionError(
                f"head layer {layer.name} cannot take the backbone output of shape "
                f"{tuple(x.shape)}: {first_line(e)}"
            ) from None
    return keras.Model(inputs, x, name="emotion"), info


def _float32_config(config):
    if isinstance(config, dict):
        if str(config.get("class_name", "")).endswith("DTypePolicy"):
            return "float32"
        return {key: _float32_config(value) for key, value in config.items()}
    if isinstance(config, list):
        return [_float32_config(value) for value in config]
    return config


def float32_copy(model: keras.Model) -> keras.Model:
    """The same network and weights computing in float32.

    Mixed precision is how a model trains; LiteRT has no bfloat16 kernels and
    serving gains nothing from it on CPU, so what is evaluated, registered and
    exported computes in float32 (the variables already are float32).
    """
    def policies(layer):
        yield layer.dtype_policy.name
        for inner in getattr(layer, "layers", []):
            yield from policies(inner)

    if set(policies(model)) == {"float32"}:
        return model
    copy = model.__class__.from_config(_float32_config(model.get_config()))
    copy.set_weights(model.get_weights())
    return copy
