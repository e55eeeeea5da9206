"""Heads from YAML, the assembled model, and the one preprocessing function."""

import keras
import numpy as np
import pytest
from omegaconf import OmegaConf

from emotion.core.errors import EmotionError
from emotion.model.assemble import BACKBONE, build_model
from emotion.model.heads import head_layers
from emotion.model.preprocess import VGGFACE2_MEAN_BGR, Preprocess, preprocess

from conftest import make_cfg

NOTEBOOK_HEAD = [
    ("Conv2D", dict(filters=256, kernel_size=(3, 3), dilation_rate=(6, 6), padding="same", activation="relu")),
    ("Conv2D", dict(filters=128, kernel_size=(1, 1), padding="same", activation="relu")),
    ("Conv2D", dict(filters=128, kernel_size=(3, 3), dilation_rate=(6, 6), padding="same", activation="relu")),
    ("Conv2D", dict(filters=64, kernel_size=(1, 1), padding="same", activation="relu")),
    ("Flatten", {}),
    ("Dense", dict(units=64, activation="relu")),
    ("Dense", dict(units=9, activation="softmax")),
]


def test_dilated_head_is_the_notebook_head():
    layers = head_layers(make_cfg(["head=dilated"]).head, 9)
    assert len(layers) == len(NOTEBOOK_HEAD)
    for layer, (kind, expected) in zip(layers, NOTEBOOK_HEAD):
        assert type(layer).__name__ == kind
        config = layer.get_config()
        assert {k: config[k] for k in expected} == expected


def test_a_layer_added_in_yaml_needs_no_python():
    head = OmegaConf.create("""
layers:
  - {_target_: keras.layers.Conv2D, filters: 8, kernel_size: 3, padding: same}
  - {_target_: keras.layers.BatchNormalization}
  - {_target_: keras.layers.Activation, activation: gelu}
  - {_target_: keras.layers.GlobalMaxPooling2D}
output: {_target_: keras.layers.Dense, activation: softmax}
""")
    kinds = [type(layer).__name__ for layer in head_layers(head, 3)]
    assert kinds == ["Conv2D", "BatchNormalization", "Activation", "GlobalMaxPooling2D", "Dense"]


def test_unknown_layer_class_is_a_clear_error():
    head = OmegaConf.create({"layers": [{"_target_": "keras.layers.Conv9D"}],
                             "output": {"_target_": "keras.layers.Dense"}})
    with pytest.raises(EmotionError, match="head layer head0_conv9d"):
        head_layers(head, 3)


def test_notebook_model_on_the_spatial_cut(tmp_path):
    cfg = make_cfg(["head=dilated", "backbone.weights=null", "backbone.cut_layer=conv5_3/relu"])
    model, info = build_model(cfg.backbone, cfg.head, 9, str(tmp_path))
    assert info == {"weights": "random"}
    assert model.get_layer(BACKBONE).output.shape == (None, 7, 7, 2048)
    assert model.input_shape == (None, 224, 224, 3)
    out = model.predict(np.zeros((2, 224, 224, 3), np.float32), verbose=0)
    assert out.shape == (2, 9)
    np.testing.assert_allclose(out.sum(axis=1), 1, rtol=1e-5)


def test_head_that_does_not_fit_the_backbone_is_named(tmp_path):
    cfg = make_cfg(["experiment=quickstart", "backbone.input_size=32", "backbone.cut_layer=avg_pool",
                    "head=dilated", "head.layers.0.padding=valid"])
    with pytest.raises(EmotionError, match="head layer head0_conv2d cannot take"):
        build_model(cfg.backbone, cfg.head, 9, str(tmp_path))


def test_vggface2_preprocessing_is_bgr_minus_mean():
    rgb = np.array([[[[10.0, 20.0, 30.0]]]], np.float32)
    out = np.asarray(preprocess(rgb, "vggface2", 3))
    np.testing.assert_allclose(out[0, 0, 0], [30 - VGGFACE2_MEAN_BGR[0], 20 - VGGFACE2_MEAN_BGR[1],
                                              10 - VGGFACE2_MEAN_BGR[2]], rtol=1e-6)
    gray = np.asarray(preprocess(np.full((1, 2, 2, 3), 255.0, np.float32), "unit", channels=1))
    assert gray.shape == (1, 2, 2, 1)
    np.testing.assert_allclose(gray, 1.0, rtol=1e-5)


def test_preprocessing_travels_inside_the_saved_model(tmp_path):
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, Preprocess("vggface2", 3)(inputs))
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(0).uniform(0, 255, (1, 4, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(restored.predict(x, verbose=0), np.asarray(preprocess(x, "vggface2", 3)), rtol=1e-6)
