"""`python -m emotion.infer camera=0 | source=<video, image, folder, URL>`: label every face, timed."""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import hydra
import mlflow
import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from emotion.config import CONFIG_DIR, build
from emotion.engine import Classify, Engine, FrameResult, keras_classifier, peak_rss_mb
from emotion.errors import EmotionError, exits_cleanly
from emotion.litert import PREFERENCE, LiteRTClassifier
from emotion.tracking import exported_variants, load_keras_model, model_metadata, resolve_model_uri, run_id_of
from emotion.video import Display, Source, VideoOutput, annotate, open_source

log = logging.getLogger("emotion.infer")
LOADED = time.perf_counter()

OVER_BUDGET = 3
STAGES = ("detect", "classify", "total")


def classifier(cfg: DictConfig, uri: str) -> tuple[Classify, str]:
    """LiteRT when asked, or with `engine=auto` when the model has an accepted export; else Keras.

    The LiteRT path never imports TensorFlow.
    """
    run_id = run_id_of(uri) if cfg.engine in ("litert", "auto") else None
    exported = exported_variants(run_id) if run_id else {}
    if cfg.engine == "litert" and not exported:
        raise EmotionError(f"model {uri} has no LiteRT export: run `python -m emotion.export model={uri}`")
    if exported:
        variant = cfg.variant or next(v for v in PREFERENCE if v in exported)
        if variant not in exported:
            raise EmotionError(f"model {uri} has no accepted LiteRT {variant} export (it has {', '.join(exported)})")
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=exported[variant])
        return LiteRTClassifier(path, cfg.threads), f"litert {variant}"
    return keras_classifier(load_keras_model(uri), cfg.threads), "keras"


def build_engine(cfg: DictConfig) -> tuple[Engine, dict]:
    """The model chosen by `cfg.model`, the configured detector, and the engine around them."""
    uri = resolve_model_uri(str(cfg.model), cfg.tracking)
    meta = model_metadata(uri)
    classify, runtime = classifier(cfg, uri)
    detector = build(cfg.detector, "detector")
    engine = Engine(detector, classify, meta["classes"], meta["input_size"], cfg.margin, cfg.smoothing,
                    cfg.detect_every)
    log.info("model %s on %s (%d classes, %d px), detector %s", uri, runtime, len(meta["classes"]),
             meta["input_size"], type(detector).__name__)
    return engine, {**meta, "uri": uri, "runtime": runtime}


def csv_rows(index: int, time_s: float, result: FrameResult, classes: list[str]):
    timing = [f"{result.detect_ms:.2f}", f"{result.classify_ms:.2f}", f"{result.total_ms:.2f}"]
    if not result.faces:
        yield [index, f"{time_s:.3f}", "", "", "", "", "", "", ""] + [""] * len(classes) + timing
    for face in result.faces:
        yield ([index, f"{time_s:.3f}", face.id, *face.box, face.label, f"{face.confidence:.4f}"]
               + [f"{p:.4f}" for p in face.probabilities] + timing)


def csv_header(classes: list[str]) -> list[str]:
    return (["frame", "time_s", "face_id", "x", "y", "w", "h", "label", "confidence"]
            + [f"p_{c}" for c in classes] + ["detect_ms", "classify_ms", "total_ms"])


def latency(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0}
    a = np.asarray(values)
    return {"p50": round(float(np.percentile(a, 50)), 2), "p95": round(float(np.percentile(a, 95)), 2),
            "max": round(float(a.max()), 2)}


