"""The episode's per-second timeline while it runs: every classified face kept as moments reads a recording's
faces (each tracked face a viewer, `<group>#<track>`, absent from the samples it is not in), and scored by
`emotion.screening.scoring` as the review page's timeline is, on the episode's clock.

Scoring looks at the whole screening so far (each viewer against their own baseline), so it is done again as
samples come in, at most once a second and less often when it grows costly (about 5% of the time at most).
"""

from __future__ import annotations

import threading
import time

import numpy as np
from omegaconf import DictConfig

from emotion.inference.engine import Face
from emotion.screening.review import COLOURS
from emotion.screening.scoring import score_episode

SHARE = 0.05  # of the wall time spent scoring, at most


class LiveTimeline:
    def __init__(self, cameras: int, classes: list[str], scoring: DictConfig):
        self.classes, self.scoring = classes, scoring
        self.times: list[list[float]] = [[] for _ in range(cameras)]
        self.tracks: dict[tuple[int, int], tuple[list[int], list[np.ndarray]]] = {}
        self.lock = threading.Lock()
        self.added = 0
        self.scored: dict | None = None
        self.version, self.scored_added, self.next_at, self.placed = 0, 0, 0.0, None

    def add(self, camera: int, time_s: float, faces: list[Face]) -> None:
        """A classified sample of `camera` at `time_s` of its recording."""
        with self.lock:
            index = len(self.times[camera])
            self.times[camera].append(time_s)
            for face in faces:
                if face.track_id is not None:
                    samples, probabilities = self.tracks.setdefault((camera, face.track_id), ([], []))
                    samples.append(index)
                    probabilities.append(face.probabilities)
            self.added += 1

    def current(self, names: list[str], offsets: list[float | None], duration_s: float) -> tuple[dict | None, int]:
        """(the timeline up to `duration_s` or its latest sample, its version): scored again when samples came since
        and it is time to, or at once when the recordings were placed anew (the episode's start was marked)."""
        now, placed = time.perf_counter(), [None if o is None else round(o, 3) for o in offsets]
        # Up to the latest classified sample: the seconds after it are not empty, only not classified yet.
        latest = [t[-1] + o for t, o in zip(self.times, offsets) if t and o is not None]
        duration_s = min(duration_s, max(latest)) if latest else duration_s
        moved = placed != self.placed
        if (moved or (self.added != self.scored_added and now >= self.next_at)) and duration_s >= 1:
            with self.lock:
                added = self.added
                viewers = self._viewers(names, offsets)
            self.scored = self._score(viewers, duration_s)
            self.scored_added, self.version, self.placed = added, self.version + 1, placed
            self.next_at = now + max(1.0, (time.perf_counter() - now) / SHARE)
        return self.scored, self.version

    def _viewers(self, names: list[str], offsets: list[float | None]) -> dict:
        viewers = {}
        for (camera, track), (samples, probabilities) in self.tracks.items():
            if offsets[camera] is None:
                continue
            times = np.asarray(self.times[camera])
            series = np.full((len(times), len(self.classes)), np.nan)
            series[samples] = probabilities
            viewers[f"{names[camera]}#{track}"] = (times + offsets[camera], series)
        return viewers

    def _score(self, viewers: dict, duration_s: float) -> dict | None:
        timeline, moments, used, _ = score_episode(viewers, self.classes, duration_s, self.scoring)
        if timeline is None:
            return None
        return {"seconds": len(timeline["score"]), "classes": self.classes, "colours": COLOURS, "viewers": used,
                "shares": _rounded(timeline["shares"]), "score": _rounded(timeline["score"]),
                "present": [int(n) for n in timeline["present"]], "moments": moments}


def _rounded(values: np.ndarray):
    """Numbers for JSON: rounded, and None where there is nothing (a second without a face)."""
    rounded = np.round(np.asarray(values, dtype=float), 4).astype(object)
    rounded[np.isnan(np.asarray(values, dtype=float))] = None
    return rounded.tolist()
