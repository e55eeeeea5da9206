"""The model registry: a run's model logged with what inference needs, and the champion alias within one dataset."""

from __future__ import annotations

import logging
from importlib.metadata import version

import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)

FINGERPRINT = "data.fingerprint"
CHAMPION = "champion"

# mlflow.keras (and so TensorFlow) is imported inside `log_model`: model lookup for LiteRT imports this module.


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


def log_model(model, classes: list[str], model_name: str, input_size: int, preprocessing: str,
              data_name: str) -> str:
    """Log the Keras model with what inference needs (classes, input size), register it; returns the version."""
    import mlflow.keras

    size = int(input_size)
    signature = infer_signature(np.zeros((1, size, size, 3), np.float32), np.zeros((1, len(classes)), np.float32))
    info = mlflow.keras.log_model(
        model,
        name="model",
        registered_model_name=model_name,
        signature=signature,
        pip_requirements=[f"tensorflow=={version('tensorflow')}", f"keras=={version('keras')}"],
        metadata={"classes": list(classes), "input_size": size, "input": "RGB pixels 0-255",
                  "preprocessing": preprocessing, "data": data_name},
    )
    return str(info.registered_model_version)