def run(engine: Engine, classes: list[str], source: Source, cfg: DictConfig) -> dict:
    """The frame loop: process, annotate, write, show; returns the summary."""
    timings = {stage: [] for stage in STAGES}
    labels: Counter = Counter()
    frames = faces = 0
    first_frame_s = None
    started = time.perf_counter()
    with ExitStack() as stack:
        video = VideoOutput(cfg.output.video, source.fps) if cfg.output.get("video") else None
        if video:
            stack.callback(video.close)
        writer = None
        if cfg.output.get("csv"):
            Path(cfg.output.csv).parent.mkdir(parents=True, exist_ok=True)
            writer = csv.writer(stack.enter_context(open(cfg.output.csv, "w", newline="")))
            writer.writerow(csv_header(classes))
        display = Display(cfg.display)
        stack.callback(display.close)
        recent: list[float] = []
        progress = stack.enter_context(tqdm(desc=source.description, unit="frame", disable=source.live or None,
                                            total=source.expected or None, leave=False))
        for frame in source:
            result = engine.process(frame.image)
            frames += 1
            if frames == 1:
                first_frame_s = seconds_since_process_start()
            faces += len(result.faces)
            labels.update(face.label for face in result.faces)
            if frames > cfg.warmup_frames:
                for stage in STAGES:
                    timings[stage].append(getattr(result, f"{stage}_ms"))
            if writer:
                writer.writerows(csv_rows(frame.index, frame.time_s, result, classes))
            recent = (recent + [time.perf_counter()])[-30:]
            fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 else 0.0
            if video or display.enabled:
                annotated = annotate(frame.image, result.faces, classes,
                                     f"{fps:.1f} fps  {result.total_ms:.0f} ms")
                if video:
                    video.write(annotated)
                if not display.show(annotated):
                    break
            progress.update()
            if cfg.max_frames and frames >= cfg.max_frames:
                break
    elapsed = time.perf_counter() - started
    if frames == 0:
        raise EmotionError(f"no frame could be read from {source.description}")
    return {
        "source": source.description,
        "frames": frames,
        "failed_frames": source.failed,
        "faces": faces,
        "labels": dict(labels.most_common()),
        "latency_ms": {stage: latency(timings[stage]) for stage in STAGES},
        "warmup_frames_excluded": min(frames, cfg.warmup_frames),
        "fps": round(frames / elapsed, 2) if elapsed else 0.0,
        "first_frame_s": round(first_frame_s, 2),
    }


def seconds_since_process_start() -> float:
    """Wall time since this process was created (Linux /proc), else since this module loaded."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - LOADED


def check_budget(summary: dict, budget_s: float) -> str | None:
    """None when p95 total latency is within the budget, else a line naming the slowest stage."""
    p95 = summary["latency_ms"]["total"]["p95"]
    summary["budget_s"], summary["within_budget"] = budget_s, p95 <= budget_s * 1000
    if summary["within_budget"]:
        return None
    stage = max(("detect", "classify"), key=lambda s: summary["latency_ms"][s]["p95"])
    return (f"p95 frame latency {p95:.1f} ms exceeds the budget of {budget_s * 1000:.1f} ms; "
            f"slowest stage: {stage} (p95 {summary['latency_ms'][stage]['p95']:.1f} ms)")


def infer(cfg: DictConfig) -> int:
    engine, meta = build_engine(cfg)
    source = open_source(cfg.camera, cfg.source)
    summary = {"model": meta["uri"], "runtime": meta["runtime"], **run(engine, meta["classes"], source, cfg)}
    summary["peak_rss_mb"] = peak_rss_mb()
    breach = check_budget(summary, float(cfg.budget_s))
    text = json.dumps(summary, indent=1)
    print(text)
    if cfg.output.get("summary"):
        Path(cfg.output.summary).parent.mkdir(parents=True, exist_ok=True)
        Path(cfg.output.summary).write_text(text + "\n")
    if breach:
        print(f"{'error' if cfg.strict else 'warning'}: {breach}", file=sys.stderr)
        return OVER_BUDGET if cfg.strict else 0
    return 0


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="infer")
@exits_cleanly
def main(cfg: DictConfig) -> None:
    code = infer(cfg)
    if code:
        sys.exit(code)


if __name__ == "__main__":
    main()
