"""The per-frame record: the CSV that `emotion.infer` writes and `emotion.moments` writes and reads back.

One row per face per frame (frame, presentation time, track id, box, label,
confidence, one probability per class, detect / classify / total ms); a frame
with no face still gets one row, with an empty label.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from pathlib import Path

from emotion.core.errors import EmotionError
from emotion.inference.engine import FrameResult

log = logging.getLogger(__name__)

FIXED = ["frame", "time_s", "track_id", "x", "y", "w", "h", "label", "confidence"]
TIMING = ["detect_ms", "classify_ms", "total_ms"]


def header(classes: list[str]) -> list[str]:
    return FIXED + [f"p_{c}" for c in classes] + TIMING


def rows(index: int, time_s: float, result: FrameResult, classes: list[str]) -> Iterator[list]:
    timing = [f"{result.detect_ms:.2f}", f"{result.classify_ms:.2f}", f"{result.total_ms:.2f}"]
    if not result.faces:
        yield [index, f"{time_s:.3f}"] + [""] * (len(FIXED) - 2 + len(classes)) + timing
    for face in result.faces:
        yield ([index, f"{time_s:.3f}", "" if face.track_id is None else face.track_id, *face.box, face.label,
                f"{face.confidence:.4f}"]
               + [f"{p:.4f}" for p in face.probabilities] + timing)


def read(path: Path, classes: list[str]) -> list[dict[str, str]]:
    """Every complete row of a per-frame CSV, refused when it lacks the track or a class's column.

    A row with fields missing (the last one of a copy or a recorder that was cut off) is left out with a
    warning naming the file and the line: the rest of the record counts.
    """
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames and ("track_id" not in reader.fieldnames
                                  or any(f"p_{c}" not in reader.fieldnames for c in classes)):
            raise EmotionError(f"{path}: not a per-frame CSV of emotion.infer (track_id and p_<class> columns)")
        found = []
        for row in reader:
            if None in row.values() or None in row or not _numbers(row):
                log.warning("%s, line %d: incomplete row left out (a record cut off while written?)", path,
                            reader.line_num)
                continue
            found.append(row)
    return found


def _numbers(row: dict[str, str]) -> bool:
    try:
        int(row["frame"]), float(row["time_s"])
    except ValueError:
        return False
    return True
