"""Pretrained backbone weights: the configured file fetched, then loaded by its format.

`keras2_h5`: Keras 3 cannot read these files itself: the layer names hold '/',
and a full Keras 2 model file stores its weights under `model_weights`. We read
the HDF5 directly and assign every variable by (layer, weight) name.
`dlib`: dlib's serialized network (`emotion.model.dlib_format`), assigned layer
by layer in the file's order, each layer's kind and shape checked against the
Keras port. Either way a missing layer or a shape mismatch is an error naming
it, never a silent partial load.
"""

from __future__ import annotations

import logging
from pathlib import Path

import h5py
import keras
import numpy as np

from emotion.core.errors import EmotionError
from emotion.core.remote import fetch
from emotion.model import dlib_resnet
from emotion.model.backbones import original_name
from emotion.model.dlib_format import read_network

log = logging.getLogger(__name__)


def _text(value) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def _short(weight_name: str) -> str:
    """'conv1/7x7_s2/bn/moving_mean:0' -> 'moving_mean'."""
    return weight_name.split("/")[-1].split(":")[0]


def _assign(path, name: str, variable, value: np.ndarray) -> None:
    if tuple(value.shape) != tuple(variable.shape):
        raise EmotionError(f"{path}: layer {name!r} weight {variable.name.split('/')[-1]!r} has shape "
                           f"{tuple(value.shape)}, the model expects {tuple(variable.shape)}")
    variable.assign(value)


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
            _assign(path, name, variable, arrays[key])
        loaded += 1
    unused = sorted(set(stored) - {original_name(layer.name) for layer in model.layers})
    if unused:
        log.info("%s: %d layers not in this graph were ignored (%s...)", path, len(unused), unused[0])
    return loaded


def load_dlib_weights(model: keras.Model, path: str | Path) -> int:
    """Assign dlib's face ResNet from its `.dat` file; returns how many layers with weights were loaded.

    dlib's convolutions have tiny weights (mean |w| 4e-4 at the top) scaled back up by the affine layer that
    follows each one: at those scales an optimizer's ordinary steps (1e-4) would wipe them out at once. So
    each convolution's output channels are rescaled to He-initialisation size and the BatchNorm after it
    divides by the same factor through its moving variance: the function is unchanged, fine-tuning behaves
    as on any BatchNorm network.
    """
    stored = read_network(path).layers
    order = dlib_resnet.layer_order()
    if [kind for _, kind in order] != [layer.kind for layer in stored]:
        raise EmotionError(f"{path}: its {len(stored)} layers are not dlib's face ResNet's {len(order)}")
    loaded, scale = 0, None
    for (name, kind), layer in zip(order, stored):
        if kind == "con":
            # dlib: (filters, channels, rows, cols), cross-correlation as Keras; Keras: (rows, cols, channels, filters).
            target = model.get_layer(name)
            geometry = (target.strides[0], 0 if target.padding == "valid" else target.kernel_size[0] // 2)
            if geometry != (layer.options["stride_y"], layer.options["padding_y"]):
                raise EmotionError(f"{path}: layer {name!r} has stride and padding "
                                   f"{(layer.options['stride_y'], layer.options['padding_y'])}, the model {geometry}")
            kernel = layer.arrays["filters"].transpose(2, 3, 1, 0)
            spread = kernel.reshape(-1, kernel.shape[-1]).std(axis=0)
            scale = np.maximum(np.sqrt(2.0 / np.prod(kernel.shape[:3])) / np.maximum(spread, 1e-12), 0.1)
            _assign(path, name, target.kernel, kernel * scale)
            _assign(path, name, target.bias, layer.arrays["biases"].reshape(-1) * scale)
        elif kind == "affine":
            target = model.get_layer(name)
            _assign(path, name, target.gamma, layer.arrays["gamma"].reshape(-1))
            _assign(path, name, target.beta, layer.arrays["beta"].reshape(-1))
            target.moving_mean.assign(np.zeros(target.gamma.shape[0], np.float32))
            target.moving_variance.assign((scale**2 - target.epsilon).astype(np.float32))
        elif kind == "fc":
            _assign(path, name, model.get_layer(name).kernel, layer.arrays["weights"].reshape(layer.options[
                "num_inputs"], layer.options["num_outputs"]))
        else:
            continue
        loaded += 1
    return loaded


LOADERS = {"keras2_h5": load_keras2_weights, "dlib": load_dlib_weights}


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
    layers_loaded = LOADERS[weights.format](net, fetched.path)
    log.info("loaded %d layers from %s (sha256 %s)", layers_loaded, fetched.path, fetched.sha256)
    return {"weights": fetched.path.name, "weights_sha256": fetched.sha256}
