"""Pretrained backbone weights: the configured file fetched, and Keras 2 HDF5 files loaded by layer name.

Keras 3 cannot read these files itself: the layer names hold '/', and a full
Keras 2 model file stores its weights under `model_weights`. We read the HDF5
directly and assign every variable by (layer, weight) name, so that a missing
layer or a shape mismatch is an error naming it, never a silent partial load.
"""

from __future__ import annotations

import logging
from pathlib import Path

import h5py
import keras
import numpy as np

from emotion.core.errors import EmotionError
from emotion.core.remote import fetch
from emotion.model.backbones import original_name

log = logging.getLogger(__name__)


def _text(value) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def _short(weight_name: str) -> str:
    """'conv1/7x7_s2/bn/moving_mean:0' -> 'moving_mean'."""
    return weight_name.split("/")[-1].split(":")[0]


def read_keras2_weights(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """{original layer name: {weight short name: array}} for every layer with weights."""
    try:
        with h5py.File(path, "r") as f:
            root = f["model_weights"] if "model_weights" in f else f
            if "layer_names" not in root.attrs:
                raise EmotionError(f"{path}: not a Keras 2 weight file (no 'layer_names' attribute)")
            found = {}
            for layer in map(_text, root.attrs["layer_names"]):
                group = root[layer]
                names = [_text(n) for n in group.attrs.get("weight_names", [])]
                if names:
                    found[layer] = {_short(n): np.asarray(group[n]) for n in names}
            return found
    except OSError as e:
        raise EmotionError(f"cannot read weights file {path}: {e} (truncated or not HDF5?)") from None


def load_keras2_weights(model: keras.Model, path: str | Path) -> int:
    """Assign every weight of `model` from the file; returns how many layers were loaded."""
    stored = read_keras2_weights(path)
    loaded = 0
    for layer in model.layers:
        if not layer.weights:
            continue
        name = original_name(layer.name)
        if name not in stored:
            raise EmotionError(f"{path}: no weights for layer {name!r}")
        arrays = stored[name]
        for variable in layer.weights:
            key = variable.name.split("/")[-1]
            if key not in arrays:
                raise EmotionError(f"{path}: layer {name!r} has no weight {key!r} (has {sorted(arrays)})")
            value = arrays[key]
            if tuple(value.shape) != tuple(variable.shape):
                raise EmotionError(
                    f"{path}: layer {name!r} weight {key!r} has shape {tuple(value.shape)}, "
                    f"the model expects {tuple(variable.shape)}"
                )
            variable.assign(value)
        loaded += 1
    unused = sorted(set(stored) - {original_name(layer.name) for layer in model.layers})
    if unused:
        log.info("%s: %d layers not in this graph were ignored (%s...)", path, len(unused), unused[0])
    return loaded


def load_backbone_weights(net: keras.Model, weights, cache_dir: str, pretrained: bool) -> dict:
    """Fetch and load the configured weight file (`RemoteFile`, or None for random weights);
    returns what the run should record. Random weights are warned about only on a `pretrained` design."""
    if not weights and not pretrained:
        log.info("backbone %s starts from random weights, as designed (trained from scratch)", net.name)
        return {"weights": "random"}
    if not weights:
        log.warning("=" * 72)
        log.warning("backbone %s has RANDOM initial weights (backbone.weights=null):", net.name)
        log.warning("fine for smoke runs and tests, useless for real emotion recognition.")
        log.warning("=" * 72)
        return {"weights": "random"}
    fetched = fetch(weights, cache_dir, override_hint="backbone.weights.path=<file>")
    layers_loaded = load_keras2_weights(net, fetched.path)
    log.info("loaded %d layers from %s (sha256 %s)", layers_loaded, fetched.path, fetched.sha256)
    return {"weights": fetched.path.name, "weights_sha256": fetched.sha256}
