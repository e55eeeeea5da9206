"""`python -m emotion.export`: LiteRT fp32 / dynamic-range / int8 files for a tracked model, gated on accuracy.

Each variant is evaluated through the image contract on the selection split of
the data its training run used (and reported on its test split) and logged to
that run (file, size, accuracy, macro-F1, agreement with the Keras model). A
quantized variant more than `max_drop` selection-accuracy points below fp32 is
refused unless `force=true`.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from emotion.cli import entry_point
from emotion.config import build
from emotion.errors import EmotionError
from emotion.inputs import BGR, RGB, model_batch, read_image
from emotion.litert import VARIANTS, LiteRTClassifier, artifact_path
from emotion.metrics import report

log = logging.getLogger("emotion.export")

REFUSED = 4


def convert(model, variant: str, representative: np.ndarray | None = None) -> bytes:
    """The LiteRT flatbuffer of `model`; int8 is calibrated on `representative` images."""
    import tensorflow as tf

    from emotion.model import float32_copy

    converter = tf.lite.TFLiteConverter.from_keras_model(float32_copy(model))
    if variant in ("dynamic", "int8"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "int8":
        converter.representative_dataset = lambda: ([image[None]] for image in representative)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    elif variant not in VARIANTS:
        raise EmotionError(f"unknown LiteRT variant {variant!r}; expected one of {VARIANTS}")
    return converter.convert()


def images_of(split, size: int, limit: int | None = None, seed: int = 0):
    """(model inputs through the image contract, the split they belong to): unreadable files are left out
    of both, so rows and labels stay aligned; a random subset of `limit` when given."""
    if limit and limit < len(split):
        split = split.take(np.sort(np.random.default_rng(seed).choice(len(split), limit, replace=False)))
    if isinstance(split.images, np.ndarray):
        return model_batch(split.images, size, RGB), split
    decoded = [read_image(path) for path in split.images]
    readable = [i for i, image in enumerate(decoded) if image is not None]
    return model_batch([decoded[i] for i in readable], size, BGR), split.take(readable)


def training_data(run_id: str, cfg: DictConfig):
    """The data source the run was trained on, rebuilt from its logged config."""
    import mlflow

    try:
        text = mlflow.artifacts.load_text(f"runs:/{run_id}/config/resolved.yaml")
    except Exception as e:  # noqa: BLE001 - any artifact-store failure means the same thing here
        raise EmotionError(f"run {run_id} has no logged config to rebuild its data from ({e})") from None
    trained = OmegaConf.create(text)
    if cfg.data_root:
        trained.data.root = cfg.data_root
    return build(trained.data, f"data={trained.data.name}", cache_dir=cfg.paths.cache_dir)


def export(cfg: DictConfig) -> int:
    import mlflow

    from emotion.schema import validate

    validate(cfg, "export")
    from emotion.engine import keras_classifier
    from emotion.runtime import set_threads
    from emotion.tracking import load_keras_model, model_metadata, resolve_model_uri, run_id_of

    uri = resolve_model_uri(str(cfg.model), cfg.tracking)
    run_id = run_id_of(uri)
    if run_id is None:
        raise EmotionError(f"model {uri} is not tracked: export needs the training run (its data and metrics)")
    meta = model_metadata(uri)
    size = int(meta["input_size"])
    set_threads(cfg.threads, cfg.threads)
    model = load_keras_model(uri)
    data = training_data(run_id, cfg)
    # The gate decides on the selection split; the test split, when there is one, is only reported.
    splits = {name: images_of(data.splits[split], size) for name, split in (("selection", "val"), ("test", "test"))
              if split in data.splits}
    keras_call = keras_classifier(model)
    keras_predictions = {name: keras_call(images) for name, (images, _) in splits.items()}
    representative, _ = images_of(data.splits["train"], size, cfg.representative_images, seed=1)

    def figures(predictions: dict[str, np.ndarray]) -> dict[str, float]:
        out = {}
        for name, (_, split) in splits.items():
            rep = report(split.labels, predictions[name].argmax(1), data.classes)
            out[f"{name}_accuracy"], out[f"{name}_macro_f1"] = rep["accuracy"], rep["macro_f1"]
            out[f"{name}_agreement"] = float((predictions[name].argmax(1) == keras_predictions[name].argmax(1)).mean())
        return out

    out_dir = Path(cfg.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results, accepted, refused = {"keras": figures(keras_predictions)}, [], []
    for variant in cfg.variants:
        flatbuffer = convert(model, variant, representative)
        path = out_dir / f"{variant}.tflite"
        path.write_bytes(flatbuffer)
        litert = LiteRTClassifier(path, cfg.threads)
        results[variant] = {"file": str(path), "size_mb": round(len(flatbuffer) / 2**20, 3),
                            **figures({name: litert.predict(images) for name, (images, _) in splits.items()})}
        r = results[variant]
        log.info("%s: %.2f MB, selection accuracy %.4f, macro-F1 %.4f, agrees with Keras on %.1f%%", variant,
                 r["size_mb"], r["selection_accuracy"], r["selection_macro_f1"], 100 * r["selection_agreement"])
    baseline = results.get("fp32", results["keras"])["selection_accuracy"]
    for variant in cfg.variants:
        drop = 100 * (baseline - results[variant]["selection_accuracy"])
        results[variant]["drop_points"] = round(drop, 3)
        if variant != "fp32" and drop > cfg.max_drop and not cfg.force:
            refused.append(f"{variant} selection accuracy {results[variant]['selection_accuracy']:.4f} is "
                           f"{drop:.2f} points below fp32 {baseline:.4f} (max_drop {cfg.max_drop})")
        else:
            accepted.append(variant)

    # The run belongs to its own experiment, whatever experiment this process had active.
    mlflow.set_experiment(experiment_id=mlflow.get_run(run_id).info.experiment_id)
    with mlflow.start_run(run_id=run_id):
        for variant, r in results.items():
            mlflow.log_metrics({f"litert_{variant}_{k}": v for k, v in r.items() if isinstance(v, float)})
        for variant in accepted:
            mlflow.log_artifact(results[variant]["file"], Path(artifact_path(variant)).parent.as_posix())
        mlflow.set_tag("litert.variants", ",".join(accepted))
        mlflow.log_dict({"model": uri, "images": {name: len(split) for name, (_, split) in splits.items()},
                         "results": results, "refused": refused}, "litert/export.json")
    print(json.dumps({"model": uri, "run_id": run_id, "accepted": accepted, "results": results}, indent=1))
    for line in refused:
        print(f"error: refused: {line}; force=true keeps it", file=sys.stderr)
    return REFUSED if refused else 0


def task(cfg: DictConfig) -> None:
    code = export(cfg)
    if code:
        sys.exit(code)


main = entry_point("export", task)


if __name__ == "__main__":
    main()
