"""Every option of every config group is built, not only composed.

Composition and validation of each option are in test_schema. Here each one is
turned into what it names: data sources into data, augmentations into
transforms, backbones and heads into models, schedules into optimizers, and so
on. Options that need what this machine cannot have say so in their test
(YuNet's ONNX file and the VGGFace2 weights are downloads: their offline
failure is what can be checked; the weight loader itself is tested on files the
tests write, in test_backbones). The engine options are built in test_export,
once the model has LiteRT files; the Optuna search runs in test_train.
"""

import keras
import numpy as np
import pytest

from emotion.core.config import build, compose_config
from emotion.core.errors import EmotionError
from emotion.data.augment import make_augment
from emotion.data.synthetic import CLASSES, draw_face
from emotion.evaluation.reports import score
from emotion.model.assemble import build_model
from emotion.model.weights import load_backbone_weights
from emotion.tracking.store import connect
from emotion.training.debug import shrunk_data, shrunk_stages
from emotion.training.runtime import apply_runtime

from conftest import make_cfg, options
from helpers.files import write_ferplus, write_skillbox, write_tree


def data_overrides(option, tmp_path):
    if option == "folder":
        return [f"data.root={write_tree(tmp_path / 'tree', classes=list(CLASSES))}", "data.val_split=0.2",
                "data.test_split=0.2"]
    if option == "skillbox":
        return [f"data.root={write_skillbox(tmp_path / 'skillbox')}", "data.val_split=0.25", "data.test_split=0.25"]
    if option == "ferplus":
        return [f"data.root={write_ferplus(tmp_path / 'ferplus')}", "data.val_split=0.3"]
    return ["data.per_class=6", "data.image_size=32"]


@pytest.mark.parametrize("option", options("data"))
def test_data_sources_load(option, tmp_path):
    cfg = make_cfg([f"data={option}", *data_overrides(option, tmp_path)])
    data = build(cfg.data, "data")
    assert {"train", "val"} <= set(data.splits) and data.classes
    assert all(len(split) and split.targets.shape[1] == len(data.classes) for split in data.splits.values())


@pytest.mark.parametrize("option", options("augment"))
def test_augmentations_transform(option):
    augment = make_augment(make_cfg([f"augment={option}"]).augment)
    batch = np.stack([draw_face("happy", 32) for _ in range(4)]).astype(np.float32)
    if option == "none":
        assert augment is None
        return
    out = augment(batch).numpy()
    assert out.shape == batch.shape and 0 <= out.min() and out.max() <= 255 and not np.allclose(out, batch)


@pytest.mark.parametrize("backbone", options("backbone"))
@pytest.mark.parametrize("head", options("head"))
def test_backbones_and_heads_build(backbone, head):
    size = 112 if backbone == "dlib_face_resnet" else 64  # dlib's ResNet needs 104 px at least
    cfg = make_cfg([f"backbone={backbone}", f"head={head}", "backbone.weights=null", f"backbone.input_size={size}"])
    model, info = build_model(cfg.backbone, cfg.head, 9, "unused")
    assert info == {"weights": "random"}
    out = model.predict(np.zeros((2, size, size, 3), np.float32), verbose=0)
    assert out.shape == (2, 9) and np.allclose(out.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("option", options("backbone/weights"))
def test_weight_files_are_fetched_from_their_sources(option, tmp_path):
    """Offline, each weights option tries its own Drive id or URL, or the package that carries it, and says how
    to give a local copy."""
    cfg = make_cfg([f"backbone/weights={option}", "backbone.weights.package.module=not_installed_here"]
                   if make_cfg([f"backbone/weights={option}"]).backbone.weights.package else
                   [f"backbone/weights={option}"])
    expected = r"could not download .*|comes with the Python package not_installed_here, which is not installed: "
    with pytest.raises(EmotionError, match=rf"({expected}).*set backbone.weights.path=<file>"):
        load_backbone_weights(keras.Sequential(), cfg.backbone.weights, str(tmp_path), cfg.backbone.pretrained)


@pytest.mark.parametrize("option", options("schedule"))
def test_schedules_build_their_optimizers(option):
    cfg = make_cfg([f"schedule={option}"])
    cfg.schedule.steps_per_epoch = 10
    stages = [s for s in cfg.schedule.stages.values() if s.epochs]
    assert stages
    for stage in stages:
        optimizer = build(stage.optimizer, "optimizer")
        assert isinstance(optimizer, keras.optimizers.Optimizer)
        assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) > 0


@pytest.mark.parametrize("option", options("callbacks"))
def test_callbacks_build(option):
    callbacks = make_cfg([f"callbacks={option}"]).callbacks or {}
    built = [build(spec, name) for name, spec in callbacks.items()]
    assert all(isinstance(c, keras.callbacks.Callback) for c in built)
    assert (option == "none") == (not built)


def test_runtime_eval_tracking_paths_and_debug(tmp_path):
    cfg = make_cfg(["debug=fast", f"tracking.uri=sqlite:///{tmp_path}/mlflow.db"])
    strategy, effective = apply_runtime(cfg.runtime)
    assert strategy.num_replicas_in_sync == 1 and effective["intra_op_threads"] >= 1
    assert effective["precision"] == "float32"
    assert connect(cfg.tracking)
    assert "~" not in cfg.paths.cache_dir or cfg.paths.cache_dir.startswith("~")
    data = build(compose_config("train", ["data=synthetic", "data.per_class=60", "data.image_size=32"]).data, "data")
    before = {name: len(split) for name, split in data.splits.items()}
    shrunk = shrunk_data(data, cfg.debug, cfg.schedule.batch_size)
    assert len(shrunk.splits["train"]) == cfg.debug.batches * cfg.schedule.batch_size
    assert all(len(shrunk.splits[s]) == cfg.debug.images for s in ("val", "test"))
    assert {name: len(split) for name, split in data.splits.items()} == before, "the data given is left as it was"
    assert all(stage["epochs"] <= 1 for stage in shrunk_stages(cfg.schedule.stages, cfg.debug).values())
    split = shrunk.splits["test"]
    rep = score(split, np.eye(9)[split.labels], list(CLASSES), cfg.eval.bootstrap)
    assert rep["accuracy"] == 1 and rep["interval"]["accuracy"] == [1.0, 1.0]


@pytest.mark.parametrize("option", options("experiment"))
def test_experiment_presets_build_their_model(option):
    cfg = make_cfg([f"experiment={option}", "backbone.weights=null",
                    *(["data.root=/unused"] if option == "ferplus_cpu" else [])])
    model, _ = build_model(cfg.backbone, cfg.head, len(cfg.data.classes), "unused")
    size = cfg.backbone.input_size
    assert model.predict(np.zeros((1, size, size, 3), np.float32), verbose=0).shape == (1, len(cfg.data.classes))


@pytest.mark.parametrize("option", options("detector"))
def test_detectors_build(option, tmp_path):
    cfg = make_cfg([f"detector={option}", f"paths.cache_dir={tmp_path}"], config_name="infer")
    if option == "yunet":  # its ONNX file is a download; offline, the failure names the way around it
        with pytest.raises(EmotionError, match=r"could not download .*detector.model.path="):
            build(cfg.detector, "detector")
        (tmp_path / "broken.onnx").write_bytes(b"not onnx")
        with pytest.raises(EmotionError, match="cannot load YuNet model"):
            build(make_cfg(["detector=yunet", f"detector.model.path={tmp_path}/broken.onnx"],
                           config_name="infer").detector, "detector")
        return
    detector = build(cfg.detector, "detector")
    frame = np.zeros((120, 160, 3), np.uint8)
    assert isinstance(detector(frame), list)
