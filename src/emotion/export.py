"""`python -m emotion.export`: LiteRT fp32 / dynamic-range / int8 files for a tracked model, gated on accuracy.

Each variant is evaluated through the image contract on the selection split of
the data its training run used (and reported on its test split) and logged to
that run (file, size, accuracy, macro-F1, agreement with the Keras model). A
quantized variant more than `max_drop` selection-accuracy points below fp32 is
refused (exit code 4) unless `force=true`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from omegaconf import DictConfig

from emotion.core.cli import entry_point
from emotion.core.errors import EmotionError
from emotion.core.outputs import ensure_folder, refuse_inputs

REFUSED = 4


def export(cfg: DictConfig) -> int:
    """Convert, judge, log; returns the exit code (REFUSED when a variant was refused)."""
    # Imported here: the command line's config is checked before TensorFlow and MLflow load.
    from emotion.core.threads import set_threads
    from emotion.deploy.gate import decide, log_export, measure, training_data
    from emotion.inference.classifiers import keras_classifier
    from emotion.tracking.lookup import load_keras_model, model_metadata, resolve_model_uri, run_id_of

    out = Path(cfg.output_dir)
    refuse_inputs({f"{v}.tflite": out / f"{v}.tflite" for v in cfg.variants},
                  {"model": cfg.model, "data_root": cfg.data_root})
    ensure_folder(out)  # before the model loads: a storage fault costs nothing
    uri = resolve_model_uri(str(cfg.model), cfg.tracking)
    run_id = run_id_of(uri)
    if run_id is None:
        raise EmotionError(f"model {uri} is not tracked: export needs the training run (its data and metrics)")
    size = int(model_metadata(uri)["input_size"])
    set_threads(cfg.threads, cfg.threads)
    model = load_keras_model(uri)
    data = training_data(run_id, cfg.data_root, cfg.paths.cache_dir)
    results, images = measure(model, keras_classifier(model), data, size, cfg.variants, cfg.representative_images,
                              cfg.threads, out)
    accepted, refused = decide(results, cfg.variants, cfg.max_drop, cfg.force)
    log_export(run_id, uri, results, images, accepted, refused)
    print(json.dumps({"model": uri, "run_id": run_id, "accepted": accepted, "results": results}, indent=1))
    for line in refused:
        print(f"error: refused: {line}; force=true keeps it", file=sys.stderr)
    return REFUSED if refused else 0


main = entry_point("export", export, exit_code=True)


if __name__ == "__main__":
    main()
