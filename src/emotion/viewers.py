"""The test group: recordings in, viewers out.

A recording is one camera; each tracked face in it is a viewer
(`<recording>#<track>`), or only the largest stable face (`viewers=largest`,
one viewer per recording). Recordings are sampled at `fps` on their
presentation times and classified by the inference engine into emotion.infer's
per-frame CSV; viewers are read back from those CSVs. Names from a manifest
are made safe for file names, and every viewer left out has a reason.
"""

from __future__ import annotations

import csv
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from emotion.errors import EmotionError

log = logging.getLogger(__name__)


@dataclass
class Recording:
    viewer: str
    path: Path
    offset_s: float = 0.0


def safe_name(name: str) -> str:
    """A viewer name usable as a file name: no path separators, no '..', no leading dot."""
    return re.sub(r"[^\w.#-]+", "_", str(name)).replace("..", "_").strip("._") or "viewer"


def inside(folder: Path, name: str) -> Path:
    """`folder/name`, refused when it would land outside `folder`."""
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise EmotionError(f"refusing to write {path}: outside {folder}")
    return path


def recordings_from(cfg: DictConfig) -> list[Recording]:
    """Plain paths (offset 0) and/or a manifest CSV `viewer,path,offset_s` (paths relative to it)."""
    paths = [*(cfg.recordings or []), *([cfg.recording] if cfg.recording else [])]
    found = [Recording(Path(p).stem, Path(p).expanduser()) for p in paths]
    if cfg.manifest:
        manifest = Path(cfg.manifest).expanduser()
        if not manifest.is_file():
            raise EmotionError(f"manifest not found: {manifest}")
        with open(manifest, newline="") as f:
            for n, row in enumerate(csv.DictReader(f), start=2):
                try:
                    path = Path(row["path"]).expanduser()
                    found.append(Recording(row["viewer"], path if path.is_absolute() else manifest.parent / path,
                                           float(row.get("offset_s") or 0)))
                except (KeyError, ValueError, TypeError) as e:
                    raise EmotionError(f"{manifest}:{n}: expected viewer,path,offset_s ({e})") from None
    for r in found:
        r.viewer = safe_name(r.viewer)
    names = [r.viewer for r in found]
    for i, r in enumerate(found):
        if names.count(r.viewer) > 1:
            r.viewer = f"{r.viewer}_{i}"
    return found


def same_classes(meta: dict, classes: list[str]) -> None:
    if list(meta["classes"]) != list(classes):
        raise EmotionError(f"model {meta['uri']} predicts {meta['classes']}, moments expects {list(classes)}")


def classify_recording(recording: Recording, engine, classes: list[str], fps: float, out: Path) -> str | None:
    """Sample the recording every 1/fps seconds of presentation time, classify, write infer's per-frame CSV.

    Returns None, or why the recording could not be read.
    """
    from emotion.infer import csv_header, csv_rows
    from emotion.sources import open_source

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
        writer.writerow(csv_header(classes))
        for frame in source:
            if frame.time_s < next_s - 1e-6:
                continue
            next_s = (math.floor(frame.time_s * fps + 1e-6) + 1) / fps
            writer.writerows(csv_rows(frame.index, frame.time_s, engine.process(frame.image, frame.time_s),
                                      classes))
    partial.replace(out)
    return None


def read_tracks(path: Path, classes: list[str]):
    """(time of every sample, {track id: (its sample indices, probabilities, total box area)}) from an infer CSV."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and ("track_id" not in rows[0] or any(f"p_{c}" not in rows[0] for c in classes)):
        raise EmotionError(f"{path}: not a per-frame CSV of emotion.infer (track_id and p_<class> columns)")
    samples: dict[int, int] = {}
    times: list[float] = []
    tracks: dict[int, tuple[list[int], list[np.ndarray], float]] = {}
    for r in rows:
        frame = int(r["frame"])
        if frame not in samples:
            samples[frame] = len(times)
            times.append(float(r["time_s"]))
        if r["track_id"]:
            index, probabilities, area = tracks.get(int(r["track_id"]), ([], [], 0.0))
            index.append(samples[frame])
            probabilities.append(np.array([float(r[f"p_{c}"]) for c in classes]))
            tracks[int(r["track_id"])] = (index, probabilities, area + float(r["w"]) * float(r["h"]))
    return np.array(times), tracks


def viewers_of(name: str, path: Path, offset_s: float, classes: list[str], mode: str, min_track_share: float):
    """({viewer: (episode time of each sample, probabilities or NaN)}, [{viewer, reason} left out])."""
    times, tracks = read_tracks(path, classes)
    if not tracks:
        return {}, [{"viewer": name, "reason": "no face in the recording"}]
    if mode == "largest":
        largest = max(tracks, key=lambda t: tracks[t][2])
        chosen, left = {name: tracks[largest]}, []
    else:
        chosen, left = {}, []
        for track_id, track in sorted(tracks.items()):
            share = len(track[0]) / max(len(times), 1)
            if share < min_track_share:
                left.append({"viewer": f"{name}#{track_id}", "reason": f"passer-by: in {share:.0%} of the "
                             f"recording's samples (min_track_share {min_track_share})"})
            else:
                chosen[f"{name}#{track_id}"] = track
    viewers = {}
    for viewer, (index, probabilities, _) in chosen.items():
        series = np.full((len(times), len(classes)), np.nan)
        series[index] = probabilities
        viewers[viewer] = (times + offset_s, series)
    return viewers, left
