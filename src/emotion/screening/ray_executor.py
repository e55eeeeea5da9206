"""Moments' classify stage on a Ray cluster (`executor=ray`): Ray Data, one actor per worker.

The recordings are a Ray dataset of rows; `map_batches` sends them one at a time
to a pool of actors, each of which builds the inference engine once (the model
loaded once per worker, not once per recording) and writes the recording's
per-frame CSV, exactly as the local path does. A recording is not split into
chunks: identities are tracked along a whole recording, and a season has far
more recordings than workers. The model is resolved once, here, so every
worker classifies with the same version.

`executor.address` names an existing cluster (`auto`, `ray://head:10001`); with
none, a local Ray instance is started on this machine's loopback and stopped at
the end. On a cluster every worker needs this package installed, and the
recordings, `output_dir` and the MLflow store (a tracking server) must be
reachable from all of them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import ray
from omegaconf import DictConfig, OmegaConf

from emotion.inference.backends import build_engine
from emotion.screening.recordings import Recording, same_classes
from emotion.screening.sample import classify_recording
from emotion.tracking.lookup import model_metadata, resolve_model_uri

log = logging.getLogger(__name__)


class RecordingClassifier:
    """A Ray actor: the engine built once; each call classifies a batch of recordings."""

    def __init__(self, engine: dict, detector: dict, tracking: dict, model: str, classes: list[str], fps: float,
                 decode: dict):
        self.engine, meta = build_engine(OmegaConf.create(engine), OmegaConf.create(detector),
                                         OmegaConf.create(tracking), model)
        self.classes, self.fps, self.decode = classes, fps, OmegaConf.create(decode)

    def __call__(self, batch: dict) -> dict:
        problems = [classify_recording(Recording(viewer, Path(path), offset), self.engine, self.classes, self.fps,
                                       Path(out), json.loads(made_of), self.decode) or ""
                    for viewer, path, offset, out, made_of in zip(batch["viewer"], batch["path"], batch["offset"],
                                                                  batch["out"], batch["made_of"])]
        return {"viewer": list(batch["viewer"]), "problem": problems}


def start(executor: DictConfig) -> bool:
    """Connect to `executor.address`, or start a local instance; True when this process started it."""
    if ray.is_initialized():
        return False
    if executor.address:
        ray.init(address=executor.address, logging_level=logging.WARNING)
        return False
    ray.init(_node_ip_address="127.0.0.1", include_dashboard=False, logging_level=logging.WARNING,
             num_cpus=executor.get("num_cpus"))
    return True


def classify_on_ray(recordings: list[Recording], outputs: list[Path], made_of: list[dict], classes: list[str],
                    fps: float, decode: DictConfig, model: str, executor: DictConfig, engine: DictConfig,
                    detector: DictConfig, tracking: DictConfig) -> list[str]:
    """Classify each recording into its output CSV (with its sidecar `made_of`) on the cluster; returns each
    one's problem ('' if none)."""
    uri = resolve_model_uri(str(model), tracking)
    same_classes({**model_metadata(uri), "uri": uri}, list(classes))
    started = start(executor)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        rows = [{"viewer": r.viewer, "path": str(r.path), "offset": r.offset_s, "out": str(out),
                 "made_of": json.dumps(m)} for r, out, m in zip(recordings, outputs, made_of)]
        worker_engine = {**OmegaConf.to_container(engine, resolve=True), "threads": int(executor.cpus_per_worker)}
        results = ray.data.from_items(rows).map_batches(
            RecordingClassifier, batch_size=1, compute=ray.data.ActorPoolStrategy(size=int(executor.workers)),
            num_cpus=float(executor.cpus_per_worker),
            fn_constructor_kwargs={"engine": worker_engine, "detector": OmegaConf.to_container(detector, resolve=True),
                                   "tracking": OmegaConf.to_container(tracking, resolve=True), "model": uri,
                                   "classes": list(classes), "fps": float(fps),
                                   "decode": OmegaConf.to_container(decode, resolve=True)},
        ).take_all()
    finally:
        if started:
            ray.shutdown()
    problems = {row["viewer"]: row["problem"] for row in results}
    log.info("classified %d recordings on Ray with %d workers", len(rows), executor.workers)
    return [problems[r.viewer] for r in recordings]
