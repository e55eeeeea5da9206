"""Frames in: a camera, a video file or stream URL, an image or a folder of images.

Video files and streams are decoded by PyAV (FFmpeg), and every frame carries
its presentation time from the container: phones record at variable frame
rates, so `frame index / fps` would put a variable-frame-rate recording on the
wrong second of the episode. Cameras are read by OpenCV and timed by the wall
clock. Images are stills: unrelated to each other, never tracked across.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from emotion.core.errors import EmotionError, first_line
from emotion.core.images import IMAGE_SUFFIXES, images_in, read_image

log = logging.getLogger(__name__)

# A camera may drop a few frames; this many failures in a row means it has gone.
MAX_CONSECUTIVE_FAILURES = 25


@dataclass
class Frame:
    index: int
    time_s: float
    image: np.ndarray


class Source:
    """Iterates frames. `failed` counts frames that could not be decoded and were skipped;
    `continuous` is true for frames of one scene (camera, video, stream), false for unrelated images."""

    continuous = True
    live = False

    def __init__(self, description: str, fps: float, size: tuple[int, int] = (0, 0), expected: int = 0):
        self.description, self.fps, self.size, self.expected = description, fps, size, expected
        self.failed = 0

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError


class Images(Source):
    continuous = False

    def __init__(self, description: str, paths: list[Path]):
        super().__init__(description, 1.0, expected=len(paths))
        self.paths = paths

    def __iter__(self):
        for index, path in enumerate(self.paths):
            image = read_image(path)
            if image is None:
                self.failed += 1
                log.warning("skipping unreadable image %s", path)
                continue
            yield Frame(index, 0.0, image)


class Camera(Source):
    live = True

    def __init__(self, index: int):
        self.capture = cv2.VideoCapture(int(index))
        if not self.capture.isOpened():
            raise EmotionError(f"camera {index} cannot be opened (no camera, unplugged, or in use)")
        fps = self.capture.get(cv2.CAP_PROP_FPS) or 0.0
        size = (int(self.capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self.capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        super().__init__(f"camera {index}", fps if 0 < fps < 1000 else 30.0, size)

    def __iter__(self):
        start, index, in_a_row = time.perf_counter(), 0, 0
        try:
            while in_a_row < MAX_CONSECUTIVE_FAILURES:
                ok, image = self.capture.read()
                if ok and image is not None:
                    in_a_row = 0
                    yield Frame(index, time.perf_counter() - start, image)
                else:
                    self.failed += 1
                    in_a_row += 1
                index += 1
        finally:
            self.capture.release()


class Container(Source):
    """A video file or stream URL through PyAV; frame times are presentation times from the stream's start."""

    def __init__(self, location: str, description: str, live: bool = False):
        try:
            self.container = av.open(location, timeout=30 if live else None)
        except (av.error.FFmpegError, OSError) as e:
            raise EmotionError(f"cannot read {description} ({first_line(e)})") from None
        if not self.container.streams.video:
            self.container.close()
            raise EmotionError(f"cannot read {description}: it has no video stream")
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        self.live = live
        rate = self.stream.average_rate or self.stream.guessed_rate
        context = self.stream.codec_context
        super().__init__(description, float(rate) if rate else 25.0, (context.width, context.height),
                         0 if live else int(self.stream.frames or 0))

    def __iter__(self):
        start = float(self.stream.start_time * self.stream.time_base) if self.stream.start_time is not None else None
        index = 0
        try:
            for packet in self.container.demux(self.stream):
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError as e:
                    self.failed += 1
                    log.warning("%s: skipping a frame that cannot be decoded (%s)", self.description, first_line(e))
                    continue
                for frame in decoded:
                    if frame.time is None:
                        seconds = index / self.fps
                    else:
                        start = frame.time if start is None else start
                        seconds = frame.time - start
                    yield Frame(index, seconds, frame.to_ndarray(format="bgr24"))
                    index += 1
        finally:
            self.container.close()


def open_source(camera: int | None = None, source: str | None = None) -> Source:
    if camera is not None:
        return Camera(camera)
    if not source:
        raise EmotionError("nothing to read: give camera=<index> or source=<video, image, folder or URL>")
    source = str(source)
    if "://" in source:
        return Container(source, f"stream {source}", live=True)
    path = Path(source).expanduser()
    if path.is_dir():
        images = images_in(path)
        if not images:
            raise EmotionError(f"no images in folder {path}")
        return Images(f"folder {path}", images)
    if not path.is_file():
        raise EmotionError(f"source not found: {path}")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return Images(f"image {path}", [path])
    return Container(str(path), f"video {path}")
