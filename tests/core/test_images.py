"""One image-to-prediction contract: every path from a decoded face to probabilities agrees.

The original notebook trained with one preprocessing and inferred with none.
Here the evaluation path (tf.data), the export gate, the Keras engine and the
LiteRT engines all go through `emotion.core.images`, and these tests check that one
face gets the same probabilities through each of them.
"""

import json

import cv2
import numpy as np
import pytest

from emotion.core.config import build
from emotion.core.images import BGR, RGB, as_rgb, model_batch, model_input, read_image
from emotion.data.base import Split, one_hot
from emotion.data.pipeline import prediction_dataset
from emotion.data.synthetic import CLASSES, draw_face
from emotion.deploy.convert import convert, images_of
from emotion.evaluate import evaluate
from emotion.evaluation.predictions import dataset_predictions, engine_predictions
from emotion.evaluation.reports import score
from emotion.inference.backends import engine_for
from emotion.inference.classifiers import keras_classifier
from emotion.inference.detectors import WholeFrame, square_crop
from emotion.inference.litert import LiteRTClassifier
from emotion.tracking.lookup import load_keras_model, model_metadata

from conftest import SHARED, SMOKE, make_cfg, store_uri

MEDIA = SHARED / "media"
FERPLUS_VALID = SHARED / "data" / "ferplus" / "FER2013Valid"


def engine(detector, classify, classes, size):
    """The inference engine with the `engine` group's defaults."""
    return engine_for(detector, classify, classes, size, make_cfg([], config_name="infer").engine)


def test_contract_handles_any_decoded_image():
    rgb = np.random.default_rng(0).integers(0, 256, (30, 50, 3), dtype=np.uint8)
    np.testing.assert_array_equal(as_rgb(rgb[..., ::-1], BGR), rgb.astype(np.float32))
    np.testing.assert_array_equal(as_rgb(rgb, RGB), rgb.astype(np.float32))
    gray = rgb[..., 0]
    assert (as_rgb(gray) == gray[..., None].astype(np.float32)).all()
    assert as_rgb(gray[..., None]).shape == (30, 50, 3)
    bgra = np.dstack([rgb[..., ::-1], np.full((30, 50), 255, np.uint8)])
    np.testing.assert_array_equal(as_rgb(bgra), rgb.astype(np.float32))
    assert as_rgb((rgb.astype(np.uint16) * 257)[..., ::-1]).max() == pytest.approx(rgb.max())
    out = model_input(rgb[..., ::-1], 24)
    assert out.shape == (24, 24, 3) and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 255
    assert model_batch([rgb, gray], 16).shape == (2, 16, 16, 3)
    with pytest.raises(ValueError, match="not an image"):
        as_rgb(np.zeros((4, 4, 2)))


def test_pipeline_and_export_feed_exactly_the_contract(tmp_path):
    paths = []
    for i, size in enumerate((20, 48, 90)):
        path = tmp_path / f"{i}.png"
        cv2.imwrite(str(path), draw_face("happy", size)[..., ::-1])
        paths.append(str(path))
    split = Split(paths, one_hot(np.zeros(3, int), 9), paths)
    expected = model_batch([read_image(p) for p in paths], 32, BGR)
    from_tf = np.concatenate([images.numpy() for images, _ in prediction_dataset(split, 32, 2)])
    np.testing.assert_array_equal(from_tf, expected)
    np.testing.assert_array_equal(images_of(split, 32)[0], expected)


def golden_images(folder, rng) -> list[str]:
    """Generated faces (colour, gray, odd sizes, not square) always; FER+ faces when ../shared has them."""
    folder.mkdir()
    paths = []
    for i in range(45):
        face = draw_face(CLASSES[i % 9], int(rng.choice([40, 64, 97])), rng)
        if i % 3 == 1:
            face = cv2.cvtColor(face, cv2.COLOR_RGB2GRAY)
        elif i % 3 == 2:
            face = cv2.resize(face, (face.shape[1], int(face.shape[0] * 1.3)))
        path = folder / f"generated_{i}.png"
        cv2.imwrite(str(path), face if face.ndim == 2 else face[..., ::-1])
        paths.append(str(path))
    if FERPLUS_VALID.is_dir():
        paths += [str(p) for p in sorted(FERPLUS_VALID.glob("*.png"))[:60]]
    return paths


def real_frame_faces(folder):
    """(frame, the square crops the engine takes from it, saved as PNG files) from a real clip."""
    capture = cv2.VideoCapture(str(MEDIA / "WolfgangLanger_Pexels.mp4"))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 100)
    ok, frame = capture.read()
    assert ok
    detector = build(make_cfg(["detector=haar"], config_name="infer").detector, "detector")
    paths = []
    for i, found in enumerate(detector(frame)):
        crop, _ = square_crop(frame, found.box, 0.1)
        paths.append(str(folder / f"frame_face_{i}.png"))
        cv2.imwrite(paths[-1], crop)
    return frame, detector, paths


