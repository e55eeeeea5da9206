"""Champions within a dataset, `model=best` across datasets, and which unfinished runs may be resumed."""

import logging

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from emotion.inference.packaged import packaged_metadata
from emotion.tracking.identity import CODE_KEY, RUN_KEY, code_version
from emotion.tracking.lock import RunLock
from emotion.tracking.lookup import best_model_uri
from emotion.tracking.registry import CHAMPION, FINGERPRINT, promote
from emotion.tracking.runs import resumable_run


@pytest.fixture
def client(tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    mlflow.set_experiment("t")
    return MlflowClient()


def version(client, name, fingerprint, metric, data_name="ferplus"):
    """A registered version whose run holds a fingerprint, a selection metric and the data name."""
    with mlflow.start_run() as run:
        mlflow.set_tag(FINGERPRINT, fingerprint)
        mlflow.log_param("data.name", data_name)
        mlflow.log_metric("selection_accuracy", metric)
    try:
        client.create_registered_model(name)
    except mlflow.exceptions.MlflowException:
        pass
    return client.create_model_version(name, source="models/x", run_id=run.info.run_id).version


def champion(client, name):
    return client.get_model_version_by_alias(name, CHAMPION).version


def test_promotion_compares_only_the_same_data(client):
    first = version(client, "emotion-ferplus", "aaa", 0.80)
    assert promote("emotion-ferplus", first, "selection_accuracy", 0.80, "max", "aaa") == (True, "no champion yet")
    worse = version(client, "emotion-ferplus", "aaa", 0.70)
    promoted, reason = promote("emotion-ferplus", worse, "selection_accuracy", 0.70, "max", "aaa")
    assert not promoted and "does not beat" in reason and champion(client, "emotion-ferplus") == first
    # Better by the number, but on other data: not comparable, not promoted.
    other = version(client, "emotion-ferplus", "bbb", 0.95)
    promoted, reason = promote("emotion-ferplus", other, "selection_accuracy", 0.95, "max", "bbb")
    assert not promoted and "other data" in reason and "tracking.promote=always" in reason
    assert champion(client, "emotion-ferplus") == first
    better = version(client, "emotion-ferplus", "aaa", 0.85)
    assert promote("emotion-ferplus", better, "selection_accuracy", 0.85, "max", "aaa")[0]
    assert promote("emotion-ferplus", other, "selection_accuracy", 0.95, "max", "bbb", policy="always")[0]
    assert champion(client, "emotion-ferplus") == other


def test_best_never_compares_datasets(client, tmp_path, caplog, monkeypatch):
    cfg = OmegaConf.create({"uri": f"sqlite:///{tmp_path}/mlflow.db", "model_name": None, "metric":
                            "selection_accuracy", "mode": "max"})
    smoke = version(client, "emotion-synthetic", "s", 0.99, data_name="synthetic")
    promote("emotion-synthetic", smoke, "selection_accuracy", 0.99, "max", "s")
    # Smoke models only: the model this install carries runs instead; an install without one runs the smoke model.
    assert best_model_uri(cfg) == ("packaged" if packaged_metadata() else "models:/emotion-synthetic@champion")
    with monkeypatch.context() as without_packaged:
        without_packaged.setattr("emotion.tracking.lookup.packaged_metadata", lambda: None)
        assert best_model_uri(cfg) == "models:/emotion-synthetic@champion"
    fer = version(client, "emotion-ferplus", "f", 0.85)
    promote("emotion-ferplus", fer, "selection_accuracy", 0.85, "max", "f")
    course = version(client, "emotion-skillbox", "k", 0.55, data_name="skillbox")
    promote("emotion-skillbox", course, "selection_accuracy", 0.55, "max", "k")
    with caplog.at_level(logging.INFO, logger="emotion.tracking"):
        # The course model is the newest real-data champion; its lower number is not compared with FER+'s.
        assert best_model_uri(cfg) == "models:/emotion-skillbox@champion"
    assert "not compared with emotion-ferplus, emotion-synthetic (other data)" in caplog.text
    assert best_model_uri(OmegaConf.merge(cfg, {"model_name": "emotion-ferplus"})) == \
        "models:/emotion-ferplus@champion"


def unfinished(key, code, tmp_path):
    with mlflow.start_run() as run:
        mlflow.set_tags({RUN_KEY: key, CODE_KEY: code})
    MlflowClient().set_terminated(run.info.run_id, "FAILED")
    (tmp_path / "checkpoints" / run.info.run_id).mkdir(parents=True)
    (tmp_path / "checkpoints" / run.info.run_id / "state.json").write_text("{}")
    return run.info.run_id


def test_resume_only_same_code_and_no_live_owner(client, tmp_path, caplog):
    experiment = mlflow.get_experiment_by_name("t").experiment_id
    checkpoints = tmp_path / "checkpoints"
    caplog.set_level(logging.INFO, logger="emotion.tracking")
    old_code = unfinished("k1", "0ld", tmp_path)
    assert resumable_run(experiment, "k1", code_version(), checkpoints) == (None, None)
    assert f"not resuming run {old_code}: it was started by other code" in caplog.text

    mine = unfinished("k1", code_version(), tmp_path)
    owner = RunLock(checkpoints / mine)
    assert owner.acquire()  # another trainer holds it (a lock is per open file, even in one process)
    assert resumable_run(experiment, "k1", code_version(), checkpoints) == (None, None)
    assert f"not resuming run {mine}: a live process is training it" in caplog.text

    owner.release()  # the trainer died: the operating system dropped its lock
    run_id, lock = resumable_run(experiment, "k1", code_version(), checkpoints)
    assert run_id == mine
    assert not RunLock(checkpoints / mine).acquire(), "the resumed run is now locked by this process"
    lock.release()
    (checkpoints / mine / "state.json").unlink()
    assert resumable_run(experiment, "k1", code_version(), checkpoints) == (None, None)
    assert "its resume state is not in" in caplog.text
