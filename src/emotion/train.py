"""`python -m emotion.train [overrides]`: compose the config, train stage by stage, track in MLflow."""

from __future__ import annotations

import csv
import json
import logging
import shutil
import tempfile
from pathlib import Path

import hydra
import mlflow
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from emotion.augment import make_augment
from emotion.config import CONFIG_DIR, build
from emotion.data import Data
from emotion.errors import exits_cleanly
from emotion.evaluate import evaluate_split, log_report, predict
from emotion.metrics import plot_history, report_text
from emotion.model import build_model
from emotion.pipeline import to_dataset
from emotion.schedule import class_weights, configure_runtime, fit_stages
from emotion.tracking import log_model, promote_if_better, tracked_run

log = logging.getLogger("emotion.train")


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


def write_submission(model, data: Data, cfg: DictConfig) -> None:
    """The Kaggle file (`image_path,emotion`) for the unlabeled test images."""
    probabilities = predict(model, data.unlabeled, cfg.backbone.input_size, cfg.eval.batch_size,
                            cfg.eval.tta_flip)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "submission.csv"
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["image_path", "emotion"])
            for image_id, p in zip(data.unlabeled.ids, probabilities):
                writer.writerow([image_id, data.classes[int(p.argmax())]])
        mlflow.log_artifact(str(path))


def train(cfg: DictConfig) -> float:
    strategy = configure_runtime(cfg.schedule)
    data = build(cfg.data, f"data={cfg.data.name}", cache_dir=cfg.paths.cache_dir, seed=cfg.schedule.seed)
    with strategy.scope():
        model, weights = build_model(cfg.backbone, cfg.head, len(data.classes), cfg.paths.cache_dir)
    with tracked_run(cfg, run_name()) as (run, resumed):
        if not resumed:
            log_config(cfg)
            log_data(data)
        mlflow.set_tags({f"backbone.{k}": v for k, v in weights.items()})
        size, batch = cfg.backbone.input_size, cfg.schedule.batch_size
        train_ds = to_dataset(data.splits["train"], size, batch, make_augment(cfg.augment), shuffle=True,
                              seed=cfg.schedule.seed)
        val_ds = to_dataset(data.splits["val"], size, batch)
        history = fit_stages(
            model, train_ds, val_ds, cfg.schedule, len(data.classes),
            Path(cfg.paths.checkpoint_dir) / run.info.run_id, run.info.run_id, strategy,
            class_weights(data.splits["train"].targets, cfg.schedule.class_weight),
            log_epoch=lambda metrics, epoch: mlflow.log_metrics(metrics, step=epoch),
        )
        rep = evaluate_split(model, data.splits["val"], data.classes, size, cfg.eval.batch_size,
                             cfg.eval.tta_flip)
        log.info("validation:\n%s", report_text(rep))
        metrics = log_report(rep, "eval")
        if history:
            with tempfile.TemporaryDirectory() as tmp:
                mlflow.log_artifact(str(plot_history(history, Path(tmp) / "training_curves.png")))
        if data.unlabeled is not None and len(data.unlabeled):
            write_submission(model, data, cfg)
        value = metrics[cfg.tracking.metric]
        version = log_model(model, data.classes, cfg)
        promote_if_better(cfg.tracking.model_name, version, cfg.tracking.metric, value, cfg.tracking.mode)
    shutil.rmtree(Path(cfg.paths.checkpoint_dir) / run.info.run_id, ignore_errors=True)
    print(json.dumps({"run_id": run.info.run_id, "model": cfg.tracking.model_name, "version": version,
                      cfg.tracking.metric: round(value, 4)}))
    return value


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")
@exits_cleanly
def main(cfg: DictConfig) -> float:
    return train(cfg)


if __name__ == "__main__":
    main()
