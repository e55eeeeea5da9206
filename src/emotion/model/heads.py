"""Classification heads: a list of Keras layer specs from YAML, plus the output layer."""

from __future__ import annotations

import keras
from omegaconf import DictConfig, OmegaConf

from emotion.core.config import build


def _layer(spec: DictConfig, name: str, **overrides) -> keras.layers.Layer:
    spec = OmegaConf.to_container(spec, resolve=True)
    spec.setdefault("name", name)
    return build(spec, f"head layer {name}", **overrides)


def head_layers(cfg: DictConfig, n_classes: int) -> list[keras.layers.Layer]:
    """`cfg.layers` in order, then `cfg.output` with one unit per class.

    The output runs in float32 so that softmax stays stable under mixed precision.
    """
    built = []
    for i, spec in enumerate(cfg.layers):
        kind = str(spec.get("_target_", "layer")).rsplit(".", 1)[-1].lower()
        built.append(_layer(spec, f"head{i}_{kind}"))
    built.append(_layer(cfg.output, "probabilities", units=n_classes, dtype="float32"))
    return built
