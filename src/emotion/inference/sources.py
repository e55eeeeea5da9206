"""Frames in: a camera, a video file or stream URL, an image or a folder of images.

Video files and streams are decoded by PyAV (FFmpeg), and every frame carries
its presentation time from the container: phones record at variable frame
rates, so `frame index / fps` would put a variable-frame-rate recording on the
wrong second of the episode. Cameras are read by OpenCV and timed by the wall
clock. Images are stills: unrelated to each other, never tracked across.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np

from emotion.core.errors import EmotionError, first_line
from emotion.core.images import IMAGE_SUFFIXES, images_in, read_image

log = logging.getLogger(__name__)

# A sampled video skips its B-frames only when it has at least this many frames per sample.
SPARE_FRAMES = 6

# A camera may drop a few frames; this many failures in a row means it has gone.
MAX_CONSECUTIVE_FAILURES = 25


class Frame:
    """One frame: its index, its time in seconds from the start, and its BGR image.

    A decoded video frame becomes an image only when `image` is first read: a
    screening samples 3 frames a second of a 25-30 fps recording, and converting
    the others cost more than decoding them.
    """

    __slots__ = ("index", "time_s", "_image", "_decoded")

    def __init__(self, index: int, time_s: float, image: np.ndarray | None = None, decoded=None):
        self.index, self.time_s, self._image, self._decoded = index, time_s, image, decoded

    @property
    def image(self) -> np.ndarray:
        if self._image is None:
            self._image, self._decoded = self._decoded.to_ndarray(format="bgr24"), None
        return self._image


class Source:
    """Iterates frames. `expected` is how many the source announces (0: unknown), `read` how many it delivered,
    `failed` how many could not be decoded and were skipped; `continuous` is true for frames of one scene
    (camera, video, stream), false for unrelated images."""

    continuous = True
    live = False

    def __init__(self, description: str, fps: float, size: tuple[int, int] = (0, 0), expected: int = 0):
        self.description, self.fps, self.size, self.expected = description, fps, size, expected
        self.read, self.failed, self.duration_s = 0, 0, 0.0
        self.finished = False  # read to its end (not stopped by the caller)

    def accounting(self) -> dict:
        """Frames announced, read and failed; `missing`: announced but never there (a file cut off), known once
        the source was read to its end."""
        missing = max(0, self.expected - self.read - self.failed) if self.expected and self.finished else 0
        return {"expected_frames": self.expected, "read_frames": self.read, "failed_frames": self.failed,
                "missing_frames": missing}

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def sampled(self, fps: float) -> Iterator[Frame]:
        """The first frame at or after every 1/fps seconds of presentation time, its image converted; the
        frames in between are decoded (they must be) but never become images."""
        next_s = 0.0
        for frame in self:
            if frame.time_s < next_s - 1e-6:
                continue
            next_s = (math.floor(frame.time_s * fps + 1e-6) + 1) / fps
            frame.image  # noqa: B018 - converted here, the only frames that become images
            yield frame


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
            self.read += 1
            yield Frame(index, 0.0, image)
        self.finished = True


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
                    self.read += 1
                    yield Frame(index, time.perf_counter() - start, image)
                else:
                    self.failed += 1
                    in_a_row += 1
                index += 1
        finally:
            self.capture.release()


class Container(Source):
    """A video file or stream URL through PyAV; frame times are presentation times from the stream's start."""

    def __init__(self, location: str, description: str, live: bool = False, sample_fps: float | None = None):
        try:
            self.container = av.open(location, timeout=30 if live else None)
        except (av.error.FFmpegError, OSError) as e:
            raise EmotionError(f"cannot read {description} ({first_line(e)})") from None
        if not self.container.streams.video:
            self.container.close()
            raise EmotionError(f"cannot read {description}: it has no video stream")
        self.stream = self.container.streams.video[0]
        rate = self.stream.average_rate or self.stream.guessed_rate
        # Played frame by frame, a video decodes fastest with frame threads. Sampled at `sample_fps` (a few
        # frames a second for a screening), slice threads (each frame cut among the threads) wait less, and
        # when the video has frames to spare, those no other frame refers to (B-frames) are not decoded at
        # all: with at most 5 of them in a row the others still come at least `sample_fps` apart.
        self.stream.thread_type = "SLICE" if sample_fps else "AUTO"
        if sample_fps and rate and float(rate) >= SPARE_FRAMES * sample_fps:
            self.stream.codec_context.skip_frame = "NONREF"
        self.live = live
        context = self.stream.codec_context
        super().__init__(description, float(rate) if rate else 25.0, (context.width, context.height),
                         0 if live else int(self.stream.frames or 0))
        duration = self.container.duration
        self.duration_s = float(duration / av.time_base) if duration and not live else 0.0

    def __iter__(self):
        start = float(self.stream.start_time * self.stream.time_base) if self.stream.start_time is not None else None
        index = 0
        try:
            for packet in self._packets():
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError as e:
                    self.failed += 1
                    log.warning("%s: skipping a frame that cannot be decoded (%s)", self.description, first_line(e))
                    continue
                self.read += bool(packet.size)  # a skipped B-frame was read, only not decoded
                for frame in decoded:
                    if frame.time is None:
                        seconds = index / self.fps
                    else:
                        start = frame.time if start is None else start
                        seconds = frame.time - start
                    yield Frame(index, seconds, decoded=frame)
                    index += 1
            self.finished = True
        finally:
            self.container.close()
        missing = self.accounting()["missing_frames"]
        if missing:
            log.warning("%s ends after %d of the %d frames its container announces: %d missing (a damaged or "
                        "cut-off file)", self.description, self.read + self.failed, self.expected, missing)

    def _packets(self):
        """The stream's packets up to where the file can be read; a damaged container ends the stream there."""
        packets = self.container.demux(self.stream)
        while True:
            try:
                yield next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError as e:
                log.warning("%s: cannot read past this point (%s)", self.description, first_line(e))
                return


def open_source(camera: int | None = None, source: str | None = None, sample_fps: float | None = None) -> Source:
    """A camera by index, or a video file, stream URL, image or folder of images; with `sample_fps`, a video is
    decoded for that many samples a second, not for playing (see `Container`)."""
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
    return Container(str(path), f"video {path}", sample_fps=sample_fps)
