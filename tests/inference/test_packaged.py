"""The model that ships inside the package: `model=packaged`, `model=best`'s fall-back, and the shipped files."""

import hashlib
import json

import keras
import numpy as np
import pytest

from emotion.core.errors import EmotionError
from emotion.data.synthetic import CLASSES, draw_face
from emotion.deploy.convert import convert
from emotion.inference import packaged
from emotion.inference.backends import build_engine, load_classifier
from emotion.model.preprocess import Preprocess
from emotion.tracking.lookup import load_keras_model, resolve_model_uri

from conftest import make_cfg, store_uri


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A packaged model made by the test (a tiny LiteRT network on 32 px faces), in place of the real one."""
    inputs = keras.Input((32, 32, 3))
    x = Preprocess("unit", 1, name="preprocess")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(x))
    model = keras.Model(inputs, keras.layers.Dense(len(CLASSES), activation="softmax")(x))
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "emotion_test_fp32.tflite").write_bytes(convert(model, "fp32"))
    (folder / packaged.METADATA).write_text(json.dumps({
        "file": "emotion_test_fp32.tflite", "variant": "fp32", "classes": list(CLASSES), "input_size": 32,
        "preprocessing": "unit", "color": "gray", "source": {"run_id": "made-by-the-test"}}))
    monkeypatch.setattr(packaged, "_folder", lambda: folder)
    return folder


def tracking(*overrides):
    return make_cfg(["display=false", *overrides], config_name="infer")


def test_packaged_model_classifies_faces_on_litert(shipped, tmp_path):
    cfg = tracking(f"tracking.uri=sqlite:///{tmp_path}/none.db", "model=packaged", "detector=none")
    engine, meta = build_engine(cfg.engine, cfg.detector, cfg.tracking, cfg.model)
    assert meta["uri"] == "packaged" and meta["runtime"].startswith("litert fp32") and meta["input_size"] == 32
    result = engine.process_still(draw_face("happy", 64)[..., ::-1])
    assert len(result.faces) == 1 and result.faces[0].label in CLASSES
    assert not (tmp_path / "none.db").exists(), "looking for the packaged model creates no store"


def test_best_falls_back_to_it_without_a_model_trained_on_real_data(shipped, store, tmp_path, caplog):
    caplog.set_level("INFO")
    assert resolve_model_uri("best", tracking(f"tracking.uri=sqlite:///{tmp_path}/empty.db").tracking) == "packaged"
    assert "no trained model in" in caplog.text
    smoke_only = tracking(f"tracking.uri={store_uri(store)}").tracking
    assert resolve_model_uri("best", smoke_only) == "packaged"
    assert "holds smoke models only (emotion-synthetic)" in caplog.text
    named = tracking(f"tracking.uri={store_uri(store)}", "tracking.model_name=emotion-synthetic").tracking
    assert resolve_model_uri("best", named) == "models:/emotion-synthetic@champion"


def test_what_needs_a_keras_model_says_the_packaged_one_has_none(shipped):
    with pytest.raises(EmotionError, match="packaged model is a LiteRT file without its Keras model"):
        load_keras_model("packaged")
    with pytest.raises(EmotionError, match="packaged model is LiteRT fp32 only: use engine=auto or litert"):
        load_classifier("packaged", "keras", None, 1)


def test_without_a_packaged_model_best_says_to_train(tmp_path, monkeypatch):
    monkeypatch.setattr(packaged, "_folder", lambda: tmp_path)
    with pytest.raises(EmotionError, match="no trained model in .* run `python -m emotion.train` first"):
        resolve_model_uri("best", tracking(f"tracking.uri=sqlite:///{tmp_path}/empty.db").tracking)
    with pytest.raises(EmotionError, match="carries no packaged model"):
        resolve_model_uri("packaged", tracking().tracking)


def test_the_shipped_model_is_whole_and_described():
    meta = packaged.packaged_metadata()
    if meta is None:
        pytest.skip("this checkout ships no emotion model")
    data = open(meta["path"], "rb").read()
    assert hashlib.sha256(data).hexdigest() == meta["sha256"], "the file is the one its card describes"
    assert meta["classes"] == list(CLASSES) and meta["figures"]["ferplus_valid"]["accuracy"] > 0.5
    card = (packaged._folder() / "MODEL_CARD.md").read_text()
    assert meta["source"]["run_id"] in card and meta["sha256"] in card and "Known weaknesses" in card
    probabilities = load_classifier("packaged", "auto", None, 1)[0](
        np.zeros((1, meta["input_size"], meta["input_size"], 3), np.float32))
    assert probabilities.shape == (1, len(CLASSES)) and abs(probabilities.sum() - 1) < 1e-2
