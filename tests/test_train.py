"""The runner end to end on drawn faces with a throwaway MLflow store."""

import json
import os
import signal
import subprocess
import sys
import time

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from emotion.core.errors import EmotionError
from emotion.data.synthetic import CLASSES
from emotion.tracking.identity import RUN_KEY
from emotion.tracking.registry import CHAMPION
from emotion.train import train

from conftest import SMALL, TINY, isolated, make_cfg, run_cli
from helpers.files import write_skillbox


def runs(workdir, experiment="quickstart"):
    mlflow.set_tracking_uri(f"sqlite:///{workdir}/mlflow.db")
    return mlflow.search_runs(experiment_names=[experiment], output_format="list")


def test_quickstart_model_learns(store):
    """The offline quick start must really learn: chance is 1/9."""
    mlflow.set_tracking_uri(f"sqlite:///{store}/mlflow.db")
    [run] = mlflow.search_runs(experiment_names=["quickstart"], output_format="list")
    assert run.data.metrics["selection_accuracy"] >= 0.5
    assert run.data.metrics["test_accuracy"] >= 0.5


@pytest.mark.slow
def test_run_is_tracked_completely(tiny_cfg, workdir):
    value = train(tiny_cfg("augment.rotation=25", "head=dilated", "backbone.cut_layer=conv3_3/relu",
                           "runtime.threads.intra_op=2"))
    [run] = runs(workdir)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["selection_accuracy"] == pytest.approx(value)
    assert {"selection_macro_f1", "selection_recall.anger", "test_accuracy", "test_accuracy_ci_low",
            "test_accuracy_ci_high", "test_macro_f1", "test_precision.sad", "test_without_uncertain_accuracy",
            "val_accuracy", "learning_rate"} <= set(run.data.metrics)
    m = run.data.metrics
    assert m["test_accuracy_ci_low"] <= m["test_accuracy"] <= m["test_accuracy_ci_high"]
    assert run.data.tags["runtime.effective_intra_op_threads"] == "2"
    assert run.data.params["augment.rotation"] == "25"
    assert run.data.params["head.layers.0.dilation_rate"] == "6"
    assert run.data.params["backbone.cut_layer"] == "conv3_3/relu"
    assert run.data.tags["data.fingerprint"] and run.data.tags["git_commit"]
    client = MlflowClient()
    history = client.get_metric_history(run.info.run_id, "val_accuracy")
    assert sorted(m.step for m in history) == [0, 1]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"selection_confusion_matrix.png", "selection_report.json", "test_report.json", "training_curves.png",
            "dataset.json", "config"} <= artifacts
    resolved = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/config/resolved.yaml")
    assert "rotation: 25" in resolved
    champion = client.get_model_version_by_alias("emotion-synthetic", CHAMPION)
    assert champion.run_id == run.info.run_id
    info = mlflow.models.get_model_info("models:/emotion-synthetic@champion")
    assert info.metadata["classes"][0] == "anger" and info.metadata["input_size"] == 32
    assert not (workdir / "checkpoints" / run.info.run_id).exists()


def test_bad_inputs_are_user_errors(tiny_cfg, workdir):
    with pytest.raises(EmotionError, match="layer 'conv9_1' is not in"):
        train(tiny_cfg("backbone.cut_layer=conv9_1"))
    with pytest.raises(EmotionError, match="file not found"):
        train(tiny_cfg(f"backbone.weights={{filename: w.h5, path: {workdir}/missing.h5}}"))
    assert not runs(workdir), "input errors surface before any run is recorded"


@pytest.mark.parametrize("args,message", [
    (["data=folder", "data.root=/nowhere"], "error: dataset root not found: /nowhere"),
    pytest.param(["backbone.weights.path=/nowhere/w.h5", "experiment=seed", "data=synthetic"], "error: file not found",
                 marks=pytest.mark.slow),
    (["augment.rotatoin=25"], "error: config: Could not override 'augment.rotatoin'"),
])
def test_cli_errors_are_one_line(workdir, args, message):
    result = run_cli("emotion.train", *isolated(workdir), *args, cwd=workdir)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.slow
