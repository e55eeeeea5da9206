"""Choosing the prior shift on the selection split: the tau with the best macro-F1 among those whose accuracy
stays within `prior_shift_max_drop` points of tau 0's; every candidate's figures are logged."""

from __future__ import annotations

import logging

import mlflow
import numpy as np
from omegaconf import DictConfig

from emotion.data.base import Data
from emotion.evaluation.metrics import report
from emotion.evaluation.predictions import dataset_predictions
from emotion.inference.classifiers import Classify
from emotion.model.prior import shift_weights

log = logging.getLogger(__name__)


def choose_tau(probabilities: np.ndarray, labels: np.ndarray, prior: np.ndarray, classes: list[str], taus,
               max_drop: float) -> tuple[float, dict[float, dict]]:
    """(the chosen tau, {tau: its accuracy and macro-F1}) on one split's readable predictions."""
    figures = {}
    for tau in taus:
        shifted = probabilities * shift_weights(prior, tau)
        rep = report(labels, shifted.argmax(axis=1), classes)
        figures[float(tau)] = {"accuracy": rep["accuracy"], "macro_f1": rep["macro_f1"]}
    floor = report(labels, probabilities.argmax(axis=1), classes)["accuracy"] - max_drop / 100
    allowed = [t for t, f in figures.items() if f["accuracy"] >= floor - 1e-12] or [0.0]
    return max(allowed, key=lambda t: (figures.get(t, {"macro_f1": -1})["macro_f1"], -t)), figures


def select_prior_shift(classify: Classify, data: Data, image_size: int,
                       eval_cfg: DictConfig) -> tuple[float, np.ndarray]:
    """(tau, the PriorShift weights) chosen on the selection split and logged on the active run."""
    taus = [float(t) for t in eval_cfg.prior_shift]
    prior = data.splits["train"].targets.mean(axis=0)
    if taus in ([], [0.0]):
        return 0.0, shift_weights(prior, 0.0)
    split = data.splits["val"]
    probabilities = dataset_predictions(classify, split, image_size, eval_cfg.batch_size)
    readable = ~np.isnan(probabilities).any(axis=1)
    tau, figures = choose_tau(probabilities[readable], split.labels[readable], prior, data.classes, taus,
                              eval_cfg.prior_shift_max_drop)
    for candidate, f in figures.items():
        mlflow.log_metrics({f"prior_shift.selection_accuracy.tau_{candidate:g}": f["accuracy"],
                            f"prior_shift.selection_macro_f1.tau_{candidate:g}": f["macro_f1"]})
    mlflow.log_param("prior_shift.tau", tau)
    log.info("prior shift: tau %g chosen on the selection split (%s)", tau,
             ", ".join(f"{t:g}: acc {f['accuracy']:.4f} F1 {f['macro_f1']:.4f}" for t, f in figures.items()))
    return tau, shift_weights(prior, tau)
