"""MLflow: runs that resume, params with dotted names, models registered with a champion alias."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
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
CODE_KEY = "emotion.code_version"
FINGERPRINT = "data.fingerprint"
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


def code_version() -> str:
    """A hash of this package's Python sources: equal only when the code that trains is equal.

    Unlike the git commit it also exists in a wheel install and changes with
    uncommitted edits.
    """
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class RunLock:
    """An exclusive lock on a run's checkpoint folder, held while a process trains the run.

    The operating system drops it when the process dies (even by kill -9),
    so a lock that cannot be taken means a live process owns the run.
    """

    def __init__(self, folder: Path):
        self.path = Path(folder) / "owner.lock"
        self.file = None

    def acquire(self) -> bool:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.file.close()
            self.file = None
            return False
        self.file.truncate(0)
        self.file.write(f"{socket.gethostname()} {os.getpid()}\n")
        self.file.flush()
        return True

    def release(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


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
    from emotion.sweep import trial_tags

    experiment_id = configure(cfg.tracking)
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
    from hydra.core.hydra_config import HydraConfig

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


def promote(model_name: str, version: str, metric: str, value: float, mode: str, fingerprint: str,
            policy: str = "better") -> tuple[bool, str]:
    """Give `version` the champion alias when it beats the champion trained on the same data.

    Metrics of models trained on different data (another fingerprint: other
    images, labels or splits) are not comparable, so such a version is not
    promoted unless `policy` is `always`. Returns (promoted, the reason).
    """
    client = MlflowClient()
    try:
        champion = client.get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException:
        champion = None
    if champion is None or policy == "always":
        promoted, reason = policy != "never", "no champion yet" if champion is None else "tracking.promote=always"
    elif policy == "never":
        promoted, reason = False, "tracking.promote=never"
    else:
        run = client.get_run(champion.run_id).data
        current = run.metrics.get(metric)
        if run.tags.get(FINGERPRINT) != fingerprint:
            promoted = False
            reason = (f"champion v{champion.version} was trained on other data (fingerprint "
                      f"{run.tags.get(FINGERPRINT)}, this version {fingerprint}): not comparable; "
                      "tracking.promote=always makes it the champion")
        elif current is None:
            promoted, reason = True, f"champion v{champion.version} has no {metric}"
        else:
            promoted = value > current if mode == "max" else value < current
            reason = (f"{metric} {value:.4f} {'beats' if promoted else 'does not beat'} champion "
                      f"v{champion.version}'s {current:.4f} on the same data")
    if promoted:
        client.set_registered_model_alias(model_name, CHAMPION, version)
    log.info("%s version %s %s: %s", model_name, version, "is the new champion" if promoted else "not promoted",
             reason)
    return promoted, reason


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


def _champion(client: MlflowClient, name: str):
    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def best_model_uri(cfg: DictConfig) -> str:
    """The champion of a registered model, chosen without comparing metrics across datasets.

    Each registered model's champion was chosen among versions trained on the
    same data. Different registered models hold different data, so their
    metrics never compete: `tracking.model_name` names one; otherwise the
    newest champion trained on real data is taken (smoke-data models only when
    nothing else exists). The choice and its reason are logged.
    """
    mlflow.set_tracking_uri(cfg.uri)
    client = MlflowClient()
    versions = _versions(client, cfg.get("model_name"))
    if not versions:
        where = f"model {cfg.model_name!r}" if cfg.get("model_name") else "model"
        raise EmotionError(f"no trained {where} in {cfg.uri}: run `python -m emotion.train` first "
                           "(or pass model=<MLflow model URI or directory>)")
    names = sorted({v.name for v in versions})
    champions = [c for c in (_champion(client, name) for name in names) if c is not None]
    if not champions:
        newest = max(versions, key=lambda v: int(v.creation_timestamp))
        log.info("model=best: models:/%s/%s (no champion alias yet; the newest version)", newest.name,
                 newest.version)
        return f"models:/{newest.name}/{newest.version}"

    def smoke(version) -> bool:
        return client.get_run(version.run_id).data.params.get("data.name") == SMOKE_DATA

    real = [c for c in champions if not smoke(c)]
    pool = real or champions
    chosen = max(pool, key=lambda v: int(v.creation_timestamp))
    others = sorted(c.name for c in champions if c.name != chosen.name)
    reason = ("the only registered model" if len(champions) == 1 else
              f"the newest champion{' trained on real data' if real and len(real) < len(champions) else ''}; "
              f"not compared with {', '.join(others)} (other data): choose with tracking.model_name=NAME")
    log.info("model=best: models:/%s@%s (%s)", chosen.name, CHAMPION, reason)
    return f"models:/{chosen.name}@{CHAMPION}"


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
