"""LiteRT export: variants, the accuracy gate, agreement with Keras, and the LiteRT inference path."""

import json
import subprocess
import sys

import keras
import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from emotion.deploy.convert import convert
from emotion.export import REFUSED, export
from emotion.infer import infer
from emotion.inference.backends import build_engine
from emotion.inference.litert import LiteRTClassifier
from emotion.model.assemble import build_model, float32_copy
from emotion.model.preprocess import Preprocess

from conftest import REPO, SMOKE, make_cfg
from helpers.files import face_video


def export_cfg(store, out, *overrides):
    return make_cfg([f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE, f"output_dir={out}",
                     f"paths.cache_dir={store}/cache", "representative_images=40", *overrides],
                    config_name="export")


def champion_run(store):
    mlflow.set_tracking_uri(f"sqlite:///{store}/mlflow.db")
    return MlflowClient().get_model_version_by_alias("emotion-synthetic", "champion").run_id


def test_litert_agrees_with_keras_on_a_small_model():
    inputs = keras.Input((24, 24, 3))
    x = Preprocess("unit", 1)(inputs)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(4, activation="softmax")(x))
    images = np.random.default_rng(0).uniform(0, 255, (16, 24, 24, 3)).astype(np.float32)
    litert = LiteRTClassifier(convert(model, "fp32"), threads=2)
    np.testing.assert_allclose(litert.predict(images, batch_size=5), model.predict(images, verbose=0), atol=1e-5)
    int8 = LiteRTClassifier(convert(model, "int8", images), threads=2).predict(images)
    assert (int8.argmax(1) == model.predict(images, verbose=0).argmax(1)).mean() >= 0.75


@pytest.mark.parametrize("mode,channels", [("vggface2", 3), ("unit", 1), ("symmetric", 3)])
def test_int8_keeps_the_preprocessing(mode, channels):
    """Every preprocessing mode survives full-integer quantization (a channel reversal op once did not)."""
    inputs = keras.Input((16, 16, 3))
    model = keras.Model(inputs, Preprocess(mode, channels)(inputs))
    images = np.random.default_rng(0).uniform(0, 255, (64, 16, 16, 3)).astype(np.float32)
    expected = model.predict(images, verbose=0)
    int8 = LiteRTClassifier(convert(model, "int8", images), threads=2).predict(images)
    assert np.abs(int8 - expected).max() <= 0.01 * np.ptp(expected)


@pytest.fixture(scope="module")
def exported(store, tmp_path_factory):
    """The quick-start model exported once, every variant kept, for the tests that read the result."""
    assert export(export_cfg(store, tmp_path_factory.mktemp("export"), "max_drop=100")) == 0
    return store


def test_export_logs_variants_to_the_training_run(exported):
    store = exported
    run = MlflowClient().get_run(champion_run(store))
    assert run.data.tags["litert.variants"] == "fp32,dynamic,int8"
    metrics = run.data.metrics
    assert metrics["litert_fp32_selection_agreement"] >= 0.99 and metrics["litert_fp32_test_agreement"] >= 0.99
    assert abs(metrics["litert_fp32_selection_accuracy"] - metrics["litert_keras_selection_accuracy"]) <= 0.02
    assert metrics["litert_int8_selection_agreement"] >= 0.98, "the quick-start model quantizes faithfully"
    for variant in ("dynamic", "int8"):
        assert metrics[f"litert_{variant}_size_mb"] > 0
        assert abs(metrics[f"litert_{variant}_test_accuracy"] - metrics["litert_keras_test_accuracy"]) <= 0.02
    artifacts = {a.path for a in MlflowClient().list_artifacts(run.info.run_id, "litert")}
    assert {"litert/fp32.tflite", "litert/dynamic.tflite", "litert/int8.tflite", "litert/export.json"} <= artifacts
    assert metrics["litert_int8_size_mb"] < metrics["litert_fp32_size_mb"] / 2


@pytest.mark.slow
def test_gate_refuses_quantized_variants(store, tmp_path, capsys):
    assert export(export_cfg(store, tmp_path, "max_drop=-1", "variants=[fp32,int8]")) == REFUSED
    assert "error: refused: int8 selection accuracy" in capsys.readouterr().err
    run = MlflowClient().get_run(champion_run(store))
    assert run.data.tags["litert.variants"] == "fp32"
    assert export(export_cfg(store, tmp_path, "max_drop=-1", "variants=[fp32,int8]", "force=true")) == 0
    assert MlflowClient().get_run(champion_run(store)).data.tags["litert.variants"] == "fp32,int8"


@pytest.mark.parametrize("option", ["auto", "keras", "litert"])
def test_engine_options_build(exported, option):
    store = exported
    cfg = make_cfg([f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE, f"engine={option}", "detector=none"],
                   config_name="infer")
    engine, meta = build_engine(cfg.engine, cfg.detector, cfg.tracking, cfg.model)
    assert meta["runtime"].startswith({"auto": "litert int8", "keras": "keras", "litert": "litert int8"}[option])
    faces = engine.process_still(np.zeros((40, 40, 3), np.uint8)).faces
    assert len(faces) == 1 and faces[0].probabilities.shape == (9,)


def test_infer_runs_litert_without_tensorflow(exported, tmp_path):
    store = exported
    video = face_video(tmp_path / "faces.mp4", frames=6)
    script = f"""
import sys, json
from conftest import make_cfg
from emotion.infer import infer
cfg = make_cfg(["tracking.uri=sqlite:///{store}/mlflow.db", "{SMOKE}", "source={video}", "detector=none",
                "display=false", "output.summary={tmp_path}/summary.json", "engine=auto"], config_name="infer")
assert infer(cfg) == 0
assert "tensorflow" not in sys.modules, "the LiteRT path imported TensorFlow"
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO / "tests", capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["runtime"] == "litert int8, 2 threads" and summary["frames"] == 6
    cfg = make_cfg([f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE, f"source={video}", "detector=none",
                    "display=false", f"output.summary={tmp_path}/s2.json", "engine=litert", "engine.variant=fp32",
                    "engine.threads=1"],
                   config_name="infer")
    assert infer(cfg) == 0
    assert json.loads((tmp_path / "s2.json").read_text())["runtime"] == "litert fp32, 1 thread"


def test_a_model_trained_in_bfloat16_exports_and_serves_in_float32():
    cfg = make_cfg(["experiment=ferplus_cpu", "data.root=unused"])
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        mixed, _ = build_model(cfg.backbone, cfg.head, 9, cfg.paths.cache_dir)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    served = float32_copy(mixed)
    assert {layer.dtype_policy.name for layer in served.layers} == {"float32"} and float32_copy(served) is served
    images = np.random.default_rng(0).uniform(0, 255, (8, 48, 48, 3)).astype(np.float32)
    expected = served.predict(images, verbose=0)
    np.testing.assert_allclose(mixed.predict(images, verbose=0).astype(np.float32), expected, atol=2e-2)
    np.testing.assert_allclose(LiteRTClassifier(convert(mixed, "fp32"), threads=2)(images), expected, atol=1e-5)
