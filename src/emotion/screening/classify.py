"""The classify stage of a screening: every readable recording into its per-frame record, here one after
another, or on Ray (`executor=ray`)."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from emotion.inference.backends import build_engine
from emotion.screening.recordings import Recording, inside, same_classes
from emotion.screening.sample import classify_recording

# Ray is imported inside `classify_all`, only with executor=ray: it is an optional extra.


def classify_all(recordings: list[Recording], out: Path, classes: list[str], fps: float, model: str,
                 executor: DictConfig, engine: DictConfig, detector: DictConfig, tracking: DictConfig,
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
    outputs = [inside(out / "frames", f"{r.viewer}.csv") for r in readable]
    if executor.kind == "ray":
        from emotion.screening.ray_executor import classify_on_ray

        problems = classify_on_ray(readable, outputs, classes, fps, model, executor, engine, detector, tracking)
    else:
        built, meta = build_engine(engine, detector, tracking, model)
        same_classes(meta, classes)
        problems = [classify_recording(r, built, classes, fps, path) for r, path in zip(readable, outputs)]
    written = []
    for r, path, problem in zip(readable, outputs, problems):
        if problem:
            left.append({"viewer": r.viewer, "reason": problem})
        else:
            written.append((r.viewer, path, r.offset_s))
    return written
