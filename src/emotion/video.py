"""Frames in (camera, video file, stream URL, image or folder of images) and out (video, window)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from emotion.engine import Face
from emotion.errors import EmotionError
from emotion.inputs import read_image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
# A stream may drop a few frames; this many failures in a row means it has ended.
MAX_CONSECUTIVE_FAILURES = 25


@dataclass
class Frame:
    index: int
    time_s: float
    image: np.ndarray


class Source:
    """Iterates frames; `failed` counts frames that could not be decoded and were skipped."""

    def __init__(self, description: str, fps: float, size: tuple[int, int], capture=None,
                 images: list[Path] | None = None, live: bool = False):
        self.description, self.fps, self.size = description, fps, size
        self.capture, self.images, self.live = capture, images, live
        self.failed = 0
        self.expected = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture is not None and not live else 0

    @property
    def continuous(self) -> bool:
        """Frames of one scene (camera, video, stream), as opposed to unrelated images."""
        return self.images is None

    def __iter__(self) -> Iterator[Frame]:
        if self.images is not None:
            yield from self._images()
        else:
            yield from self._capture()

    def _images(self):
        for index, path in enumerate(self.images):
            image = read_image(path)
            if image is None:
                self.failed += 1
                log.warning("skipping unreadable image %s", path)
                continue
            yield Frame(index, 0.0, image)

    def _capture(self):
        start, index, in_a_row = time.perf_counter(), 0, 0
        try:
            while True:
                ok, image = self.capture.read()
                if ok and image is not None:
                    in_a_row = 0
                    t = time.perf_counter() - start if self.live else index / self.fps
                    yield Frame(index, t, image)
                elif (self.live or index < self.expected) and in_a_row < MAX_CONSECUTIVE_FAILURES:
                    self.failed += 1
                    in_a_row += 1
                else:
                    return
                index += 1
        finally:
            self.capture.release()


def _capture_source(capture, description: str, live: bool) -> Source:
    if not capture.isOpened():
        raise EmotionError(f"cannot open {description}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    if not live and size[0] <= 0:
        raise EmotionError(f"cannot read video {description}")
    return Source(description, fps if 0 < fps < 1000 else 25.0, size, capture=capture, live=live)


def open_source(camera: int | None = None, source: str | None = None) -> Source:
    if camera is not None:
        capture = cv2.VideoCapture(int(camera))
        if not capture.isOpened():
            raise EmotionError(f"camera {camera} cannot be opened (no camera, unplugged, or in use)")
        return _capture_source(capture, f"camera {camera}", live=True)
    if not source:
        raise EmotionError("nothing to read: give camera=<index> or source=<video, image, folder or URL>")
    source = str(source)
    if "://" in source:
        return _capture_source(cv2.VideoCapture(source), f"stream {source}", live=True)
    path = Path(source).expanduser()
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            raise EmotionError(f"no images in folder {path}")
        return Source(f"folder {path}", 1.0, (0, 0), images=images)
    if not path.is_file():
        raise EmotionError(f"source not found: {path}")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return Source(f"image {path}", 1.0, (0, 0), images=[path])
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened() or int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) <= 0:
        capture.release()
        raise EmotionError(f"cannot read video {path} (not a video, or a codec OpenCV lacks)")
    return _capture_source(capture, f"video {path}", live=False)


class VideoOutput:
    """An mp4 at the source's frame rate; its size is taken from the first frame."""

    def __init__(self, path: str | Path, fps: float):
        self.path, self.fps, self.writer = Path(path), fps, None

    def write(self, frame: np.ndarray) -> None:
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            height, width = frame.shape[:2]
            self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (width, height))
            if not self.writer.isOpened():
                raise EmotionError(f"cannot write video {self.path}")
        self.writer.write(frame)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()


class Display:
    """A window when a display exists (`q` or Esc quits); otherwise nothing."""

    TITLE = "emotion"

    def __init__(self, mode: bool | str = "auto"):
        wanted = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) if mode == "auto" else bool(mode)
        self.enabled = False
        if wanted:
            try:
                cv2.namedWindow(self.TITLE, cv2.WINDOW_NORMAL)
                self.enabled = True
            except cv2.error:
                log.warning("no GUI support in this OpenCV build: running headless")

    def show(self, frame: np.ndarray) -> bool:
        """False when the user asked to quit."""
        if not self.enabled:
            return True
        cv2.imshow(self.TITLE, frame)
        return (cv2.waitKey(1) & 0xFF) not in (ord("q"), 27)

    def close(self) -> None:
        if self.enabled:
            cv2.destroyWindow(self.TITLE)


def annotate(frame: np.ndarray, faces: list[Face], classes: list[str], status: str = "") -> np.ndarray:
    """Box, label and confidence per face, a bar per class, and `status` in the corner."""
    out = frame.copy()
    scale = max(0.4, min(out.shape[:2]) / 720)
    for face in faces:
        x, y, w, h = face.box
        cv2.rectangle(out, (x, y), (x + w, y + h), (0, 220, 0), max(1, int(2 * scale)))
        text = f"{face.label} {face.confidence:.0%}"
        cv2.putText(out, text, (x, max(12, y - 6)), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, (0, 220, 0),
                    max(1, int(2 * scale)), cv2.LINE_AA)
        bar_w, row = max(40, int(w * 0.6)), max(8, int(11 * scale))
        left = x + w + 4 if x + w + 4 + bar_w < out.shape[1] else max(0, x - bar_w - 4)
        for i, (name, p) in enumerate(zip(classes, face.probabilities)):
            top = y + i * row
            if top + row > out.shape[0]:
                break
            cv2.rectangle(out, (left, top), (left + int(bar_w * float(p)), top + row - 2), (0, 180, 255), -1)
            cv2.putText(out, name[:4], (left + 2, top + row - 3), cv2.FONT_HERSHEY_PLAIN, 0.6 * scale,
                        (255, 255, 255), 1, cv2.LINE_AA)
    if status:
        cv2.putText(out, status, (8, int(20 * scale) + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, (255, 255, 255),
                    max(1, int(2 * scale)), cv2.LINE_AA)
    return out
