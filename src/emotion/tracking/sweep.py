"""One MLflow parent run per multirun (a grid or an Optuna search), with every trial as its child run.

`ParentRun` is a Hydra callback: it runs in the process that sweeps, whatever
the sweeper or launcher. At the start it opens the parent run, tagged with the
sweep's output folder. Each trial, wherever a launcher runs it (this process,
joblib workers, a Ray cluster), finds that parent in the tracking store by the
same folder, which Hydra hands every job resolved, and becomes its child. At
the end the callback logs the best child's overrides and value on the parent,
by `tracking.metric` and `tracking.mode`.
"""

from __future__ import annotations

import logging

import mlflow
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig, OmegaConf

from emotion.tracking.store import connect

log = logging.getLogger(__name__)

PARENT_TAG = "mlflow.parentRunId"
SWEEP_TAG = "emotion.sweep"
OVERRIDES_TAG = "emotion.overrides"


def trial_tags() -> dict[str, str]:
    """For a job of a multirun: its sweep, its parent run and its overrides, as run tags; else nothing."""
    if not HydraConfig.initialized():
        return {}
    hydra = HydraConfig.get()
    # Unresolved: an override may hold an interpolation of the training config (`${steps:1}`).
    tags = {OVERRIDES_TAG: "\n".join(OmegaConf.to_container(hydra.overrides.task, resolve=False))}
    if hydra.mode != RunMode.MULTIRUN:
        return tags
    sweep = str(hydra.sweep.dir)
    parents = mlflow.search_runs(search_all_experiments=True, filter_string=f"tags.`{SWEEP_TAG}` = '{sweep}' and "
                                 "tags.`emotion.sweeper` != ''", output_format="list", max_results=1)
    return {**tags, SWEEP_TAG: sweep, **({PARENT_TAG: parents[0].info.run_id} if parents else {})}


class ParentRun(Callback):
    def __init__(self):
        self.parent: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        experiment_id = connect(config.tracking)
        sweeper = config.hydra.sweeper.get("_target_", "basic").rsplit(".", 1)[-1]
        sweep = str(config.hydra.sweep.dir)
        client = MlflowClient()
        run = client.create_run(experiment_id, run_name=f"sweep {sweep}",
                                tags={SWEEP_TAG: sweep, "emotion.sweeper": sweeper})
        self.parent = run.info.run_id
        client.log_param(self.parent, "sweeper", sweeper)
        for key in ("n_trials", "direction"):
            if key in config.hydra.sweeper:
                client.log_param(self.parent, key, config.hydra.sweeper[key])
        for name, space in (config.hydra.sweeper.get("params") or {}).items():
            client.log_param(self.parent, f"space.{name}", space)
        log.info("sweep parent run %s", self.parent)

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        if not self.parent:
            return
        client = MlflowClient()
        metric, mode = config.tracking.metric, config.tracking.mode
        children = mlflow.search_runs(experiment_ids=[client.get_run(self.parent).info.experiment_id],
                                      filter_string=f"tags.`{PARENT_TAG}` = '{self.parent}'", output_format="list")
        scored = [c for c in children if metric in c.data.metrics]
        client.log_metric(self.parent, "trials", len(children))
        if scored:
            best = (max if mode == "max" else min)(scored, key=lambda c: c.data.metrics[metric])
            client.log_metric(self.parent, f"best_{metric}", best.data.metrics[metric])
            client.set_tag(self.parent, "best_run_id", best.info.run_id)
            for override in filter(None, best.data.tags.get(OVERRIDES_TAG, "").split("\n")):
                key, _, value = override.partition("=")
                client.log_param(self.parent, f"best.{key.lstrip('+~')}", value)
            log.info("sweep: best trial %s, %s %.4f", best.info.run_id, metric, best.data.metrics[metric])
        client.set_terminated(self.parent, "FINISHED" if scored else "FAILED")