@pytest.mark.slow
def test_golden_every_path_gives_the_same_probabilities(store, tmp_path):
    uri = f"runs:/{champion_run_id(store)}/model"
    meta = model_metadata(uri)
    size, classes = meta["input_size"], meta["classes"]
    model = load_keras_model(uri)
    keras_call = keras_classifier(model)
    paths = golden_images(tmp_path / "faces", np.random.default_rng(1))
    frame = None
    if (MEDIA / "WolfgangLanger_Pexels.mp4").is_file():
        frame, detector, crops = real_frame_faces(tmp_path / "faces")
        assert crops, "the real frame has a face"
        paths += crops
    split = Split(paths, one_hot(np.zeros(len(paths), int), len(classes)), paths)

    evaluation = dataset_predictions(keras_call, split, size, 16)
    export_gate = keras_call(images_of(split, size)[0])
    keras_engine = engine_predictions(engine(WholeFrame(), keras_call, classes, size), split)
    fp32 = LiteRTClassifier(convert(model, "fp32"), threads=2)
    litert_engine = engine_predictions(engine(WholeFrame(), fp32, classes, size), split)
    for name, other in (("export gate", export_gate), ("Keras engine", keras_engine),
                        ("LiteRT fp32 engine", litert_engine)):
        assert (other.argmax(1) == evaluation.argmax(1)).all(), f"{name} disagrees on an argmax"
        assert np.abs(other - evaluation).max() <= 1e-3, f"{name} differs by {np.abs(other - evaluation).max()}"

    # Calibrated as `emotion.export` does: on images of the model's own training split.
    training = build(make_cfg(["experiment=quickstart"]).data, "data").splits["train"]
    int8 = LiteRTClassifier(convert(model, "int8", images_of(training, size, 300, seed=1)[0]), threads=2)
    int8_engine = engine_predictions(engine(WholeFrame(), int8, classes, size), split)
    # This model learnt drawn faces, so on real faces many of its answers are near-ties that an int8
    # rounding may flip on one machine and not another. A broken preprocessing (the channel flip
    # int8 once corrupted) moves every probability and flips decided answers too: that is what fails.
    top_two = np.sort(evaluation, axis=1)[:, -2:]
    decided = top_two[:, 1] - top_two[:, 0] >= 0.1
    assert decided.mean() >= 0.5, "too few decided answers for the int8 check to mean anything"
    assert (int8_engine.argmax(1) == evaluation.argmax(1))[decided].mean() >= 0.98
    assert np.median(np.abs(int8_engine - evaluation).max(axis=1)) <= 0.02

    if frame is not None:  # the product path: detect on the BGR frame, crop, classify
        faces = engine(detector, keras_call, classes, size).process(frame).faces
        from_frame = np.stack([f.probabilities for f in faces])
        np.testing.assert_allclose(from_frame, evaluation[-len(crops):], atol=1e-3)


def champion_run_id(store):
    import mlflow

    mlflow.set_tracking_uri(store_uri(store))
    return mlflow.MlflowClient().get_model_version_by_alias("emotion-synthetic", "champion").run_id


def test_a_corrupt_image_keeps_its_row_and_is_listed(store, tmp_path):
    uri = f"runs:/{champion_run_id(store)}/model"
    meta = model_metadata(uri)
    paths = golden_images(tmp_path / "faces", np.random.default_rng(2))[:9]
    (tmp_path / "faces" / "generated_4.png").write_bytes(b"\x89PNG broken")
    labels = np.arange(9)
    split = Split(paths, one_hot(labels, 9), [f"faces/{i}" for i in range(9)])
    keras_call = keras_classifier(load_keras_model(uri))
    for predictions in (dataset_predictions(keras_call, split, meta["input_size"], 4),
                        engine_predictions(engine(WholeFrame(), keras_call, meta["classes"], meta["input_size"]),
                                           split)):
        assert len(predictions) == 9 and np.isnan(predictions[4]).all() and not np.isnan(predictions[5]).any()
        rep = score(split, predictions, list(CLASSES), resamples=50)
        assert rep["unreadable"] == ["faces/4"] and rep["n"] == 8


@pytest.mark.slow
def test_both_paths_agree_and_print_one_json_line(store, capsys):
    lines = {}
    for via in ("dataset", "engine"):
        args = [f"tracking.uri={store_uri(store)}", SMOKE, "data=synthetic", f"via={via}", "engine=keras"]
        accuracy = evaluate(make_cfg(args, config_name="evaluate"))
        lines[via] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert lines[via]["via"] == via and lines[via]["accuracy"] == pytest.approx(accuracy, abs=1e-4)
        assert {"accuracy", "macro_f1", "n", "accuracy_ci95", "without_uncertain_accuracy"} <= set(lines[via])
        assert lines[via]["split"] == "test" and lines[via]["runtime"].startswith("keras")
    test_split = build(make_cfg(["data=synthetic"], config_name="evaluate").data, "data").splits["test"]
    assert lines["dataset"]["n"] == lines["engine"]["n"] == len(test_split)
    assert abs(lines["dataset"]["accuracy"] - lines["engine"]["accuracy"]) <= 0.005
