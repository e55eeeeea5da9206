"""`python -m emotion.evaluate model=... data=... split=... via=dataset|engine`: a tracked model on a split.

`via=dataset` feeds the split through the tf.data pipeline in batches, `via=engine` feeds every image
through the inference engine (what `emotion.infer detector=none` runs). Both use the one image contract,
so on the same model they agree. Images that cannot be decoded keep their row, are listed and counted, and
are left out of the figures; with the files the data source could not read, they are the `unreadable`
count. Printed, logged to the `evaluation` experiment, ended by one JSON line.
"""

from __future__ import annotations

import json

from omegaconf import DictConfig

from emotion.core.cli import entry_point
from emotion.core.errors import EmotionError


def evaluate(cfg: DictConfig) -> float:
    """A tracked model (best / alias / run / directory) on one split of a data source; returns its accuracy."""
    # Imported here: the command line's config is checked before TensorFlow and MLflow load.
    import mlflow

    from emotion.core.config import build
    from emotion.evaluation.metrics import report_text
    from emotion.evaluation.predictions import model_predictions
    from emotion.evaluation.reports import log_report, score
    from emotion.tracking.lookup import model_metadata, resolve_model_uri
    from emotion.tracking.store import connect

    uri = resolve_model_uri(str(cfg.model), cfg.tracking)
    meta = model_metadata(uri)
    data = build(cfg.data, f"data={cfg.data.name}")
    if cfg.split not in data.splits:
        raise EmotionError(f"data={data.name} has no split {cfg.split!r} (it has {', '.join(data.splits)})")
    if list(data.classes) != list(meta["classes"]):
        raise EmotionError(f"model {uri} predicts {meta['classes']}, data={data.name} has {data.classes}")
    split = data.splits[cfg.split]
    probabilities, runtime = model_predictions(uri, meta, split, cfg.via, cfg.engine, cfg.eval)
    rep = score(split, probabilities, data.classes, cfg.eval.bootstrap)
    # Whichever stage found it: the data source when it read the folder (before splitting), or the prediction.
    rep["unreadable"] = [*data.skipped, *rep["unreadable"]]
    print(f"{uri} on {data.name}/{cfg.split} via {cfg.via} ({runtime}; {rep['n']} images, "
          f"{len(rep['unreadable'])} unreadable)\n{report_text(rep)}")
    connect(cfg.tracking)
    with mlflow.start_run(run_name=f"{uri} {data.name}/{cfg.split} via {cfg.via}"):
        mlflow.log_params({"model": uri, "data.name": data.name, "split": cfg.split, "via": cfg.via,
                           "runtime": runtime, "tta_flip": cfg.eval.tta_flip, "data.fingerprint": data.fingerprint})
        log_report(rep, cfg.split)
    line = {"model": uri, "data": data.name, "split": cfg.split, "via": cfg.via, "runtime": runtime,
            "n": rep["n"], "unreadable": len(rep["unreadable"]), "accuracy": round(rep["accuracy"], 4),
            "accuracy_ci95": [round(v, 4) for v in rep["interval"].get("accuracy", [])],
            "macro_f1": round(rep["macro_f1"], 4)}
    if "without_uncertain" in rep:
        line["without_uncertain_accuracy"] = round(rep["without_uncertain"]["accuracy"], 4)
    print(json.dumps(line))
    return rep["accuracy"]


main = entry_point("evaluate", evaluate)


if __name__ == "__main__":
    main()
