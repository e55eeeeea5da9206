"""The accuracy gate of an export: every variant judged on the selection split of its run's own data (and
reported on the test split), a quantized one refused when it loses more than `max_drop` points against fp32;
results, accepted files and refusals logged to the training run."""

from __future__ import annotations

import logging
from pathlib import Path

import mlflow
import numpy as np
from omegaconf import OmegaConf

from emotion.core.config import build
from emotion.core.errors import EmotionError
from emotion.core.outputs import atomic
from emotion.data.base import Data
from emotion.deploy.convert import convert, images_of
from emotion.evaluation.metrics import report
from emotion.inference.litert import LiteRTClassifier, artifact_path

log = logging.getLogger(__name__)

SPLITS = (("selection", "val"), ("test", "test"))


def training_data(run_id: str, data_root: str | None, cache_dir: str) -> Data:
    """The data source the run was trained on, rebuilt from its logged config (at `data_root` if it moved,
    with this process's download cache)."""
    try:
        text = mlflow.artifacts.load_text(f"runs:/{run_id}/config/resolved.yaml")
    except Exception as e:  # noqa: BLE001 - any artifact-store failure means the same thing here
        raise EmotionError(f"run {run_id} has no logged config to rebuild its data from ({e})") from None
    data_cfg = OmegaConf.create(text).data
    moved = {**({"root": data_root} if data_root else {}),
             **({"cache_dir": cache_dir} if "cache_dir" in data_cfg else {})}
    return build(OmegaConf.merge(data_cfg, moved), f"data={data_cfg.name}")


def gate_splits(data: Data, size: int) -> dict:
    """{selection|test: (model inputs, their split)}: the gate decides on the selection split, the test split
    (when there is one) is only reported."""
    return {name: images_of(data.splits[split], size) for name, split in SPLITS if split in data.splits}


def measure(model, keras_call, data: Data, size: int, variants, representative_images: int, threads: int,
            out_dir: Path) -> tuple[dict[str, dict], dict[str, int]]:
    """({keras|variant: figures}, {split: images judged}), each variant's file written to `out_dir`."""
    splits = gate_splits(data, size)
    keras_predictions = {name: keras_call(images) for name, (images, _) in splits.items()}
    representative, _ = images_of(data.splits["train"], size, representative_images, seed=1)

    def figures(predictions: dict[str, np.ndarray]) -> dict[str, float]:
        out = {}
        for name, (_, split) in splits.items():
            rep = report(split.labels, predictions[name].argmax(1), data.classes)
            out[f"{name}_accuracy"], out[f"{name}_macro_f1"] = rep["accuracy"], rep["macro_f1"]
            out[f"{name}_agreement"] = float((predictions[name].argmax(1) == keras_predictions[name].argmax(1)).mean())
        return out

    results = {"keras": figures(keras_predictions)}
    for variant in variants:
        flatbuffer = convert(model, variant, representative)
        path = out_dir / f"{variant}.tflite"
        with atomic(path) as partial:
            partial.write_bytes(flatbuffer)
        litert = LiteRTClassifier(path, threads)
        results[variant] = {"file": str(path), "size_mb": round(len(flatbuffer) / 2**20, 3),
                            **figures({name: litert.predict(images) for name, (images, _) in splits.items()})}
        r = results[variant]
        log.info("%s: %.2f MB, selection accuracy %.4f, macro-F1 %.4f, agrees with Keras on %.1f%%", variant,
                 r["size_mb"], r["selection_accuracy"], r["selection_macro_f1"], 100 * r["selection_agreement"])
    return results, {name: len(split) for name, (_, split) in splits.items()}


def decide(results: dict, variants, max_drop: float, force: bool) -> tuple[list[str], list[str]]:
    """(accepted variants, a line per refused one): fp32 (or Keras) is the baseline of the selection accuracy."""
    baseline = results.get("fp32", results["keras"])["selection_accuracy"]
    accepted, refused = [], []
    for variant in variants:
        drop = 100 * (baseline - results[variant]["selection_accuracy"])
        results[variant]["drop_points"] = round(drop, 3)
        if variant != "fp32" and drop > max_drop and not force:
            refused.append(f"{variant} selection accuracy {results[variant]['selection_accuracy']:.4f} is "
                           f"{drop:.2f} points below fp32 {baseline:.4f} (max_drop {max_drop})")
        else:
            accepted.append(variant)
    return accepted, refused


def log_export(run_id: str, uri: str, results: dict, images: dict, accepted: list[str], refused: list[str]) -> None:
    """Figures, accepted files and the list of accepted variants (what `engine=auto` reads) on the training run."""
    # The run belongs to its own experiment, whatever experiment this process had active.
    mlflow.set_experiment(experiment_id=mlflow.get_run(run_id).info.experiment_id)
    with mlflow.start_run(run_id=run_id):
        for variant, r in results.items():
            mlflow.log_metrics({f"litert_{variant}_{k}": v for k, v in r.items() if isinstance(v, float)})
        for variant in accepted:
            mlflow.log_artifact(results[variant]["file"], Path(artifact_path(variant)).parent.as_posix())
        mlflow.set_tag("litert.variants", ",".join(accepted))
        mlflow.log_dict({"model": uri, "images": images, "results": results, "refused": refused},
                        "litert/export.json")
