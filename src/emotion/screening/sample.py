"""One recording sampled at `fps` on its presentation times, classified by the inference engine, written as its
per-frame record."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from emotion.core.errors import EmotionError
from emotion.inference import record
from emotion.inference.engine import Engine
from emotion.inference.sources import open_source
from emotion.screening.recordings import Recording


def classify_recording(recording: Recording, engine: Engine, classes: list[str], fps: float, out: Path) -> str | None:
    """Sample the recording every 1/fps seconds of presentation time, classify, write the per-frame record.

    Returns None, or why the recording could not be read. `out` appears only once complete.
    """
    try:
        source = open_source(source=str(recording.path))
    except EmotionError as e:
        return str(e)
    engine.reset(fps)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial")
    next_s = 0.0
    with open(partial, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(record.header(classes))
        for frame in source:
            if frame.time_s < next_s - 1e-6:
                continue
            next_s = (math.floor(frame.time_s * fps + 1e-6) + 1) / fps
            writer.writerows(record.rows(frame.index, frame.time_s, engine.process(frame.image, frame.time_s),
                                         classes))
    partial.replace(out)
    return None
