"""The classify stage of a screening: every readable recording into its per-frame record, here one after
another, or on Ray (`executor=ray`); records already complete for the same recording and settings are kept."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from emotion.inference.backends import build_engine
from emotion.screening.recordings import Recording, inside, same_classes
from emotion.screening.sample import classify_recording, is_complete, signature
from emotion.tracking.lookup import resolve_model_uri, run_id_of

log = logging.getLogger(__name__)

# Ray is imported inside `classify_all`, only with executor=ray: it is an optional extra.


def settings(uri: str, classes: list[str], fps: float, decode: DictConfig, engine: DictConfig,
             detector: DictConfig) -> dict:
    """What every record of a screening depends on besides its recording."""
    return {"model": uri, "model_run": run_id_of(uri), "classes": list(classes), "fps": float(fps),
            **{name: OmegaConf.to_container(group, resolve=True)
               for name, group in (("decode", decode), ("engine", engine), ("detector", detector))}}


def classify_all(recordings: list[Recording], out: Path, classes: list[str], fps: float, decode: DictConfig,
                 model: str, executor: DictConfig, engine: DictConfig, detector: DictConfig, tracking: DictConfig,
                 left: list[dict]) -> list[tuple[str, Path, float]]:
    """(viewer, per-frame CSV in `out/frames`, offset) of each readable recording, classified where `executor`
    says; the others go to `left` with the reason."""
    readable = []
    for r in recordings:
        if r.path.is_file():
            readable.append(r)
        else:
            left.append({"viewer": r.viewer, "reason": f"recording not found: {r.path}"})
    if not readable:
        return []
    uri = resolve_model_uri(str(model), tracking)
    common = settings(uri, classes, fps, decode, engine, detector)
    outputs = {r.viewer: inside(out / "frames", f"{r.viewer}.csv") for r in readable}
    made_of = {r.viewer: signature(r, common) for r in readable}
    todo = [r for r in readable if not is_complete(outputs[r.viewer], made_of[r.viewer])]
    for r in readable:
        if r not in todo:
            log.info("recording %s: its per-frame record is complete (%s), kept", r.viewer, outputs[r.viewer])
    problems = {}
    if todo and executor.kind == "ray":
        from emotion.screening.ray_executor import classify_on_ray

        found = classify_on_ray(todo, [outputs[r.viewer] for r in todo], [made_of[r.viewer] for r in todo],
                                classes, fps, decode, uri, executor, engine, detector, tracking)
        problems = dict(zip((r.viewer for r in todo), found))
    elif todo:
        built, meta = build_engine(engine, detector, tracking, uri)
        same_classes(meta, classes)
        for r in tqdm(todo, desc="screening", unit="recording", disable=len(todo) < 2):
            problems[r.viewer] = classify_recording(r, built, classes, fps, outputs[r.viewer], made_of[r.viewer],
                                                    decode)
    written = []
    for r in readable:
        if problems.get(r.viewer):
            left.append({"viewer": r.viewer, "reason": problems[r.viewer]})
        else:
            written.append((r.viewer, outputs[r.viewer], r.offset_s))
    return written
