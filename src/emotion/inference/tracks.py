"""Who is who across the frames of a stream: ByteTrack identities, and each identity's smoothed probabilities.

Identities come from `trackers` (Roboflow's ByteTrack, the maintained successor
of supervision's): a Kalman filter per face, matched to each frame's boxes, kept
alive for `lost_track_s` seconds without a detection, so a face that turns away
or is hidden for a moment keeps its identity. It is given each frame's
presentation time, so variable frame rates and sampled frames age tracks by
seconds, not by frame counts. A new face gets its identity from its second
frame; until then it has none (`None`). A face starts a track only from the
detector's `score_threshold`; a weaker detection can only continue a track
that is already there (ByteTrack's second association), so a face that the
detector is unsure of for a moment, hidden by a hand or turned away, is kept
without taking every doubtful shape for a new face.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from emotion.inference.detectors import Box


class FaceTracks:
    def __init__(self, smoothing: int, lost_track_s: float, rate: float, score_threshold: float):
        rate = float(rate) if rate and rate > 0 else 30.0
        # trackers counts the lost-track buffer in frames of a 30 fps stream, whatever the frame rate.
        self.tracker = ByteTrackTracker(lost_track_buffer=max(1, round(lost_track_s * 30)), frame_rate=rate,
                                        minimum_consecutive_frames=1, track_activation_threshold=score_threshold,
                                        high_conf_det_threshold=score_threshold)
        self.window = max(1, int(smoothing))
        self.history: dict[int, deque] = {}

    def identify(self, boxes: list[Box], scores: list[float], time_s: float | None = None) -> list[int | None]:
        """The identity of each box (None for a face seen for the first time, or a weak detection that continues
        no track), in the boxes' order."""
        if not boxes:
            self.tracker.update(sv.Detections.empty(), timestamp=time_s)
            self._forget_lost()
            return []
        xyxy = np.array([[x, y, x + w, y + h] for x, y, w, h in boxes], dtype=float)
        detections = sv.Detections(xyxy=xyxy, confidence=np.asarray(scores, dtype=float),
                                   data={"index": np.arange(len(boxes))})
        tracked = self.tracker.update(detections, timestamp=time_s)
        ids: list[int | None] = [None] * len(boxes)
        for index, track_id in zip(tracked.data["index"], tracked.tracker_id):
            if track_id >= 0:
                ids[int(index)] = int(track_id)
        self._forget_lost()
        return ids

    def smooth(self, ids: list[int | None], probabilities: np.ndarray) -> list[np.ndarray]:
        """Each face's probabilities averaged over its identity's last `smoothing` frames."""
        out = []
        for track_id, p in zip(ids, probabilities):
            if track_id is None:
                out.append(p)
                continue
            history = self.history.setdefault(track_id, deque(maxlen=self.window))
            history.append(p)
            out.append(np.mean(history, axis=0))
        return out

    def _forget_lost(self) -> None:
        alive = {t.tracker_id for t in self.tracker.tracks}
        for track_id in [t for t in self.history if t not in alive]:
            del self.history[track_id]
