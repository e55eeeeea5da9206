"""Predict on a split and report it: accuracy, macro-F1 with bootstrap intervals, per-class figures, confusion.

`python -m emotion.evaluate model=... data=... split=... via=dataset|engine` does it for any tracked model:
`via=dataset` feeds the split through the tf.data pipeline in batches, `via=engine` feeds every image
through the inference engine (what `emotion.infer detector=none` runs). Both use the one image contract
(`emotion.inputs`), so on the same model they must agree. Images that cannot be decoded keep their row,
are listed and counted, and are left out of the figures.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from emotion.cli import entry_point
from emotion.config import build
from emotion.data import Split
from emotion.engine import Classify, Engine
from emotion.errors import EmotionError
from emotion.inputs import read_image
from emotion.metrics import assess, plot_confusion, report_text

log = logging.getLogger(__name__)


def dataset_predictions(classify: Classify, split: Split, image_size: int, batch_size: int) -> np.ndarray:
    """Probabilities for every image of `split` in order, through tf.data; NaN rows for unreadable images."""
    from emotion.pipeline import prediction_dataset

    rows = []
    for images, readable in prediction_dataset(split, image_size, batch_size):
        probabilities = np.array(classify(images.numpy()), dtype=np.float64)
        probabilities[~readable.numpy()] = np.nan
        rows.append(probabilities)
    return np.concatenate(rows) if rows else np.zeros((0, split.targets.shape[1]))


def engine_predictions(engine: Engine, split: Split) -> np.ndarray:
    """Probabilities for every image of `split` in order, each image a still through the inference engine."""
    rows = np.full((len(split), len(engine.classes)), np.nan)
    in_memory = isinstance(split.images, np.ndarray)
    for i in range(len(split)):
        # In-memory images are RGB; the engine takes frames as OpenCV decodes them (BGR).
        frame = split.images[i][..., ::-1] if in_memory else read_image(split.images[i])
        if frame is not None:
            rows[i] = engine.process_still(frame).faces[0].probabilities
    return rows


def score(split: Split, probabilities: np.ndarray, classes: list[str], resamples: int = 1000) -> dict:
    """The report of the readable images, with the unreadable ones listed."""
    readable = ~np.isnan(probabilities).any(axis=1)
    rep = assess(split.labels[readable], probabilities[readable], classes, resamples)
    rep["unreadable"] = [split.ids[i] for i in np.flatnonzero(~readable)]
    for image_id in rep["unreadable"]:
        log.warning("unreadable image left out of the figures: %s", image_id)
    return rep


def log_report(rep: dict, prefix: str) -> dict[str, float]:
    """Metrics `<prefix>_accuracy`, `<prefix>_macro_f1`, their intervals, per-class ones; the artifacts."""
    import mlflow

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


def predictions(cfg: DictConfig, uri: str, meta: dict, split: Split) -> tuple[np.ndarray, str]:
    """(probabilities, the runtime that made them) for `split` through the chosen path."""
    from emotion.detect import WholeFrame
    from emotion.engine import load_classifier, with_mirror

    backend = cfg.engine.backend if cfg.via == "engine" else "keras"
    classify, runtime = load_classifier(uri, backend, cfg.engine.variant, cfg.engine.threads)
    if cfg.eval.tta_flip:
        classify = with_mirror(classify)
    if cfg.via == "engine":
        return engine_predictions(Engine(WholeFrame(), classify, meta["classes"], meta["input_size"]), split), runtime
    return dataset_predictions(classify, split, meta["input_size"], cfg.eval.batch_size), runtime


def evaluate(cfg: DictConfig) -> float:
    """A tracked model (best / alias / run / directory) on one split of a data source."""
    import mlflow

    from emotion.schema import validate
    from emotion.tracking import configure, model_metadata, resolve_model_uri

    validate(cfg, "evaluate")
    uri = resolve_model_uri(str(cfg.model), cfg.tracking)
    meta = model_metadata(uri)
    data = build(cfg.data, f"data={cfg.data.name}", cache_dir=cfg.paths.cache_dir)
    if cfg.split not in data.splits:
        raise EmotionError(f"data={data.name} has no split {cfg.split!r} (it has {', '.join(data.splits)})")
    if list(data.classes) != list(meta["classes"]):
        raise EmotionError(f"model {uri} predicts {meta['classes']}, data={data.name} has {data.classes}")
    split = data.splits[cfg.split]
    probabilities, runtime = predictions(cfg, uri, meta, split)
    rep = score(split, probabilities, data.classes, cfg.eval.bootstrap)
    print(f"{uri} on {data.name}/{cfg.split} via {cfg.via} ({runtime}; {rep['n']} images, "
          f"{len(rep['unreadable'])} unreadable)\n{report_text(rep)}")
    configure(cfg.tracking)
    with mlflow.start_run(run_name=f"{uri} {data.name}/{cfg.split} via {cfg.via}"):
        mlflow.log_params({"model": uri, "data.name": data.name, "split": cfg.split, "via": cfg.via,
                           "runtime": runtime, "tta_flip": cfg.eval.tta_flip, "data.fingerprint": data.fingerprint})
        log_report(rep, cfg.split)
    line = {"model": uri, "data": data.name, "split": cfg.split, "via": cfg.via, "runtime": runtime,
            "n": rep["n"], "unreadable": len(rep["unreadable"]), "accuracy": round(rep["accuracy"], 4),
            "accuracy_ci95": [round(v, 4) for v in rep["interval"].get("accuracy", [])],
            "macro_f1": round(rep["macro_f1"], 4)}
    if "without_uncertain" in rep:
        line["without_uncertain_accuracy"] = round(rep["without_uncertain"]["accuracy"], 4)
    print(json.dumps(line))
    return rep["accuracy"]


main = entry_point("evaluate", evaluate)


if __name__ == "__main__":
    main()
