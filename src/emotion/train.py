"""`python -m emotion.train [overrides]`: compose the config, train stage by stage, track in MLflow.

The selection split (`val`) chooses the epoch kept and the champion; the test
split, when the data has one, is evaluated once at the end and only reported.
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
import tempfile
from pathlib import Path

import hydra
import mlflow
import numpy as np
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from emotion.config import CONFIG_DIR, build
from emotion.data import Data
from emotion.errors import EmotionError, exits_cleanly

log = logging.getLogger("emotion.train")

SELECTION, TEST = "selection", "test"
# What a run may be optimised and promoted on: figures of the selection split, never of the test split.
SELECTION_METRICS = ("selection_accuracy", "selection_macro_f1")


def run_name() -> str | None:
    if not HydraConfig.initialized():
        return None
    return HydraConfig.get().job.override_dirname or "defaults"


def log_data(data: Data) -> None:
    mlflow.set_tags({"data.fingerprint": data.fingerprint, "data.classes": ",".join(data.classes)})
    mlflow.log_metrics({"data.skipped_images": len(data.skipped),
                        **{f"data.{name}_images": len(split) for name, split in data.splits.items()}})
    mlflow.log_dict({"fingerprint": data.fingerprint, "counts": data.counts(), "skipped": data.skipped},
                    "dataset.json")


def log_config(cfg: DictConfig) -> None:
    mlflow.log_text(OmegaConf.to_yaml(cfg, resolve=True), "config/resolved.yaml")
    if HydraConfig.initialized():
        hydra_dir = Path(HydraConfig.get().runtime.output_dir) / HydraConfig.get().output_subdir
        if hydra_dir.is_dir():
            mlflow.log_artifacts(str(hydra_dir), "config/hydra")


def write_submission(classify, data: Data, image_size: int, batch_size: int) -> None:
    """The Kaggle file (`image_path,emotion`): one row per test image, in order, even when it cannot be read.

    An unreadable image gets an empty label, is counted (`submission_unreadable`)
    and listed (`submission_unreadable.json`): row i always belongs to image i.
    """
    from emotion.evaluate import dataset_predictions

    probabilities = dataset_predictions(classify, data.unlabeled, image_size, batch_size)
    unreadable = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "submission.csv"
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["image_path", "emotion"])
            for image_id, p in zip(data.unlabeled.ids, probabilities):
                readable = not np.isnan(p).any()
                writer.writerow([image_id, data.classes[int(p.argmax())] if readable else ""])
                if not readable:
                    unreadable.append(image_id)
                    log.warning("submission: %s cannot be read; its row has no label", image_id)
        mlflow.log_artifact(str(path))
    mlflow.log_metric("submission_unreadable", len(unreadable))
    mlflow.log_dict({"unreadable": unreadable}, "submission_unreadable.json")


def assess_splits(classify, data: Data, image_size: int, eval_cfg: DictConfig) -> dict[str, dict]:
    """The selection split's report and, once, the test split's: both logged."""
    from emotion.evaluate import dataset_predictions, log_report, score
    from emotion.metrics import report_text

    reports = {}
    for prefix, split in ((SELECTION, "val"), (TEST, "test")):
        if split not in data.splits:
            continue
        probabilities = dataset_predictions(classify, data.splits[split], image_size, eval_cfg.batch_size)
        reports[prefix] = score(data.splits[split], probabilities, data.classes, eval_cfg.bootstrap)
        log.info("%s split (%s):\n%s", prefix, split, report_text(reports[prefix]))
        log_report(reports[prefix], prefix)
    return reports


def train(cfg: DictConfig) -> float:
    from emotion.augment import make_augment
    from emotion.engine import keras_classifier, with_mirror
    from emotion.metrics import plot_history
    from emotion.model import build_model
    from emotion.pipeline import to_dataset
    from emotion.runtime import configure
    from emotion.schedule import class_weights, fit_stages
    from emotion.tracking import log_model, promote, tracked_run

    if cfg.tracking.metric not in SELECTION_METRICS:
        raise EmotionError(f"tracking.metric must be one of {', '.join(SELECTION_METRICS)} (the selection split "
                           f"chooses; test figures are only reported), not {cfg.tracking.metric!r}")
    strategy, threads = configure(cfg.runtime)
    data = build(cfg.data, f"data={cfg.data.name}", cache_dir=cfg.paths.cache_dir)
    with strategy.scope():
        model, weights = build_model(cfg.backbone, cfg.head, len(data.classes), cfg.paths.cache_dir)
    with tracked_run(cfg, run_name()) as (run, resumed):
        if not resumed:
            log_config(cfg)
            log_data(data)
        mlflow.set_tags({**{f"backbone.{k}": v for k, v in weights.items()},
                         **{f"runtime.effective_{k}_threads": v for k, v in threads.items()}})
        size, batch = cfg.backbone.input_size, cfg.schedule.batch_size
        train_ds = to_dataset(data.splits["train"], size, batch, make_augment(cfg.augment), shuffle=True,
                              seed=cfg.runtime.seed)
        val_ds = to_dataset(data.splits["val"], size, batch)
        history = fit_stages(
            model, train_ds, val_ds, cfg.schedule, Path(cfg.paths.checkpoint_dir) / run.info.run_id,
            run.info.run_id, strategy, class_weights(data.splits["train"].targets, cfg.schedule.class_weight),
            jit_compile=cfg.runtime.jit_compile,
            log_epoch=lambda metrics, epoch: mlflow.log_metrics(metrics, step=epoch),
        )
        classify = keras_classifier(model)
        if cfg.eval.tta_flip:
            classify = with_mirror(classify)
        reports = assess_splits(classify, data, size, cfg.eval)
        if history:
            with tempfile.TemporaryDirectory() as tmp:
                mlflow.log_artifact(str(plot_history(history, Path(tmp) / "training_curves.png")))
        if data.unlabeled is not None and len(data.unlabeled):
            write_submission(classify, data, size, cfg.eval.batch_size)
        value = reports[SELECTION][cfg.tracking.metric.removeprefix(f"{SELECTION}_")]
        version = log_model(model, data.classes, cfg)
        champion, reason = promote(cfg.tracking.model_name, version, cfg.tracking.metric, value, cfg.tracking.mode,
                                   data.fingerprint, cfg.tracking.promote)
    shutil.rmtree(Path(cfg.paths.checkpoint_dir) / run.info.run_id, ignore_errors=True)
    summary = {"run_id": run.info.run_id, "model": cfg.tracking.model_name, "version": version,
               cfg.tracking.metric: round(value, 4), "champion": champion, "promotion": reason}
    if TEST in reports:
        summary["test_accuracy"] = round(reports[TEST]["accuracy"], 4)
        summary["test_accuracy_ci95"] = [round(v, 4) for v in reports[TEST]["interval"]["accuracy"]]
    print(json.dumps(summary))
    return value


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")
@exits_cleanly
def main(cfg: DictConfig) -> float:
    return train(cfg)


if __name__ == "__main__":
    main()
