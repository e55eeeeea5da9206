"""One camera's capture thread: every frame it delivers goes to its recording, one every 1/fps seconds of its
clock is offered to the classifier, and its status (frames, sound level, the preview) is kept for the page.

Recording never waits for classification: a sample goes into the classifier's backlog, or is counted as missed
when that is full, and the frame goes on to the recorder either way.
"""

from __future__ import annotations

import math
import threading
import time

from omegaconf import DictConfig

from emotion.core.errors import EmotionError
from emotion.live.classify import LiveClassifier, Sample
from emotion.live.feed import End, Sound
from emotion.live.folder import Layout
from emotion.live.segments import SegmentRecorder
from emotion.live.sources import Reader
from emotion.live.state import CameraStatus

POLL_S = 0.2


class Capture(threading.Thread):
    def __init__(self, number: int, reader: Reader, status: CameraStatus, layout: Layout, record: DictConfig,
                 fps: float, classifier: LiveClassifier):
        super().__init__(name=f"capture {status.viewer}", daemon=True)
        self.number, self.reader, self.status, self.fps, self.classifier = number, reader, status, fps, classifier
        self.recorder = SegmentRecorder(layout.segments(status.viewer), reader.rate, record, reader.sound,
                                        self._closed)

    def run(self) -> None:
        problem = None
        try:
            problem = self._capture()
            self.recorder.close()
        except EmotionError as e:  # a storage fault: the open segment is given up, the complete ones stay
            problem = str(e)
        self.status.ended(problem)

    def _capture(self) -> str | None:
        feed, next_s = self.reader.feed, 0.0
        while True:
            item = feed.get(POLL_S)
            if item is None:
                if feed.stopping.is_set():  # a reader stuck on a silent stream does not hold the end up
                    return None
                continue
            if isinstance(item, End):
                return item.problem
            if isinstance(item, Sound):
                self.recorder.audio(item.frame, item.time_s)
                self.status.heard(item.frame.to_ndarray(), time.time())
                continue
            if self.status.started_wall is None:
                self.status.started_wall = self.reader.started
            segment = self.recorder.video(item.frame(), item.time_s)
            self.status.recorded(self.recorder.frames, feed.dropped, time.time())
            if item.time_s >= next_s - 1e-6:  # the first frame at or after every 1/fps s, as moments samples
                next_s = (math.floor(item.time_s * self.fps + 1e-6) + 1) / self.fps
                sample = Sample(self.number, self.recorder.frames - 1, item.time_s, time.time(), item.bgr(), segment)
                self.status.preview(sample.image)
                self.status.sampled(self.classifier.offer(sample))

    def _closed(self, k: int, path, frames: int) -> None:
        self.status.segments = k
        self.classifier.segment_closed(self.number, k)
