"""A split's report (figures of the readable images, the unreadable ones listed) and how a run logs it."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import mlflow
import numpy as np
from omegaconf import DictConfig

from emotion.data.base import Data, Split
from emotion.evaluation.metrics import assess, report_text
from emotion.evaluation.plots import plot_confusion
from emotion.evaluation.predictions import dataset_predictions
from emotion.inference.classifiers import Classify

log = logging.getLogger(__name__)

SELECTION, TEST = "selection", "test"


def score(split: Split, probabilities: np.ndarray, classes: list[str], resamples: int) -> dict:
    """The report of the readable images (bootstrap intervals from `resamples`), with the unreadable ones listed."""
    readable = ~np.isnan(probabilities).any(axis=1)
    rep = assess(split.labels[readable], probabilities[readable], classes, resamples)
    rep["unreadable"] = [split.ids[i] for i in np.flatnonzero(~readable)]
    for image_id in rep["unreadable"]:
        log.warning("unreadable image left out of the figures: %s", image_id)
    return rep


def log_report(rep: dict, prefix: str) -> dict[str, float]:
    """Metrics `<prefix>_accuracy`, `<prefix>_macro_f1`, their intervals, per-class ones; the artifacts."""
    metrics = {f"{prefix}_accuracy": rep["accuracy"], f"{prefix}_macro_f1": rep["macro_f1"],
               f"{prefix}_images": rep["n"], f"{prefix}_unreadable": len(rep.get("unreadable", []))}
    for metric, (low, high) in rep.get("interval", {}).items():
        metrics[f"{prefix}_{metric}_ci_low"], metrics[f"{prefix}_{metric}_ci_high"] = low, high
    if "without_uncertain" in rep:
        w = rep["without_uncertain"]
        metrics[f"{prefix}_without_uncertain_accuracy"] = w["accuracy"]
        metrics[f"{prefix}_without_uncertain_macro_f1"] = w["macro_f1"]
        for metric, (low, high) in w.get("interval", {}).items():
            metrics[f"{prefix}_without_uncertain_{metric}_ci_low"] = low
            metrics[f"{prefix}_without_uncertain_{metric}_ci_high"] = high
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


def assess_splits(classify: Classify, data: Data, image_size: int, eval_cfg: DictConfig) -> dict[str, dict]:
    """The selection split's report and, once, the test split's: both logged on the active run."""
    reports = {}
    for prefix, split in ((SELECTION, "val"), (TEST, "test")):
        if split not in data.splits:
            continue
        probabilities = dataset_predictions(classify, data.splits[split], image_size, eval_cfg.batch_size)
        reports[prefix] = score(data.splits[split], probabilities, data.classes, eval_cfg.bootstrap)
        log.info("%s split (%s):\n%s", prefix, split, report_text(reports[prefix]))
        log_report(reports[prefix], prefix)
    return reports
