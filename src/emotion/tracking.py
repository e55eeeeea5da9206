"""MLflow: runs that resume, params with dotted names, models registered with a champion alias."""

from __future__ import annotations

import hashlib
import logging
import subprocess
from contextlib import contextmanager
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig, OmegaConf

from emotion.config import flatten
from emotion.errors import EmotionError

log = logging.getLogger(__name__)

RUN_KEY = "emotion.run_key"
CHAMPION = "champion"
# Config parts that say where things go, not what is trained: they do not
# change a run's identity.
NOT_IDENTITY = ("paths", "tracking")


def configure(cfg: DictConfig) -> str:
    """Point MLflow at the configured store and experiment; returns the experiment id."""
    mlflow.set_tracking_uri(cfg.uri)
    try:
        return mlflow.set_experiment(cfg.experiment).experiment_id
    except MlflowException as e:
        raise EmotionError(f"MLflow store {cfg.uri}: {e.message.splitlines()[0]}") from None


def identity(cfg: DictConfig) -> dict:
    resolved = OmegaConf.to_container(cfg, resolve=True)
    return {k: v for k, v in resolved.items() if k not in NOT_IDENTITY}


def run_key(cfg: DictConfig) -> str:
    """Same training config -> same key: how a re-run finds the run it continues."""
    text = OmegaConf.to_yaml(OmegaConf.create(identity(cfg)), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                             cwd=Path(__file__).parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def unfinished_run(experiment_id: str, key: str) -> str | None:
    """The newest run of this config that did not finish (killed, crashed, still marked running)."""
    runs = mlflow.search_runs(
        experiment_ids=[experiment_id],
        filter_string=f"tags.`{RUN_KEY}` = '{key}' and attributes.status != 'FINISHED'",
        order_by=["attributes.start_time DESC"], max_results=1, output_format="list",
    )
    return runs[0].info.run_id if runs else None


@contextmanager
def tracked_run(cfg: DictConfig, run_name: str | None = None):
    """Start a run for `cfg`, or continue the unfinished one with the same config.

    Yields (run, resumed).
    """
    experiment_id = configure(cfg.tracking)
    key = run_key(cfg)
    previous = unfinished_run(experiment_id, key)
    with mlflow.start_run(run_id=previous, run_name=None if previous else run_name) as run:
        if previous:
            log.info("resuming MLflow run %s (same config, not finished)", previous)
        else:
            mlflow.set_tags({RUN_KEY: key, "git_commit": git_commit() or "unknown"})
            log_params(identity(cfg))
        yield run, bool(previous)


def log_params(config: dict) -> None:
    params = {k: "" if v is None else str(v)[:6000] for k, v in flatten(config).items()}
    items = sorted(params.items())
    for start in range(0, len(items), 100):
        mlflow.log_params(dict(items[start:start + 100]))


def champion_value(client: MlflowClient, model_name: str, metric: str) -> float | None:
    try:
        version = client.get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException:
        return None
    return client.get_run(version.run_id).data.metrics.get(metric)


def promote_if_better(model_name: str, version: str, metric: str, value: float, mode: str) -> bool:
    """Give `version` the champion alias when it beats the current champion on `metric`."""
    client = MlflowClient()
    current = champion_value(client, model_name, metric)
    better = current is None or (value > current if mode == "max" else value < current)
    if better:
        client.set_registered_model_alias(model_name, CHAMPION, version)
        log.info("%s version %s is the new %s (%s %.4f, was %s)", model_name, version, CHAMPION,
                 metric, value, "none" if current is None else f"{current:.4f}")
    else:
        log.info("%s version %s (%s %.4f) does not beat the %s (%.4f)", model_name, version, metric,
                 value, CHAMPION, current)
    return better


def log_model(model, classes: list[str], cfg: DictConfig) -> str:
    """Log the Keras model with what inference needs, register it; returns the version."""
    import keras
    import mlflow.keras
    import numpy as np
    import tensorflow as tf
    from mlflow.models import infer_signature

    size = int(cfg.backbone.input_size)
    signature = infer_signature(np.zeros((1, size, size, 3), np.float32), np.zeros((1, len(classes)), np.float32))
    info = mlflow.keras.log_model(
        model,
        name="model",
        registered_model_name=cfg.tracking.model_name,
        signature=signature,
        pip_requirements=[f"tensorflow=={tf.__version__}", f"keras=={keras.__version__}"],
        metadata={"classes": list(classes), "input_size": size, "input": "RGB pixels 0-255",
                  "preprocessing": cfg.backbone.preprocessing, "data": cfg.data.name},
    )
    return str(info.registered_model_version)


SMOKE_DATA = "synthetic"


def _versions(client: MlflowClient, name: str | None):
    query = f"name = '{name}'" if name else ""
    try:
        return list(client.search_model_versions(query))
    except MlflowException:
        return []


def best_model_uri(cfg: DictConfig) -> str:
    """`models:/NAME@champion`, or the best version by the tracking metric when no alias exists.

    Without `cfg.model_name` every registered model competes; models trained on
    the synthetic smoke data are chosen only when nothing else exists.
    """
    mlflow.set_tracking_uri(cfg.uri)
    client = MlflowClient()
    versions = _versions(client, cfg.get("model_name"))
    if not versions:
        where = f"model {cfg.model_name!r}" if cfg.get("model_name") else "model"
        raise EmotionError(f"no trained {where} in {cfg.uri}: run `python -m emotion.train` first "
                           "(or pass model=<MLflow model URI or directory>)")
    champions = []
    for name in sorted({v.name for v in versions}):
        try:
            champions.append(client.get_model_version_by_alias(name, CHAMPION))
        except MlflowException:
            continue
    sign = 1 if cfg.mode == "max" else -1

    def rank(version):
        run = client.get_run(version.run_id).data
        value = run.metrics.get(cfg.metric)
        return (run.params.get("data.name") != SMOKE_DATA, value is not None, sign * (value or 0.0),
                int(version.version))

    if champions:
        best = max(champions, key=rank)
        return f"models:/{best.name}@{CHAMPION}"
    best = max(versions, key=rank)
    return f"models:/{best.name}/{best.version}"


def resolve_model_uri(spec: str, cfg: DictConfig) -> str:
    """`best`, an MLflow URI (`models:/...`, `runs:/...`), or a local MLflow model directory."""
    mlflow.set_tracking_uri(cfg.uri)
    if spec == "best":
        return best_model_uri(cfg)
    if ":/" in spec:
        return spec
    path = Path(spec).expanduser()
    if path.is_file() and path.parent.name == "data" and (path.parent.parent / "MLmodel").is_file():
        path = path.parent.parent
    if not (path / "MLmodel").is_file():
        raise EmotionError(f"model {spec!r} is neither `best`, an MLflow URI, nor an MLflow model directory")
    return str(path)


def model_metadata(uri: str) -> dict:
    """What training logged with the model: class names and input size are required.

    Only the MLmodel file is read, not the model's weights.
    """
    from mlflow.models import Model

    try:
        metadata = Model.load(uri).metadata or {}
    except (MlflowException, OSError) as e:
        raise EmotionError(f"cannot read model {uri}: {str(e).strip().splitlines()[0]}") from None
    missing = [k for k in ("classes", "input_size") if not metadata.get(k)]
    if missing:
        raise EmotionError(f"model {uri} has no {' or '.join(missing)} in its MLflow metadata")
    return metadata


def load_keras_model(uri: str):
    """The Keras model behind `uri` (the preprocessing layer comes with it)."""
    import mlflow.keras

    import emotion.preprocess  # noqa: F401 - registers the Preprocess layer for deserialisation

    try:
        return mlflow.keras.load_model(uri)
    except (MlflowException, OSError, ValueError) as e:
        raise EmotionError(f"cannot load model {uri}: {str(e).strip().splitlines()[0]}") from None


def run_id_of(uri: str) -> str | None:
    """The training run behind a model URI (None for a local directory)."""
    client = MlflowClient()
    try:
        if uri.startswith("runs:/"):
            return uri.split("/")[1]
        if uri.startswith("models:/"):
            name, _, ref = uri.removeprefix("models:/").partition("@")
            if ref:
                return client.get_model_version_by_alias(name, ref).run_id
            name, _, version = uri.removeprefix("models:/").partition("/")
            return client.get_model_version(name, version).run_id
    except MlflowException as e:
        raise EmotionError(f"model {uri}: {e.message.splitlines()[0]}") from None
    return None


def exported_variants(run_id: str) -> dict[str, str]:
    """{variant: artifact path} of the LiteRT files that `emotion.export` accepted for a run."""
    from emotion.litert import artifact_path

    tag = MlflowClient().get_run(run_id).data.tags.get("litert.variants", "")
    return {v: artifact_path(v) for v in tag.split(",") if v}
