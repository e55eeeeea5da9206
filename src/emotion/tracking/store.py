"""The MLflow store a process tracks to (`tracking.uri`, `tracking.experiment`)."""

from __future__ import annotations

import mlflow
from mlflow.exceptions import MlflowException
from omegaconf import DictConfig

from emotion.core.errors import EmotionError


def connect(cfg: DictConfig) -> str:
    """Point MLflow at the configured store and experiment; returns the experiment id."""
    mlflow.set_tracking_uri(cfg.uri)
    try:
        return mlflow.set_experiment(cfg.experiment).experiment_id
    except MlflowException as e:
        raise EmotionError(f"MLflow store {cfg.uri}: {e.message.splitlines()[0]}") from None
