"""What a source hands its capture thread: video frames and sound in order, through a ring of frames waiting for
the recorder (`record.buffer_s`). A frame that finds the ring full (the recorder fell that far behind) is dropped
and counted, as a camera driver drops it; a file read as fast as it decodes waits instead (`block`)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import av
import numpy as np


@dataclass
class Video:
    """A frame: its index and time on the source's clock (0 at its first frame); a BGR image from a camera, or the
    decoded frame of a file or stream (converted to an image only when sampled or shown)."""

    index: int
    time_s: float
    image: np.ndarray | None = None
    decoded: av.VideoFrame | None = None

    def bgr(self) -> np.ndarray:
        if self.image is None:
            self.image = self.decoded.to_ndarray(format="bgr24")
        return self.image

    def frame(self) -> av.VideoFrame | np.ndarray:
        return self.decoded if self.decoded is not None else self.image


@dataclass
class Sound:
    """Mono float sound at the recorder's rate that began at `time_s` on the source's clock."""

    time_s: float
    frame: av.AudioFrame


@dataclass
class End:
    """The source ended: `problem` says why when it was not the end of a file (a camera unplugged, a stream cut)."""

    problem: str | None = None


class Feed:
    def __init__(self, ring: int, block: bool):
        self.ring, self.block = ring, block
        self.items: deque = deque()
        self.frames_waiting = 0
        self.delivered = self.dropped = 0
        self.changed = threading.Condition()
        self.stopping = threading.Event()  # the screening is ending: readers stop at their next item

    def video(self, item: Video) -> None:
        with self.changed:
            self.delivered += 1
            while self.block and self.frames_waiting >= self.ring and not self.stopping.is_set():
                self.changed.wait(0.1)
            if self.frames_waiting >= self.ring and not self.block:
                self.dropped += 1
                return
            self.frames_waiting += 1
            self.items.append(item)
            self.changed.notify_all()

    def sound(self, item: Sound) -> None:
        self._put(item)

    def end(self, problem: str | None = None) -> None:
        self._put(End(problem))

    def _put(self, item) -> None:
        with self.changed:
            self.items.append(item)
            self.changed.notify_all()

    def get(self, timeout: float):
        """The next item, or None when none came within `timeout` seconds."""
        with self.changed:
            if not self.items:
                self.changed.wait(timeout)
            if not self.items:
                return None
            item = self.items.popleft()
            if isinstance(item, Video):
                self.frames_waiting -= 1
                self.changed.notify_all()
            return item
