"""Predict on a split and report: accuracy, macro-F1, per-class precision/recall, confusion matrix.

`python -m emotion.evaluate model=... data=... split=...` does it for any tracked model.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import hydra
import keras
import mlflow
import numpy as np
from omegaconf import DictConfig

from emotion.config import CONFIG_DIR, build
from emotion.data import Split
from emotion.errors import EmotionError, exits_cleanly
from emotion.metrics import plot_confusion, report, report_text
from emotion.pipeline import to_dataset
from emotion.tracking import configure, load_keras_model, model_metadata, resolve_model_uri

log = logging.getLogger(__name__)


def predict(model: keras.Model, split: Split, image_size: int, batch_size: int = 64,
            tta_flip: bool = False) -> np.ndarray:
    """Class probabilities for every image of `split` (mirrored copies averaged in with `tta_flip`)."""
    images = to_dataset(split, image_size, batch_size, with_targets=False)
    probabilities = model.predict(images, verbose=0)
    if tta_flip:
        mirrored = images.map(lambda batch: batch[:, :, ::-1, :])
        probabilities = (probabilities + model.predict(mirrored, verbose=0)) / 2
    return probabilities


def evaluate_split(model, split: Split, classes: list[str], image_size: int, batch_size: int = 64,
                   tta_flip: bool = False) -> dict:
    probabilities = predict(model, split, image_size, batch_size, tta_flip)
    return report(split.labels, probabilities.argmax(axis=1), classes)


def log_report(rep: dict, prefix: str = "eval") -> dict[str, float]:
    """Metrics `<prefix>_accuracy`, `<prefix>_macro_f1`, per-class ones, and the artifacts."""
    metrics = {f"{prefix}_accuracy": rep["accuracy"], f"{prefix}_macro_f1": rep["macro_f1"]}
    for name, m in rep["per_class"].items():
        metrics[f"{prefix}_recall.{name}"] = m["recall"]
        metrics[f"{prefix}_precision.{name}"] = m["precision"]
    mlflow.log_metrics(metrics)
    with tempfile.TemporaryDirectory() as tmp:
        plot_confusion(rep, Path(tmp) / f"{prefix}_confusion_matrix.png")
        (Path(tmp) / f"{prefix}_report.json").write_text(json.dumps(rep, indent=1))
        (Path(tmp) / f"{prefix}_report.txt").write_text(report_text(rep) + "\n")
        mlflow.log_artifacts(tmp)
    return metrics


def evaluate(cfg: DictConfig) -> float:
    """A tracked model (best / alias / run / directory) on one split of a data source."""
    uri = resolve_model_uri(str(cfg.model), cfg.tracking)
    meta = model_metadata(uri)
    data = build(cfg.data, f"data={cfg.data.name}", cache_dir=cfg.paths.cache_dir, seed=cfg.seed)
    if cfg.split not in data.splits:
        raise EmotionError(f"data={data.name} has no split {cfg.split!r} (it has {', '.join(data.splits)})")
    if list(data.classes) != list(meta["classes"]):
        raise EmotionError(f"model {uri} predicts {meta['classes']}, data={data.name} has {data.classes}")
    model = load_keras_model(uri)
    rep = evaluate_split(model, data.splits[cfg.split], data.classes, meta["input_size"], cfg.batch_size,
                         cfg.tta_flip)
    print(f"{uri} on {data.name}/{cfg.split} ({len(data.splits[cfg.split])} images)\n{report_text(rep)}")
    configure(cfg.tracking)
    with mlflow.start_run(run_name=f"{uri} {data.name}/{cfg.split}"):
        mlflow.log_params({"model": uri, "data.name": data.name, "split": cfg.split, "tta_flip": cfg.tta_flip,
                           "data.fingerprint": data.fingerprint})
        log_report(rep, cfg.split)
    return rep["accuracy"]


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="evaluate")
@exits_cleanly
def main(cfg: DictConfig) -> float:
    return evaluate(cfg)


if __name__ == "__main__":
    main()
