"""The MLflow store a process tracks to (`tracking.uri`, `tracking.experiment`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from omegaconf import DictConfig
from sqlalchemy.exc import SQLAlchemyError

from emotion.core.errors import EmotionError
from emotion.core.outputs import StorageError


def store_file(uri: str) -> Path | None:
    """The database file of a `sqlite:///` store; None for any other kind."""
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


@contextmanager
def store_faults(uri: str) -> Iterator[None]:
    """A damaged, locked or read-only store becomes one line naming it and what to do."""
    try:
        yield
    except SQLAlchemyError as e:
        reason = str(getattr(e, "orig", None) or e).splitlines()[0]
        if "locked" in reason:
            raise EmotionError(f"MLflow store {uri} is locked by another process ({reason}): let it finish, "
                               "or track to another store with tracking.uri=sqlite:///<other>.db") from None
        if "readonly" in reason or "read-only" in reason:
            raise StorageError(store_file(uri) or uri, reason) from None
        raise EmotionError(f"MLflow store {uri} is damaged ({reason}): move it aside (keep it for recovery) "
                           "and run again, or set tracking.uri=<another store>") from None


def connect(cfg: DictConfig) -> str:
    """Point MLflow at the configured store and experiment; returns the experiment id."""
    mlflow.set_tracking_uri(cfg.uri)
    try:
        with store_faults(cfg.uri):
            return mlflow.set_experiment(cfg.experiment).experiment_id
    except MlflowException as e:
        raise EmotionError(f"MLflow store {cfg.uri}: {e.message.splitlines()[0]}") from None
