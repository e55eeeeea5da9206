"""The timed frame loop of `emotion.infer` and the notebook API: process, annotate, write, show, summarise."""

from __future__ import annotations

import csv
import time
from collections import Counter
from contextlib import ExitStack

import numpy as np
from tqdm import tqdm

from emotion.core.errors import EmotionError
from emotion.core.interrupt import stop_requests
from emotion.core.outputs import atomic
from emotion.core.process import seconds_since_process_start
from emotion.inference import record
from emotion.inference.engine import Engine
from emotion.inference.sources import Source
from emotion.inference.video import Display, VideoOutput, annotate

STAGES = ("detect", "classify", "total")


def latency(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0}
    a = np.asarray(values)
    return {"p50": round(float(np.percentile(a, 50)), 2), "p95": round(float(np.percentile(a, 95)), 2),
            "max": round(float(a.max()), 2)}


def run(engine: Engine, classes: list[str], source: Source, *, video: str | None, csv_path: str | None,
        display: bool | str, warmup_frames: int, max_frames: int | None) -> dict:
    """Every frame of `source` through `engine`; the annotated `video`, the per-frame record at `csv_path` and a
    window (`display`) when asked for. Returns the summary (frames, faces, labels, latency per stage, fps);
    the first `warmup_frames` are left out of the timings. Ctrl-C or SIGTERM ends the loop after the frame in
    progress: the files are closed under their final names and the summary says `interrupted`."""
    timings = {stage: [] for stage in STAGES}
    labels: Counter = Counter()
    frames = faces = 0
    first_frame_s = None
    interrupted = False
    started = time.perf_counter()
    with ExitStack() as stack:
        stopping = stack.enter_context(stop_requests())
        # Each file is renamed to its final name only after its writer closed (the stack unwinds in reverse).
        writer_video = VideoOutput(stack.enter_context(atomic(video)), source.fps, video) if video else None
        if writer_video:
            stack.callback(writer_video.close)
        writer = None
        if csv_path:
            writer = csv.writer(stack.enter_context(open(stack.enter_context(atomic(csv_path)), "w", newline="")))
            writer.writerow(record.header(classes))
        window = Display(display)
        stack.callback(window.close)
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
            if frames > warmup_frames:
                for stage in STAGES:
                    timings[stage].append(getattr(result, f"{stage}_ms"))
            if writer:
                writer.writerows(record.rows(frame.index, frame.time_s, result, classes))
            recent = (recent + [time.perf_counter()])[-30:]
            fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 else 0.0
            if writer_video or window.enabled:
                annotated = annotate(frame.image, result.faces, classes, f"{fps:.1f} fps  {result.total_ms:.0f} ms")
                if writer_video:
                    writer_video.write(annotated)
                if not window.show(annotated):
                    break
            progress.update()
            if stopping():
                interrupted = True
                break
            if max_frames and frames >= max_frames:
                break
    elapsed = time.perf_counter() - started
    if frames == 0:
        raise EmotionError(f"no frame could be read from {source.description}")
    return {
        "source": source.description,
        "frames": frames,
        # How much of the source there was: a file that ends before its container says shows as missing frames.
        **source.accounting(),
        "faces": faces,
        "labels": dict(labels.most_common()),
        "latency_ms": {stage: latency(timings[stage]) for stage in STAGES},
        "warmup_frames_excluded": min(frames, warmup_frames),
        "timed_frames": len(timings["total"]),
        "fps": round(frames / elapsed, 2) if elapsed else 0.0,
        "first_frame_s": round(first_frame_s, 2),
        "interrupted": interrupted,
    }
