"""A frozen backbone prefix computed once per run (`schedule.cache_views`), so that every stage trains from where
training starts.

When no stage trains the backbone below some layer, everything before that layer maps the same image to the
same output in every epoch. Its outputs are computed once: for the selection split, and for `cache_views`
augmented passes over the training split (epochs take the passes in turn). Every stage then fits the model
from that boundary on: the rest of the backbone and the head, the very layers and weights of the whole model,
which is what is checkpointed, evaluated and logged. On a CPU this is what makes fine-tuning the top of a
pretrained network affordable: the frozen bottom is most of its arithmetic. The price: each training image
is seen in `cache_views` augmented draws, not a new one every epoch. The prefix runs in inference mode, as
frozen BatchNorm layers do anyway (a Dropout inside it would be off).
"""

from __future__ import annotations

import itertools
import logging

import keras
import numpy as np
import tensorflow as tf
from omegaconf import DictConfig
from tqdm import tqdm

from emotion.core.errors import EmotionError
from emotion.data.augment import make_augment
from emotion.data.base import Data, Split
from emotion.data.pipeline import PREFETCH, to_dataset
from emotion.model.assemble import BACKBONE
from emotion.model.backbones import find_layer

log = logging.getLogger(__name__)


def boundary(backbone: keras.Model, stages: DictConfig) -> keras.layers.Layer | None:
    """The first backbone layer that a stage trains; None when no stage trains the backbone."""
    firsts = [stage.backbone_trainable_from for stage in stages.values() if int(stage.epochs) > 0]
    indices = [backbone.layers.index(find_layer(backbone, first)) for first in firsts if first]
    return backbone.layers[min(indices)] if indices else None


def split_model(model: keras.Model, first: keras.layers.Layer | None):
    """(prefix: image -> the tensor `first` reads, suffix: that tensor -> the model's output), sharing its layers."""
    backbone = model.get_layer(BACKBONE)
    if first is not None and isinstance(first.input, (list, tuple)):
        raise EmotionError(f"schedule.cache_views: layer {first.name} reads several tensors; start the trained "
                           "part of the backbone at a layer with one input")
    tensor = first.input if first is not None else backbone.output
    at = model.layers.index(backbone)
    image = keras.Input(model.input.shape[1:], name="image")
    x = image
    for layer in model.layers[1:at]:  # the preprocessing before the backbone
        x = layer(x)
    prefix = keras.Model(image, keras.Model(backbone.input, tensor, name="frozen")(x, training=False),
                         name="frozen_prefix")
    features = keras.Input(tensor.shape[1:], name="features")
    x = features
    if first is not None:
        x = keras.Model(tensor, backbone.output, name="trained_backbone")(x)
    for layer in model.layers[at + 1:]:
        x = layer(x)
    return prefix, keras.Model(features, x, name="emotion_from_cache")


def _features(run, split: Split, size: int, batch: int, augment, what: str):
    outputs, targets = [], []
    for images, batch_targets in tqdm(to_dataset(split, size, batch, augment), desc=what, unit="batch",
                                      total=-(-len(split) // batch), leave=False):
        outputs.append(run(images).numpy().astype(np.float16))  # half the memory; the suffix computes in its own
        targets.append(batch_targets.numpy())
    return np.concatenate(outputs), np.concatenate(targets)


def _dataset(passes: list[tuple[np.ndarray, np.ndarray]], batch: int, seed: int, shuffle: bool) -> tf.data.Dataset:
    """Endless batches: one pass after the other, each in a new order when shuffled."""
    shape, classes = passes[0][0].shape[1:], passes[0][1].shape[1]

    def batches():
        rng = np.random.default_rng(seed)
        for n in itertools.count():
            x, y = passes[n % len(passes)]
            order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
            for start in range(0, len(x), batch):
                index = order[start:start + batch]
                yield x[index].astype(np.float32), y[index]

    signature = (tf.TensorSpec((None, *shape), tf.float32), tf.TensorSpec((None, classes), tf.float32))
    return tf.data.Dataset.from_generator(batches, output_signature=signature).prefetch(PREFETCH)


def cached_training(model: keras.Model, data: Data, size: int, schedule: DictConfig, augment: DictConfig,
                    seed: int) -> tuple[keras.Model, tf.data.Dataset, tf.data.Dataset]:
    """(the model to fit, endless training batches, endless selection batches), all from the frozen prefix."""
    first = boundary(model.get_layer(BACKBONE), schedule.stages)
    prefix, suffix = split_model(model, first)
    views, batch = int(schedule.cache_views), int(schedule.batch_size)
    log.info("computing the frozen backbone up to %s once: the selection split and %d augmented passes over "
             "the training split", first.name if first is not None else "its output", views)
    tf.random.set_seed(seed)
    transform = make_augment(augment)
    run = tf.function(lambda images: prefix(images, training=False), reduce_retracing=True)
    passes = [_features(run, data.splits["train"], size, batch, transform, f"frozen prefix, pass {n + 1}/{views}")
              for n in range(views)]
    val = _features(run, data.splits["val"], size, batch, None, "frozen prefix, selection split")
    return suffix, _dataset(passes, batch, seed, shuffle=True), _dataset([val], batch, seed, shuffle=False)
