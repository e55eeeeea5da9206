"""Training schedule: staged fitting that resumes.

Stages run in config order, each with its own optimizer and trainable part of
the backbone. A killed run loses at most the epoch in progress: each stage
keeps a Keras `BackupAndRestore` backup, finished stages leave their weights,
and `state.json` says which stages are done and the best validation value.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from omegaconf import DictConfig

from emotion.core.config import build
from emotion.core.outputs import write_text
from emotion.model.assemble import BACKBONE
from emotion.model.backbones import set_trainable_from

log = logging.getLogger(__name__)


def class_weights(targets: np.ndarray, mode: str | None) -> dict[int, float] | None:
    """`balanced`: n / (k * n_c), as scikit-learn, for the classes present; `sqrt`: its square root, a
    milder push towards the rare classes."""
    if not mode:
        return None
    counts = np.bincount(targets.argmax(axis=1), minlength=targets.shape[1])
    present = counts > 0
    weights = np.where(present, len(targets) / (present.sum() * np.maximum(counts, 1)), 0.0)
    return {i: float(np.sqrt(w) if mode == "sqrt" else w) for i, w in enumerate(weights)}


class _State:
    """What survives a crash: finished stages, best value, epoch history, owning run."""

    def __init__(self, directory: Path, run_id: str):
        self.path = directory / "state.json"
        saved = json.loads(self.path.read_text()) if self.path.is_file() else {}
        if saved.get("run_id") != run_id:
            saved = {"run_id": run_id}
        self.data = {"done": [], "best": None, "history": {}, **saved}
        self.save()

    def save(self):
        write_text(self.path, json.dumps(self.data, indent=1))


def _better(value: float, best: float | None, mode: str) -> bool:
    return best is None or (value > best if mode == "max" else value < best)


def load_model_weights(model: keras.Model, path: Path) -> None:
    """Model weights from a checkpoint; the optimizer state of another stage is irrelevant."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model.load_weights(path)


class _WholeModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """Keeps the whole model's weights, also when a stage fits only its part after a cached prefix."""

    def __init__(self, whole: keras.Model, filepath: str, **kwargs):
        super().__init__(filepath, **kwargs)
        self.whole = whole

    def set_model(self, model):
        super().set_model(self.whole)


def compile_stage(model: keras.Model, stage: DictConfig, cfg: DictConfig, jit_compile: bool = False,
                  trainer: keras.Model | None = None, freeze_bn: bool = False):
    """Freeze `model`'s backbone up to the stage's first trained layer (and its BatchNorm layers with
    `freeze_bn`) and compile `trainer` (by default `model`; a model made of `model`'s layers) for the stage."""
    unfrozen = set_trainable_from(model.get_layer(BACKBONE), stage.get("backbone_trainable_from"), freeze_bn)
    ema = {"use_ema": True, "ema_momentum": float(cfg.ema_momentum)} if cfg.ema_momentum else {}
    (trainer or model).compile(
        optimizer=build(stage.optimizer, "optimizer", **ema),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=float(cfg.label_smoothing)),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy"),
                 keras.metrics.F1Score(average="macro", name="macro_f1")],
        jit_compile=jit_compile,
    )
    return unfrozen


def fit_stages(model: keras.Model, train: tf.data.Dataset, val: tf.data.Dataset, cfg: DictConfig,
               validation_steps: int, callbacks_cfg: DictConfig | None, checkpoint_dir: Path, run_id: str,
               strategy: tf.distribute.Strategy, class_weight: dict | None = None, jit_compile: bool = False,
               log_epoch: Callable[[dict, int], None] = lambda metrics, epoch: None,
               trainer: keras.Model | None = None, freeze_bn: bool = False) -> dict:
    """Run every stage, resuming where a previous attempt of the same run stopped.

    `train` and `val` repeat: an epoch is `cfg.steps_per_epoch` batches of
    `train`, its validation `validation_steps` batches of `val`. They feed
    `trainer` (by default `model`; a model of `model`'s layers from a cached prefix).

    Leaves the model with the weights of the best epoch on `cfg.monitor`, the
    validation metric (never a training metric), and returns the history.
    """
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    state = _State(checkpoint_dir, run_id)
    best_path = checkpoint_dir / "best.weights.h5"
    mode = cfg.monitor_mode
    trainer = trainer or model
    offset = 0
    for name, stage in cfg.stages.items():
        epochs = int(stage.epochs)
        if epochs <= 0:
            continue
        finished = checkpoint_dir / f"after_{name}.weights.h5"
        if name in state.data["done"]:
            offset += epochs
            continue
        with strategy.scope():
            unfrozen = compile_stage(model, stage, cfg, jit_compile, trainer, freeze_bn)
        if state.data["done"]:
            load_model_weights(model, checkpoint_dir / f"after_{state.data['done'][-1]}.weights.h5")
        log.info("stage %s: %d epochs, %d backbone layers trainable", name, epochs, unfrozen)

        def on_epoch_end(epoch, logs):
            logs = {k: float(v) for k, v in logs.items()}
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(trainer.optimizer.learning_rate))
            for key, value in logs.items():
                state.data["history"].setdefault(key, []).append(value)
            value = logs.get(cfg.monitor)
            if value is not None and not math.isnan(value) and _better(value, state.data["best"], mode):
                state.data["best"] = value
            state.save()
            log_epoch(logs, epoch)

        callbacks = [
            keras.callbacks.BackupAndRestore(str(checkpoint_dir / f"backup_{name}")),
            # After the backup (which keeps the weights that train), before the checkpoint and the validation
            # metric: with an EMA of the weights, what is judged and kept is the average.
            *([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if cfg.ema_momentum else []),
            _WholeModelCheckpoint(
                model, str(best_path), monitor=cfg.monitor, mode=mode, save_best_only=True,
                save_weights_only=True, initial_value_threshold=state.data["best"],
            ),
            *(build(cb, f"callbacks.{key}") for key, cb in (callbacks_cfg or {}).items() if cb),
            keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end),
        ]
        trainer.fit(train, validation_data=val, epochs=offset + epochs, initial_epoch=offset,
                  steps_per_epoch=int(cfg.steps_per_epoch), validation_steps=validation_steps,
                  class_weight=class_weight, callbacks=callbacks, verbose=cfg.verbose, shuffle=False)
        model.save_weights(finished)
        state.data["done"].append(name)
        state.save()
        offset += epochs
    if best_path.is_file():
        load_model_weights(model, best_path)
    return state.data["history"]
