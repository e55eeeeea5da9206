"""Frames out: an annotated video file, a window, and the drawing of faces on a frame."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import av
import cv2
import numpy as np

from emotion.core.errors import EmotionError
from emotion.core.outputs import StorageError
from emotion.inference.engine import Face

log = logging.getLogger(__name__)

class VideoOutput:
    """An mp4 at the source's frame rate; its size is taken from the first frame.

    OpenCV's writer reports no write errors, so the closed file is read back (packets only, nothing decoded):
    a file holding fewer frames than were written (a full disk) is a `StorageError`.
    """

    def __init__(self, path: str | Path, fps: float, name: str | Path | None = None):
        self.path, self.fps, self.writer, self.frames = Path(path), fps, None, 0
        self.name = name or path  # what messages call it (the final name of a file written under a temporary one)

    def write(self, frame: np.ndarray) -> None:
        if self.writer is None:
            height, width = frame.shape[:2]
            self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (width, height))
            if not self.writer.isOpened():
                raise EmotionError(f"cannot write video {self.name}")
        self.writer.write(frame)
        self.frames += 1

    def close(self) -> None:
        if self.writer is None:
            return
        self.writer.release()
        try:
            with av.open(str(self.path)) as written:
                packets = sum(1 for p in written.demux(written.streams.video[0]) if p.size)
        except (av.error.FFmpegError, IndexError, OSError):
            packets = 0
        if packets < self.frames:
            raise StorageError(self.name, f"the video holds {packets} of the {self.frames} frames written "
                                          "(is the disk full?)")


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
        text = f"{'' if face.track_id is None else f'#{face.track_id} '}{face.label} {face.confidence:.0%}"
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
