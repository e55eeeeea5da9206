"""What the page shows, kept up to date by the capture and classifier threads: each camera's status (frames,
drops, sound level, its latest sample and faces, alerts) and the episode's clock and timeline."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import replace

import cv2
import numpy as np
from omegaconf import DictConfig

from emotion.inference.engine import FrameResult
from emotion.inference.video import annotate
from emotion.live.alerts import camera_alerts
from emotion.live.timeline import LiveTimeline

JPEG_QUALITY = 80


class CameraStatus:
    def __init__(self, viewer: str, source: str, sound: bool, silence_db: float):
        self.viewer, self.source, self.sound, self.silence_db = viewer, source, sound, silence_db
        self.state, self.problem = "live", None
        self.opened_wall = time.time()
        self.started_wall: float | None = None  # wall time of its recording's time 0
        self.frames = self.dropped = self.segments = 0
        self.offered = self.missed = self.classified_n = 0
        self.last_frame_wall = self.last_face_wall = self.last_loud_wall = self.sample_wall = None
        self.recent: deque = deque(maxlen=30)
        self.level_db: float | None = None
        self.image: np.ndarray | None = None
        self.image_version = 0
        self.faces: list = []
        self.lock = threading.Lock()

    def recorded(self, frames: int, dropped: int, now: float) -> None:
        self.frames, self.dropped, self.last_frame_wall = frames, dropped, now
        self.recent.append(now)

    def heard(self, samples: np.ndarray, now: float) -> None:
        rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
        self.level_db = round(20 * np.log10(max(rms, 1e-6)), 1)
        if self.level_db >= self.silence_db:
            self.last_loud_wall = now

    def preview(self, image: np.ndarray) -> None:
        with self.lock:
            self.image, self.image_version = image, self.image_version + 1

    def sampled(self, queued: bool) -> None:
        self.offered += 1
        self.missed += not queued

    def classified(self, wall: float, result: FrameResult) -> None:
        with self.lock:
            self.faces, self.sample_wall = result.faces, wall
        self.classified_n += 1
        if result.faces:
            self.last_face_wall = wall

    def ended(self, problem: str | None) -> None:
        self.state, self.problem = ("failed" if problem else "ended"), problem

    def fps(self) -> float:
        return round((len(self.recent) - 1) / (self.recent[-1] - self.recent[0]), 1) if len(self.recent) > 1 else 0.0

    def jpeg(self, classes: list[str], width: int) -> bytes | None:
        """The latest sample with the latest faces drawn (box, id, emotion), `width` pixels wide."""
        with self.lock:
            image, faces = self.image, self.faces
        if image is None:
            return None
        scale = width / image.shape[1]  # scaled first, so that boxes and labels are drawn at the page's size
        shown = cv2.resize(image, (width, round(image.shape[0] * scale)),
                           interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        faces = [replace(f, box=tuple(round(v * scale) for v in f.box)) for f in faces]
        ok, data = cv2.imencode(".jpg", annotate(shown, faces, classes), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        return data.tobytes() if ok else None

    def view(self, now: float, alert: DictConfig) -> dict:
        with self.lock:
            faces, sample_wall = self.faces, self.sample_wall
        return {"viewer": self.viewer, "source": self.source, "state": self.state, "frames": self.frames,
                "dropped": self.dropped, "segments": self.segments, "fps": self.fps(), "sound": self.sound,
                "level_db": self.level_db, "preview": self.image_version, "faces_present": len(faces),
                "faces": [{"id": f.track_id, "emotion": f.label, "confidence": round(f.confidence, 3)} for f in faces],
                "samples": {"due": self.offered, "classified": self.classified_n, "missed": self.missed,
                            "waiting": self.offered - self.missed - self.classified_n},
                "sample_wall": sample_wall, "lag_s": round(now - sample_wall, 2) if sample_wall else None,
                "alerts": camera_alerts(self, now, alert)}


class LiveState:
    def __init__(self, cameras: list[CameraStatus], classes: list[str], alert: DictConfig, scoring: DictConfig):
        self.cameras, self.classes, self.alert = cameras, classes, alert
        self.started_wall = time.time()
        self.mark_wall: float | None = None
        self.phase, self.note = "live", ""
        self.timeline = LiveTimeline(len(cameras), classes, scoring)
        self.closed = False

    def classified(self, camera: int, time_s: float, wall: float, result: FrameResult) -> None:
        self.cameras[camera].classified(wall, result)
        self.timeline.add(camera, time_s, result.faces)

    def clock(self, now: float) -> dict:
        """The episode's clock: from the operator's mark, else (until there is one) from the screening's start."""
        zero = self.mark_wall if self.mark_wall is not None else self.started_wall
        return {"marked": self.mark_wall is not None, "zero_wall": zero, "seconds": round(now - zero, 1)}

    def snapshot(self, timeline_seen: int) -> tuple[dict, int]:
        """What the page is sent now; the timeline only when it changed since version `timeline_seen`."""
        now = time.time()
        clock = self.clock(now)
        offsets = [c.started_wall - clock["zero_wall"] if c.started_wall is not None else None for c in self.cameras]
        timeline, version = self.timeline.current([c.viewer for c in self.cameras], offsets, clock["seconds"])
        shown = {"now": now, "phase": self.phase, "note": self.note, "clock": clock,
                 "cameras": [c.view(now, self.alert) for c in self.cameras]}
        if version != timeline_seen:
            shown["timeline"] = timeline
        return shown, version
