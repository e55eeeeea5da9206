"""`python -m emotion.train [overrides]`: compose the config, train stage by stage, track in MLflow.

The selection split (`val`) chooses the epoch kept and the champion; the test
split, when the data has one, is evaluated once at the end and only reported.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from omegaconf import DictConfig

from emotion.core.cli import entry_point
from emotion.core.outputs import ensure_folder


def train(cfg: DictConfig) -> float:
    """Train the configured model; returns `tracking.metric` on the selection split (what a sweeper maximises)."""
    # Imported here: the command line's config is checked before TensorFlow and MLflow load.
    import mlflow

    from emotion.core.config import build, with_values
    from emotion.evaluation.plots import plot_history
    from emotion.evaluation.prior_shift import select_prior_shift
    from emotion.evaluation.reports import SELECTION, TEST, assess_splits
    from emotion.evaluation.submission import write_submission
    from emotion.inference.classifiers import evaluator
    from emotion.model.assemble import build_model, float32_copy
    from emotion.model.prior import with_prior_shift
    from emotion.tracking.identity import run_name
    from emotion.tracking.registry import log_model, promote
    from emotion.tracking.runs import log_config, log_data, tracked_run
    from emotion.training.debug import shrunk_data, shrunk_stages
    from emotion.training.fit import fit, steps_per_epoch
    from emotion.training.runtime import apply_runtime

    data = build(cfg.data, f"data={cfg.data.name}")
    if cfg.get("debug"):
        data = shrunk_data(data, cfg.debug, cfg.schedule.batch_size)
        cfg = with_values(cfg, {"schedule": {"stages": shrunk_stages(cfg.schedule.stages, cfg.debug)}})
    strategy, effective = apply_runtime(cfg.runtime)
    steps = steps_per_epoch(data, cfg.schedule.batch_size, strategy.num_replicas_in_sync)
    cfg = with_values(cfg, {"schedule": {"steps_per_epoch": steps}})
    with strategy.scope():
        model, weights = build_model(cfg.backbone, cfg.head, len(data.classes), cfg.paths.cache_dir)
    size = cfg.backbone.input_size
    checkpoints = ensure_folder(cfg.paths.checkpoint_dir)  # a storage fault here leaves no MLflow run behind
    with tracked_run(cfg, run_name()) as (run, resumed):
        if not resumed:
            log_config(cfg)
            log_data(data)
        mlflow.set_tags({**{f"backbone.{k}": v for k, v in weights.items()},
                         **{f"runtime.effective_{k}": v for k, v in effective.items()}})
        history = fit(model, data, size, cfg.schedule, cfg.augment, cfg.runtime, cfg.callbacks,
                      checkpoints / run.info.run_id, run.info.run_id, strategy, cfg.backbone.freeze_bn)
        model = float32_copy(model)
        classify = evaluator(model, cfg.eval.tta_flip)
        tau, weights = select_prior_shift(classify, data, size, cfg.eval)
        if tau:
            model = with_prior_shift(model, weights)
            classify = evaluator(model, cfg.eval.tta_flip)
        reports = assess_splits(classify, data, size, cfg.eval)
        if history:
            with tempfile.TemporaryDirectory() as tmp:
                mlflow.log_artifact(str(plot_history(history, Path(tmp) / "training_curves.png")))
        if data.unlabeled is not None and len(data.unlabeled):
            write_submission(classify, data, size, cfg.eval.batch_size)
        value = reports[SELECTION][cfg.tracking.metric.removeprefix(f"{SELECTION}_")]
        version = log_model(model, data.classes, cfg.tracking.model_name, size, cfg.backbone.preprocessing,
                            cfg.data.name)
        champion, reason = promote(cfg.tracking.model_name, version, cfg.tracking.metric, value, cfg.tracking.mode,
                                   data.fingerprint, cfg.tracking.promote)
    shutil.rmtree(checkpoints / run.info.run_id, ignore_errors=True)
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
