"""One training run's fitting: the tf.data splits, class weights and the staged schedule, every epoch logged."""

from __future__ import annotations

from pathlib import Path

import mlflow
from omegaconf import DictConfig

from emotion.data.augment import make_augment
from emotion.data.base import Data
from emotion.data.pipeline import epoch_steps, to_dataset
from emotion.training.cache import cached_training
from emotion.training.schedule import class_weights, fit_stages


def steps_per_epoch(data: Data, batch_size: int, replicas: int) -> int:
    """What `${steps:N}` in a schedule counts with: batches in one pass over the training split."""
    return epoch_steps(data.splits["train"], batch_size, replicas)


def fit(model, data: Data, input_size: int, schedule: DictConfig, augment: DictConfig, runtime: DictConfig,
        callbacks: DictConfig | None, checkpoint_dir: Path, run_id: str, strategy, freeze_bn: bool) -> dict:
    """Train `model` in place on the training split, choosing on the selection split; returns the history.

    With `schedule.cache_views` the stages fit the part of the model after its frozen prefix, from the
    prefix's outputs computed once (`emotion.training.cache`).
    """
    replicas, batch = strategy.num_replicas_in_sync, schedule.batch_size
    if schedule.cache_views:
        trainer, train, val = cached_training(model, data, input_size, schedule, augment, runtime.seed)
    else:
        # Repeated: one training iterator serves every epoch instead of one built and deleted per epoch.
        trainer = model
        train = to_dataset(data.splits["train"], input_size, batch, make_augment(augment), shuffle=True,
                           seed=runtime.seed, replicas=replicas).repeat()
        val = to_dataset(data.splits["val"], input_size, batch, replicas=replicas).repeat()
    return fit_stages(model, train, val, schedule, epoch_steps(data.splits["val"], batch, replicas), callbacks,
                      checkpoint_dir, run_id, strategy, class_weights(data.splits["train"].targets,
                                                                      schedule.class_weight),
                      jit_compile=runtime.jit_compile,
                      log_epoch=lambda metrics, epoch: mlflow.log_metrics(metrics, step=epoch), trainer=trainer,
                      freeze_bn=freeze_bn)
