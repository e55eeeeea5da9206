"""Viewers read back from per-frame records: every tracked face of a recording (`<recording>#<track>`), or only
its largest stable face (`viewers=largest`); passers-by are left out, with the reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emotion.inference import record


def read_tracks(path: Path, classes: list[str]):
    """(time of every sample, {track id: (its sample indices, probabilities, total box area)}) from an infer CSV."""
    rows = record.read(path, classes)
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


def viewers_from(records: list[tuple[str, Path, float]], classes: list[str], mode: str, min_track_share: float):
    """({viewer: (episode times, probabilities)}, [{viewer, reason} left out]) of every (name, per-frame CSV,
    offset)."""
    viewers, left = {}, []
    for name, path, offset in records:
        if not path.is_file():
            left.append({"viewer": name, "reason": f"frames CSV not found: {path}"})
            continue
        found, gone = viewers_of(name, path, offset, classes, mode, min_track_share)
        viewers.update(found)
        left += gone
    return viewers, left
