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

import numpy as np
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from emotion.cli import entry_point
from emotion.config import build
from emotion.data import Data

log = logging.getLogger("emotion.train")

SELECTION, TEST = "selection", "test"


def run_name() -> str | None:
    if not HydraConfig.initialized():
        return None
    return HydraConfig.get().job.override_dirname or "defaults"


def shrink_for_debug(cfg: DictConfig, data: Data) -> Data:
    """`debug=fast`: a few batches per epoch, one epoch per stage, a few images per scored split."""
    if not cfg.get("debug"):
        return data
    for stage in cfg.schedule.stages.values():
        stage.epochs = min(int(stage.epochs), int(cfg.debug.epochs))
    keep = {"train": cfg.debug.batches * cfg.schedule.batch_size}
    for name, split in data.splits.items():
        n = min(len(split), keep.get(name, cfg.debug.images))
        data.splits[name] = split.take(np.random.default_rng(0).choice(len(split), n, replace=False))
    return data


def write_submission(classify, data: Data, image_size: int, batch_size: int) -> None:
    """The Kaggle file (`image_path,emotion`): one row per test image, in order, even when it cannot be read.

    An unreadable image gets an empty label, is counted (`submission_unreadable`)
    and listed (`submission_unreadable.json`): row i always belongs to image i.
    """
    import mlflow

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
    from emotion.model import build_model, float32_copy
    from emotion.pipeline import epoch_steps, to_dataset
    from emotion.runtime import configure
    from emotion.schedule import class_weights, fit_stages
    from emotion.schema import validate
    from emotion.tracking import log_config, log_data, log_model, promote, tracked_run

    validate(cfg, "train")
    data = shrink_for_debug(cfg, build(cfg.data, f"data={cfg.data.name}", cache_dir=cfg.paths.cache_dir))
    strategy, threads = configure(cfg.runtime)
    replicas = strategy.num_replicas_in_sync
    cfg.schedule.steps_per_epoch = epoch_steps(data.splits["train"], cfg.schedule.batch_size, replicas)
    with strategy.scope():
        model, weights = build_model(cfg.backbone, cfg.head, len(data.classes), cfg.paths.cache_dir)
    with tracked_run(cfg, run_name()) as (run, resumed):
        if not resumed:
            log_config(cfg)
            log_data(data)
        import mlflow

        mlflow.set_tags({**{f"backbone.{k}": v for k, v in weights.items()},
                         **{f"runtime.effective_{k}_threads": v for k, v in threads.items()}})
        size, batch = cfg.backbone.input_size, cfg.schedule.batch_size
        # Repeated: one training iterator serves every epoch instead of one built and deleted per epoch.
        train_ds = to_dataset(data.splits["train"], size, batch, make_augment(cfg.augment), shuffle=True,
                              seed=cfg.runtime.seed, replicas=replicas).repeat()
        val_ds = to_dataset(data.splits["val"], size, batch, replicas=replicas).repeat()
        history = fit_stages(
            model, train_ds, val_ds, cfg.schedule, epoch_steps(data.splits["val"], batch, replicas),
            cfg.callbacks, Path(cfg.paths.checkpoint_dir) / run.info.run_id,
            run.info.run_id, strategy, class_weights(data.splits["train"].targets, cfg.schedule.class_weight),
            jit_compile=cfg.runtime.jit_compile,
            log_epoch=lambda metrics, epoch: mlflow.log_metrics(metrics, step=epoch),
        )
        model = float32_copy(model)
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


main = entry_point("train", train)


if __name__ == "__main__":
    main()
