"""Training runs in MLflow: started, or safely continued after a kill; their config, data and params logged."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path

import mlflow
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from emotion.core.config import flatten
from emotion.tracking.identity import CODE_KEY, RUN_KEY, code_version, git_commit, identity, run_key
from emotion.tracking.lock import RunLock
from emotion.tracking.store import connect
from emotion.tracking.sweep import trial_tags

log = logging.getLogger(__name__)


def resumable_run(experiment_id: str, key: str, version: str,
                  checkpoint_dir: Path) -> tuple[str | None, RunLock | None]:
    """The newest unfinished run of this config that this process may continue, locked; else (None, None).

    A run is continued only when it was written by the same code, no live
    process holds it, and its resume state is here; each refusal says why.
    """
    runs = mlflow.search_runs(
        experiment_ids=[experiment_id],
        filter_string=f"tags.`{RUN_KEY}` = '{key}' and attributes.status != 'FINISHED'",
        order_by=["attributes.start_time DESC"], max_results=20, output_format="list",
    )
    for run in runs:
        run_id = run.info.run_id
        if run.data.tags.get(CODE_KEY) != version:
            log.info("not resuming run %s: it was started by other code (version %s, now %s)", run_id,
                     run.data.tags.get(CODE_KEY, "unknown"), version)
            continue
        if not (checkpoint_dir / run_id / "state.json").is_file():
            log.info("not resuming run %s: its resume state is not in %s", run_id, checkpoint_dir)
            continue
        lock = RunLock(checkpoint_dir / run_id)
        if not lock.acquire():
            log.info("not resuming run %s: a live process is training it", run_id)
            continue
        return run_id, lock
    return None, None


@contextmanager
def tracked_run(cfg: DictConfig, run_name: str | None = None):
    """Start a run for `cfg`, or safely continue an unfinished one with the same config and code.

    A new run of a sweep's trial becomes a child of the sweep's parent run
    (`emotion.sweep`). Yields (run, resumed); the run's checkpoint folder stays
    locked to this process until the end.
    """
    experiment_id = connect(cfg.tracking)
    key, version = run_key(cfg), code_version()
    checkpoints = Path(cfg.paths.checkpoint_dir)
    previous, lock = resumable_run(experiment_id, key, version, checkpoints)
    try:
        with mlflow.start_run(run_id=previous, run_name=None if previous else run_name) as run:
            if previous:
                log.info("resuming MLflow run %s (same config and code, not finished)", previous)
            else:
                lock = RunLock(checkpoints / run.info.run_id)
                lock.acquire()
                mlflow.set_tags({RUN_KEY: key, CODE_KEY: version, "git_commit": git_commit() or "unknown",
                                 **trial_tags()})
                log_params(identity(cfg))
            yield run, bool(previous)
    finally:
        if lock:
            lock.release()


def log_data(data) -> None:
    """The data's fingerprint, classes, split sizes and unreadable files, on the active run."""
    mlflow.set_tags({"data.fingerprint": data.fingerprint, "data.classes": ",".join(data.classes)})
    mlflow.log_metrics({"data.skipped_images": len(data.skipped),
                        **{f"data.{name}_images": len(split) for name, split in data.splits.items()}})
    mlflow.log_dict({"fingerprint": data.fingerprint, "counts": data.counts(), "skipped": data.skipped},
                    "dataset.json")


def log_config(cfg: DictConfig) -> None:
    """The resolved config and Hydra's own record of the job (overrides, hydra.yaml), on the active run."""
    mlflow.log_text(OmegaConf.to_yaml(cfg, resolve=True), "config/resolved.yaml")
    if HydraConfig.initialized():
        hydra_dir = Path(HydraConfig.get().runtime.output_dir) / HydraConfig.get().output_subdir
        if hydra_dir.is_dir():
            mlflow.log_artifacts(str(hydra_dir), "config/hydra")


def log_params(config: dict) -> None:
    params = {k: "" if v is None else str(v)[:6000] for k, v in flatten(config).items()}
    items = sorted(params.items())
    for start in range(0, len(items), 100):
        mlflow.log_params(dict(items[start:start + 100]))


def log_job(tracking: DictConfig, run_name: str | None, config: DictConfig, metrics: dict[str, float],
            artifacts: Path | None = None) -> str:
    """A finished run of a job that trains nothing (moments, evaluation): its config as params (where things go
    left out), its metrics and the files in `artifacts`; returns the run id."""
    connect(tracking)
    with mlflow.start_run(run_name=run_name) as run:
        log_params(identity(config))
        mlflow.log_metrics(metrics)
        if artifacts is not None:
            mlflow.log_artifacts(str(artifacts))
    return run.info.run_id
