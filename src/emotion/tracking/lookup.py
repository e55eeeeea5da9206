"""Finding a trained model: `best`, an MLflow URI or a directory; its metadata, its Keras model, its LiteRT files."""

from __future__ import annotations

import logging
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.models import Model
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from emotion.core.errors import EmotionError
from emotion.inference.litert import artifact_path
from emotion.inference.packaged import PACKAGED, packaged_metadata, require_packaged
from emotion.tracking.registry import CHAMPION
from emotion.tracking.store import store_faults, store_file

log = logging.getLogger(__name__)

# Keras (and so TensorFlow) is imported inside `load_keras_model`: the LiteRT engine looks models up without it.

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


def _packaged_instead(reason: str) -> str | None:
    """`packaged` when this install carries a model (the choice and `reason` logged), else None."""
    if packaged_metadata() is None:
        return None
    log.info("model=best: the packaged model (%s; its model card: models/MODEL_CARD.md in the package)", reason)
    return PACKAGED


def best_model_uri(cfg: DictConfig) -> str:
    """The champion of a registered model, chosen without comparing metrics across datasets.

    Each registered model's champion was chosen among versions trained on the
    same data. Different registered models hold different data, so their
    metrics never compete: `tracking.model_name` names one; otherwise the
    newest champion trained on real data is taken. When the store holds none,
    the model that ships with the package (smoke-data models only when this
    install has none). The choice and its reason are logged.
    """
    mlflow.set_tracking_uri(cfg.uri)
    database = store_file(cfg.uri)
    if database is not None and not database.is_file():  # looking must not create an empty store
        client, versions = None, []
    else:
        with store_faults(cfg.uri):
            client = MlflowClient()
            versions = _versions(client, cfg.get("model_name"))
    if not versions:
        where = f"model {cfg.model_name!r}" if cfg.get("model_name") else "model"
        packaged = None if cfg.get("model_name") else _packaged_instead(f"no trained model in {cfg.uri}")
        if packaged:
            return packaged
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

    with store_faults(cfg.uri):
        real = [c for c in champions if not smoke(c)]
    if not real and not cfg.get("model_name"):
        packaged = _packaged_instead(f"{cfg.uri} holds smoke models only ({', '.join(names)}), trained on drawn "
                                     "faces: name one with tracking.model_name=NAME to run it")
        if packaged:
            return packaged
    pool = real or champions
    chosen = max(pool, key=lambda v: int(v.creation_timestamp))
    others = sorted(c.name for c in champions if c.name != chosen.name)
    reason = ("the only registered model" if len(champions) == 1 else
              f"the newest champion{' trained on real data' if real and len(real) < len(champions) else ''}; "
              f"not compared with {', '.join(others)} (other data): choose with tracking.model_name=NAME")
    log.info("model=best: models:/%s@%s (%s)", chosen.name, CHAMPION, reason)
    return f"models:/{chosen.name}@{CHAMPION}"


def resolve_model_uri(spec: str, cfg: DictConfig) -> str:
    """`best`, `packaged`, an MLflow URI (`models:/...`, `runs:/...`), or a local MLflow model directory."""
    mlflow.set_tracking_uri(cfg.uri)
    if spec == "best":
        return best_model_uri(cfg)
    if spec == PACKAGED:
        require_packaged()
        log.info("model=packaged: the model that ships with the package (models/MODEL_CARD.md)")
        return PACKAGED
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
    if uri == PACKAGED:
        return require_packaged()
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
    if uri == PACKAGED:
        raise EmotionError("the packaged model is a LiteRT file without its Keras model: name a tracked model "
                           "(model=models:/NAME@champion), or use the engine (via=engine, engine=auto|litert)")
    import mlflow.keras

    import emotion.model.dlib_resnet  # noqa: F401 - and dlib's ResNet's ZeroFillAdd
    import emotion.model.preprocess  # noqa: F401 - registers the Preprocess layer for deserialisation
    import emotion.model.prior  # noqa: F401 - and the PriorShift layer

    try:
        return mlflow.keras.load_model(uri)
    except (MlflowException, OSError, ValueError, TypeError) as e:
        raise EmotionError(f"cannot load model {uri}: {str(e).strip().splitlines()[0]}") from None


def run_id_of(uri: str) -> str | None:
    """The training run behind a model URI (None for a local directory; for the packaged model, the run of
    this project's that made it, which need not be in this store)."""
    if uri == PACKAGED:
        return require_packaged()["source"]["run_id"]
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
    tag = MlflowClient().get_run(run_id).data.tags.get("litert.variants", "")
    return {v: artifact_path(v) for v in tag.split(",") if v}
