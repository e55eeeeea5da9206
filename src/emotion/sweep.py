"""One MLflow parent run per multirun (a grid or an Optuna search), with every trial as its child run.

A Hydra callback: it runs in the process that sweeps, whatever the sweeper or
launcher. At the start it opens the parent run and hands its id to the trials
through the environment (launchers start their workers after this, so they
inherit it); `emotion.tracking.tracked_run` tags each trial's run with it. At the
end it finds the children, and logs the best one's overrides and value on the
parent, by `tracking.metric` and `tracking.mode`.
"""

from __future__ import annotations

import logging
import os

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)

PARENT_ENV = "EMOTION_SWEEP_PARENT_RUN_ID"
PARENT_TAG = "mlflow.parentRunId"
OVERRIDES_TAG = "emotion.overrides"


class ParentRun(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        from emotion.tracking import configure

        experiment_id = configure(config.tracking)
        from mlflow.tracking import MlflowClient

        sweeper = config.hydra.sweeper.get("_target_", "basic").rsplit(".", 1)[-1]
        run = MlflowClient().create_run(experiment_id, run_name=f"sweep {config.hydra.sweep.dir}",
                                        tags={"emotion.sweeper": sweeper})
        client = MlflowClient()
        client.log_param(run.info.run_id, "sweeper", sweeper)
        for key in ("n_trials", "direction"):
            if key in config.hydra.sweeper:
                client.log_param(run.info.run_id, key, config.hydra.sweeper[key])
        if config.hydra.sweeper.get("params"):
            for name, space in config.hydra.sweeper.params.items():
                client.log_param(run.info.run_id, f"space.{name}", space)
        os.environ[PARENT_ENV] = run.info.run_id
        log.info("sweep parent run %s", run.info.run_id)

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        import mlflow
        from mlflow.tracking import MlflowClient

        parent = os.environ.pop(PARENT_ENV, None)
        if not parent:
            return
        client = MlflowClient()
        metric, mode = config.tracking.metric, config.tracking.mode
        children = mlflow.search_runs(experiment_ids=[client.get_run(parent).info.experiment_id],
                                      filter_string=f"tags.`{PARENT_TAG}` = '{parent}'", output_format="list")
        scored = [c for c in children if metric in c.data.metrics]
        client.log_metric(parent, "trials", len(children))
        if scored:
            best = (max if mode == "max" else min)(scored, key=lambda c: c.data.metrics[metric])
            client.log_metric(parent, f"best_{metric}", best.data.metrics[metric])
            client.set_tag(parent, "best_run_id", best.info.run_id)
            for override in filter(None, best.data.tags.get(OVERRIDES_TAG, "").split("\n")):
                key, _, value = override.partition("=")
                client.log_param(parent, f"best.{key.lstrip('+~')}", value)
            log.info("sweep: best trial %s, %s %.4f", best.info.run_id, metric, best.data.metrics[metric])
        client.set_terminated(parent, "FINISHED" if scored else "FAILED")
