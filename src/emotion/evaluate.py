"""Predict on a split and report: accuracy, macro-F1, per-class precision/recall, confusion matrix."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import keras
import mlflow
import numpy as np

from emotion.data import Split
from emotion.metrics import plot_confusion, report, report_text
from emotion.pipeline import to_dataset

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
