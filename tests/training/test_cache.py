"""The frozen prefix computed once (`schedule.cache_views`), and frozen BatchNorm that stays frozen."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from emotion.core.config import build
from emotion.core.errors import EmotionError
from emotion.model.assemble import BACKBONE, build_model
from emotion.schema import validate
from emotion.training.cache import boundary, cached_training, split_model
from emotion.training.schedule import compile_stage, fit_stages

from conftest import make_cfg

# Drawn faces and a small compact VGG that keeps its BatchNorm statistics: head first, then block 3 on.
OVERRIDES = ["data=synthetic", "data.per_class=4", "data.image_size=32", "augment=faces48", "backbone=compact_vgg",
             "backbone.input_size=32", "backbone.freeze_bn=true",
             "backbone.net.widths=[8,16,16]", "head=dense", "schedule=two_stage", "schedule.stages.head.epochs=1",
             "schedule.stages.finetune.epochs=1", "schedule.stages.finetune.backbone_trainable_from=block3_conv1"]


def model_and_cfg(*extra, classes=3):
    cfg = make_cfg([*OVERRIDES, *extra])
    model, _ = build_model(cfg.backbone, cfg.head, classes, "unused")
    return model, cfg


def test_prefix_then_suffix_is_the_model():
    model, cfg = model_and_cfg()
    first = boundary(model.get_layer(BACKBONE), cfg.schedule.stages)
    assert first.name == "block3_conv1"
    prefix, suffix = split_model(model, first)
    images = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype(np.float32)
    np.testing.assert_allclose(suffix(prefix(images)), model(images), rtol=1e-5, atol=1e-6)
    assert prefix.output.shape[1:] == (8, 8, 16)  # two 2x2 pools: block 3 reads 8x8x16
    shared = {id(w) for w in model.weights}
    assert all(id(w) in shared for w in suffix.weights), "the suffix trains the model's own weights"


def test_without_a_trained_backbone_layer_the_cache_is_the_backbone_output():
    model, cfg = model_and_cfg("schedule.stages.finetune.epochs=0")
    assert boundary(model.get_layer(BACKBONE), cfg.schedule.stages) is None
    prefix, suffix = split_model(model, None)
    assert prefix.output.shape == model.get_layer(BACKBONE).output.shape
    images = np.zeros((2, 32, 32, 3), np.float32)
    np.testing.assert_allclose(suffix(prefix(images)), model(images), rtol=1e-5, atol=1e-6)


def test_stages_from_the_cache_train_the_models_layers_above_the_boundary(tmp_path):
    """Fitting from the cache moves the layers that the stages unfreeze and nothing below the boundary, in the
    whole model's own checkpoints."""
    data = build(make_cfg(OVERRIDES).data, "data")
    model, cfg = model_and_cfg("schedule.cache_views=2", "schedule.batch_size=8", "schedule.steps_per_epoch=3",
                               "schedule.verbose=0", classes=len(data.classes))
    before = {layer.name: [w.numpy().copy() for w in layer.weights] for layer in model.get_layer(BACKBONE).layers}
    trainer, train, val = cached_training(model, data, 32, cfg.schedule, cfg.augment, seed=0)
    fit_stages(model, train, val, cfg.schedule, 1, None, tmp_path, "run", tf.distribute.get_strategy(),
               trainer=trainer, freeze_bn=True)
    assert (tmp_path / "best.weights.h5").is_file()
    trained, _ = build_model(cfg.backbone, cfg.head, len(data.classes), "unused")
    trained.load_weights(tmp_path / "after_finetune.weights.h5")  # the whole model's layers, not the suffix's
    moved = {layer.name for layer in trained.get_layer(BACKBONE).layers
             if any(not np.array_equal(a, w.numpy()) for a, w in zip(before[layer.name], layer.weights))}
    assert {"block3_conv1", "block3_conv2"} <= moved
    assert not moved & {"block1_conv1", "block2_conv2", "block1_conv1_bn", "block3_conv1_bn"}, moved


def test_frozen_batchnorm_keeps_its_statistics_while_the_layers_around_it_train():
    """backbone.freeze_bn: after fitting with the backbone unfrozen, the BatchNorm layers hold the same moving
    statistics and scale (in Keras 3 a functional model's training=True reached them despite
    `backbone(x, training=False)`; they now stay frozen)."""
    model, cfg = model_and_cfg("schedule.stages.finetune.backbone_trainable_from=all")
    stage = cfg.schedule.stages.finetune
    backbone = model.get_layer(BACKBONE)
    norms = [layer for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization)]
    before = [[w.numpy().copy() for w in layer.weights] for layer in norms]
    convs_before = backbone.get_layer("block1_conv1").kernel.numpy().copy()
    compile_stage(model, stage, make_cfg([*OVERRIDES, "schedule.steps_per_epoch=2"]).schedule, freeze_bn=True)
    rng = np.random.default_rng(0)
    model.fit(rng.uniform(0, 255, (16, 32, 32, 3)).astype(np.float32), np.eye(3)[rng.integers(0, 3, 16)],
              batch_size=8, epochs=1, verbose=0)
    assert all(np.array_equal(a, w.numpy()) for layer, old in zip(norms, before) for a, w in zip(old, layer.weights))
    assert not np.array_equal(convs_before, backbone.get_layer("block1_conv1").kernel.numpy())


def test_a_cache_needs_a_frozen_part_and_one_device():
    with pytest.raises(EmotionError, match="cache_views: a stage trains the whole backbone"):
        validate(make_cfg([*OVERRIDES, "schedule.cache_views=2",
                           "schedule.stages.finetune.backbone_trainable_from=all"]), "train")
    with pytest.raises(EmotionError, match="cache_views needs runtime.strategy=default"):
        validate(make_cfg([*OVERRIDES, "schedule.cache_views=2", "runtime.strategy=mirrored"]), "train")
