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

import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from emotion.cli import entry_point
from emotion.engine import Engine, FrameResult, build_engine, peak_rss_mb
from emotion.errors import EmotionError
from emotion.sources import Source, open_source
from emotion.video import Display, VideoOutput, annotate

log = logging.getLogger("emotion.infer")
LOADED = time.perf_counter()

OVER_BUDGET = 3
NOT_JUDGED = 5
STAGES = ("detect", "classify", "total")


def csv_rows(index: int, time_s: float, result: FrameResult, classes: list[str]):
    timing = [f"{result.detect_ms:.2f}", f"{result.classify_ms:.2f}", f"{result.total_ms:.2f}"]
    if not result.faces:
        yield [index, f"{time_s:.3f}", "", "", "", "", "", "", ""] + [""] * len(classes) + timing
    for face in result.faces:
        yield ([index, f"{time_s:.3f}", "" if face.track_id is None else face.track_id, *face.box, face.label,
                f"{face.confidence:.4f}"]
               + [f"{p:.4f}" for p in face.probabilities] + timing)


def csv_header(classes: list[str]) -> list[str]:
    return (["frame", "time_s", "track_id", "x", "y", "w", "h", "label", "confidence"]
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
        engine.reset(source.fps)
        for frame in source:
            if source.continuous:
                result = engine.process(frame.image, frame.time_s)
            else:
                result = engine.process_still(frame.image)
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
        "timed_frames": len(timings["total"]),
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


def check_budget(summary: dict, budget_s: float, min_timed_frames: int) -> tuple[int, str | None]:
    """(exit code under strict, a line) when the budget is breached or cannot be judged; (0, None) when it holds.

    With fewer than `min_timed_frames` timed frames (after warm-up) a p95 means
    nothing, so the budget is neither met nor breached: it is not judged.
    """
    summary["budget_s"] = budget_s
    timed = summary["timed_frames"]
    if timed < min_timed_frames:
        summary["within_budget"] = None
        return NOT_JUDGED, (f"the budget cannot be judged: {timed} timed frame(s) after "
                            f"{summary['warmup_frames_excluded']} warm-up frame(s), min_timed_frames is "
                            f"{min_timed_frames}")
    p95 = summary["latency_ms"]["total"]["p95"]
    summary["within_budget"] = p95 <= budget_s * 1000
    if summary["within_budget"]:
        return 0, None
    stage = max(("detect", "classify"), key=lambda s: summary["latency_ms"][s]["p95"])
    return OVER_BUDGET, (f"p95 frame latency {p95:.1f} ms exceeds the budget of {budget_s * 1000:.1f} ms; "
                         f"slowest stage: {stage} (p95 {summary['latency_ms'][stage]['p95']:.1f} ms)")


def infer(cfg: DictConfig) -> int:
    from emotion.schema import validate

    validate(cfg, "infer")
    engine, meta = build_engine(cfg.engine, cfg.detector, cfg.tracking, cfg.model)
    source = open_source(cfg.camera, cfg.source)
    summary = {"model": meta["uri"], "runtime": meta["runtime"], **run(engine, meta["classes"], source, cfg)}
    summary["peak_rss_mb"] = peak_rss_mb()
    code, problem = check_budget(summary, float(cfg.budget_s), int(cfg.min_timed_frames))
    text = json.dumps(summary, indent=1)
    print(text)
    if cfg.output.get("summary"):
        Path(cfg.output.summary).parent.mkdir(parents=True, exist_ok=True)
        Path(cfg.output.summary).write_text(text + "\n")
    if problem:
        print(f"{'error' if cfg.strict else 'warning'}: {problem}", file=sys.stderr)
        return code if cfg.strict else 0
    return 0


def task(cfg: DictConfig) -> None:
    code = infer(cfg)
    if code:
        sys.exit(code)


main = entry_point("infer", task)


if __name__ == "__main__":
    main()
