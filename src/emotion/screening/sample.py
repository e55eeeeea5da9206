"""One recording sampled at `fps` on its presentation times, classified by the inference engine, written as its
per-frame record; a record already complete for the same recording and settings is kept.

Each record `frames/<viewer>.csv` has a sidecar `<viewer>.json` saying what made it (the recording's
path, size and modification time, the model, detector, engine and sampling rate) and how much of the
recording it covers (frames expected, read, failed). The CSV is written under a temporary name and
renamed only once complete, after its sidecar, and a stale record is removed before it is redone: a
screening killed at any moment leaves either no record or a complete one with its own sidecar, so
running it again redoes only what was in progress. Stopped by Ctrl-C or SIGTERM, the recording in progress
keeps its record up to the last sample, under its name, with a sidecar that says `interrupted` and not
what made it: it can be scored, and the same command redoes it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from omegaconf import DictConfig
from tqdm import tqdm

from emotion.core.errors import EmotionError, Interrupted
from emotion.core.interrupt import stop_requests
from emotion.core.outputs import atomic, write_text
from emotion.inference import record
from emotion.inference.engine import Engine
from emotion.inference.sources import open_source
from emotion.screening.recordings import Recording


def signature(recording: Recording, settings: dict) -> dict:
    """What a record depends on: the recording file as it is now, and the classification settings."""
    stat = recording.path.stat()
    return {"recording": str(recording.path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            **settings}


def sidecar(out: Path) -> Path:
    return out.with_suffix(".json")


def _sidecar_of(out: Path) -> dict:
    """What the record's sidecar says; nothing when it is missing or damaged."""
    try:
        said = json.loads(sidecar(out).read_text())
    except (OSError, ValueError):
        return {}
    return said if isinstance(said, dict) else {}


def is_complete(out: Path, wanted: dict) -> bool:
    """True when `out` is a complete record made from the same recording with the same settings."""
    return out.is_file() and _sidecar_of(out).get("made_of") == wanted


def frames_read(out: Path) -> dict | None:
    """How much of its recording a complete record covers (expected, read and failed frames), from its sidecar."""
    return _sidecar_of(out).get("frames")


def classify_recording(recording: Recording, engine: Engine, classes: list[str], fps: float, out: Path,
                       made_of: dict, decode: DictConfig) -> str | None:
    """Sample the recording every 1/fps seconds of presentation time (decoded as `decode` says), classify,
    write the per-frame record with its sidecar `made_of` (see `signature`). Returns None, or why the
    recording could not be read; `Interrupted` once the record of a stopped recording is written."""
    try:
        source = open_source(source=str(recording.path), sample_fps=fps if decode.sampling else None)
    except EmotionError as e:
        return str(e)
    out.unlink(missing_ok=True)  # a stale record never stands beside a new sidecar
    engine.reset(fps)
    # The sidecar is written before the record gets its final name: a record under its name always has one.
    last_s = 0.0
    with atomic(out) as partial, stop_requests() as stopping:
        with (open(partial, "w", newline="") as f,
              tqdm(total=round(source.duration_s) or None, desc=recording.viewer, unit="s", leave=False) as progress):
            writer = csv.writer(f)
            writer.writerow(record.header(classes))
            for frame in source.sampled(fps):
                progress.update(int(frame.time_s) - progress.n)
                writer.writerows(record.rows(frame.index, frame.time_s, engine.process(frame.image, frame.time_s),
                                             classes))
                last_s = frame.time_s
                if stopping():
                    break
        said = {"interrupted": True, "at_s": round(last_s, 3)} if stopping() else {"made_of": made_of}
        write_text(sidecar(out), json.dumps({**said, "frames": source.accounting()}, indent=1) + "\n")
    if stopping():
        raise Interrupted(f"interrupted: {recording.viewer}'s record {out} holds its first {last_s:.1f} s and is "
                          "not complete; the same command redoes it, keeping the complete ones")
    return None