def test_multirun_sweeps_under_one_parent_run(workdir):
    result = run_cli("emotion.train", "-m", *TINY, *isolated(workdir), "augment.rotation=0,25",
                     "schedule.stages.finetune.epochs=0", cwd=workdir)
    assert result.returncode == 0, result.stderr[-2000:]
    [parent] = [r for r in runs(workdir) if "mlflow.parentRunId" not in r.data.tags]
    found = [r for r in runs(workdir) if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted(r.data.params["augment.rotation"] for r in found) == ["0", "25"]
    names = sorted(r.info.run_name for r in found)
    assert names[0].startswith("augment.rotation=0,") and names[1].startswith("augment.rotation=25,")
    assert "tracking.uri" not in names[0]
    best = max(found, key=lambda r: r.data.metrics["selection_accuracy"])
    assert parent.data.metrics["trials"] == 2 and parent.data.tags["best_run_id"] == best.info.run_id
    assert parent.data.params["best.augment.rotation"] == best.data.params["augment.rotation"]


@pytest.mark.slow
def test_optuna_search_of_two_trials(workdir):
    result = run_cli("emotion.train", "-m", "hparams_search=optuna", *TINY, *isolated(workdir),
                     "hydra.sweeper.n_trials=2", cwd=workdir)
    assert result.returncode == 0, result.stderr[-2000:]
    [parent] = [r for r in runs(workdir) if "mlflow.parentRunId" not in r.data.tags]
    trials = [r for r in runs(workdir) if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(trials) == 2 and parent.data.params["sweeper"] == "OptunaSweeper"
    assert parent.data.params["space.augment.rotation"] == "choice(0, 10, 25)"
    rates = {r.data.params["schedule.stages.finetune.optimizer.learning_rate"] for r in trials}
    assert len(rates) == 2, "Optuna sampled a different learning rate for each trial"
    best = max(trials, key=lambda r: r.data.metrics["selection_accuracy"])
    assert parent.data.metrics["best_selection_accuracy"] == best.data.metrics["selection_accuracy"]
    assert parent.data.params["best.schedule.label_smoothing"] == best.data.params["schedule.label_smoothing"]


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus(workdir):
    """Two replicas (the CPU split into two logical devices): the run's metrics and its model are logged once."""
    result = run_cli("emotion.train", *TINY, *isolated(workdir), "runtime.strategy=mirrored", "runtime.cpu_devices=2",
                     cwd=workdir)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Using MirroredStrategy with devices ('/job:localhost/replica:0/task:0/device:CPU:0', " \
           "'/job:localhost/replica:0/task:0/device:CPU:1')" in result.stdout + result.stderr
    [run] = runs(workdir)
    history = MlflowClient().get_metric_history(run.info.run_id, "val_accuracy")
    assert sorted(m.step for m in history) == [0, 1], "one value per epoch, not one per replica"
    assert [str(v.version) for v in MlflowClient().search_model_versions("name = 'emotion-synthetic'")] == ["1"]


@pytest.mark.slow
def test_killed_run_resumes_from_the_last_epoch(workdir):
    args = [*SMALL, *isolated(workdir), "schedule.stages.head.epochs=1", "schedule.stages.finetune.epochs=12",
            "~callbacks.early_stopping"]
    command = [sys.executable, "-m", "emotion.train", *args]
    first = subprocess.Popen(command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    deadline = time.time() + 240
    epochs_done = 0
    while time.time() < deadline and first.poll() is None and epochs_done < 3:
        states = list((workdir / "checkpoints").glob("*/state.json"))
        if states:
            try:
                epochs_done = len(json.loads(states[0].read_text())["history"].get("loss", []))
            except (ValueError, KeyError):
                pass
        time.sleep(0.05)
    assert epochs_done >= 3, "the first attempt should have finished a few epochs"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    [killed] = runs(workdir)
    assert killed.info.status == "RUNNING"

    second = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "resuming MLflow run" in second.stdout + second.stderr
    [run] = runs(workdir)
    assert run.info.run_id == killed.info.run_id and run.info.status == "FINISHED"
    steps = [m.step for m in MlflowClient().get_metric_history(run.info.run_id, "loss")]
    assert sorted(set(steps)) == list(range(13))
    assert len(steps) <= 13 + 1, "at most the epoch in progress is trained again"
    assert run.data.tags[RUN_KEY]


@pytest.mark.slow
def test_course_layout_trains_and_writes_the_kaggle_submission(workdir):
    root = write_skillbox(workdir / "skillbox")
    (root / "train" / "sad" / "3.jpg").write_bytes(b"truncated")  # an unreadable image is skipped, not fatal
    tiny = [o for o in TINY if not o.startswith("data.")]
    (root / "test_kaggle" / "1.jpg").write_bytes(b"\xff\xd8 corrupt")  # its row stays, with no label
    train(make_cfg([*tiny, "data=skillbox", f"data.root={root}", "data.val_split=0.25", "data.test_split=0.25",
                    *isolated(workdir)]))
    [run] = runs(workdir)
    assert run.data.metrics["data.skipped_images"] == 1
    assert run.data.tags["mlflow.runName"]
    submission = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/submission.csv").splitlines()
    assert submission[0] == "image_path,emotion"
    assert [line.split(",")[0] for line in submission[1:]] == ["test_kaggle/0.jpg", "test_kaggle/1.jpg",
                                                               "test_kaggle/2.jpg"]
    labels = [line.split(",")[1] for line in submission[1:]]
    assert labels[0] in CLASSES and labels[1] == "" and labels[2] in CLASSES
    assert run.data.metrics["submission_unreadable"] == 1
    assert mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/submission_unreadable.json") == {
        "unreadable": ["test_kaggle/1.jpg"]}
    assert MlflowClient().get_model_version_by_alias("emotion-skillbox", CHAMPION)


def test_an_override_holding_an_interpolation_names_the_run_unresolved():
    """`${steps:1}` resolves only once the runner knows the data; naming the run must not resolve it."""
    from hydra import compose, initialize_config_module
    from hydra.core.hydra_config import HydraConfig

    from emotion.tracking.identity import run_name
    from emotion.tracking.sweep import OVERRIDES_TAG, trial_tags

    warmup = "schedule.stages.scratch.optimizer.learning_rate.warmup_steps=${steps:1}"
    with initialize_config_module("emotion.conf", version_base="1.3"):
        cfg = compose("train", overrides=["schedule=scratch", warmup], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    try:
        assert run_name() == f"{warmup},schedule=scratch"
        assert trial_tags()[OVERRIDES_TAG] == f"schedule=scratch\n{warmup}"
    finally:
        HydraConfig.instance().cfg = None
