"""One camera's recording written to disk as it is captured: H.264 video (and AAC sound where the source has
some) in segments of about `record.segment_s` seconds, each under a hidden temporary name until it is complete.

Each segment is a file of its own (its own encoder, starting on a key frame), so a crash or a pulled cable loses
at most the segment in progress: the others are whole MP4 files under their final names. Frames keep their
capture time (milliseconds, a variable frame rate where the camera's is), so the segments joined are the camera's
recording on its own clock, time 0 its first frame.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from omegaconf import DictConfig

from emotion.core.outputs import StorageError
from emotion.live.held import Held

MS = Fraction(1, 1000)
SOUND_RATE = 48000  # recorded sound: mono AAC at this rate (what sync by sound decodes to its own rate)
# A gap in the sound longer than this is filled with silence, so the rest of the segment stays in place.
SOUND_GAP_S = 0.1
# Each camera's encoder runs on one thread: several cameras share the cores, and frame threads would add latency.
ENCODER_THREADS = 1
# No B-frames: a segment's packets are then in presentation order, so segments joined end to end always advance
# (B-frames would start each segment's decoding clock before the previous segment's end).
NO_B_FRAMES = {"bf": "0"}


class SegmentRecorder:
    """Frames and sound in, segment files out; `closed(k, path, frames)` is called as segment k gets its name."""

    def __init__(self, folder: Path, rate: float, cfg: DictConfig, sound: bool,
                 closed: Callable[[int, Path, int], None]):
        self.folder, self.rate, self.cfg, self.sound, self.closed = folder, rate, cfg, sound, closed
        self.k, self.frames, self.segment_frames = 0, 0, 0
        self.file: Held | None = None
        self.container = self.video_stream = self.audio_stream = None
        self.last_pts, self.sound_next = -1, None

    def path(self, k: int) -> Path:
        return self.folder / f"segment-{k:05d}.mp4"

    def video(self, frame: av.VideoFrame | np.ndarray, time_s: float) -> int:
        """Write a frame captured at `time_s`; returns the index of the segment it went into."""
        if self.container is None or time_s >= self.k * self.cfg.segment_s:
            self._next(int(time_s // self.cfg.segment_s) + 1, frame)
        if isinstance(frame, np.ndarray):
            frame = av.VideoFrame.from_ndarray(frame, format="bgr24")
        self.last_pts = max(round(time_s * 1000), self.last_pts + 1)  # strictly increasing, as the encoder needs
        frame.pts, frame.time_base = self.last_pts, MS
        self._guarded(lambda: self._mux(self.video_stream.encode(frame)))
        self.frames += 1
        self.segment_frames += 1
        return self.k

    def audio(self, frame: av.AudioFrame, time_s: float) -> None:
        """Write sound (mono float at SOUND_RATE) that began at `time_s`; sound before the first frame is dropped."""
        if self.audio_stream is None:
            return
        start = round(time_s * SOUND_RATE)
        if self.sound_next is None:
            self.sound_next = start
        elif start - self.sound_next > SOUND_GAP_S * SOUND_RATE:
            self.audio(silence(start - self.sound_next), self.sound_next / SOUND_RATE)
        frame.pts, frame.time_base, frame.sample_rate = self.sound_next, Fraction(1, SOUND_RATE), SOUND_RATE
        self.sound_next += frame.samples
        self._guarded(lambda: self._mux(self.audio_stream.encode(frame)))

    def close(self) -> None:
        """Finish the open segment under its final name."""
        if self.container is None:
            return
        k, frames = self.k, self.segment_frames
        self._guarded(self._flush)
        self.container = self.video_stream = self.audio_stream = None
        self.file.commit()
        self.closed(k, self.path(k), frames)

    def abort(self) -> None:
        """Give up the open segment (its temporary file is removed), as a crash would lose it."""
        if self.container is not None:
            try:
                self.container.close()
            except (av.error.FFmpegError, OSError):
                pass
            self.container = None
            self.file.discard()

    def _next(self, k: int, first: av.VideoFrame | np.ndarray) -> None:
        self.close()
        height, width = first.shape[:2] if isinstance(first, np.ndarray) else (first.height, first.width)
        self.k, self.segment_frames, self.sound_next = k, 0, None
        self.file = Held(self.path(k))
        try:
            self.container = av.open(str(self.file.partial), "w")
            video = self.container.add_stream(self.cfg.codec, rate=max(1, round(self.rate)),
                                              options={"preset": self.cfg.preset, "crf": str(self.cfg.crf),
                                                       **NO_B_FRAMES})
            video.width, video.height, video.pix_fmt, video.time_base = width, height, "yuv420p", MS
            video.codec_context.time_base = MS
            video.thread_count = ENCODER_THREADS
            self.video_stream = video
            self.audio_stream = (self.container.add_stream("aac", rate=SOUND_RATE, layout="mono")
                                 if self.sound else None)
        except (av.error.FFmpegError, OSError) as e:
            self.container = None
            self.file.discard()
            raise StorageError(self.path(k), e if isinstance(e, OSError) else str(e)) from e

    def _mux(self, packets) -> None:
        self.container.mux(packets)

    def _flush(self) -> None:
        for stream in (self.video_stream, self.audio_stream):
            if stream is not None:
                self._mux(stream.encode(None))
        self.container.close()

    def _guarded(self, write: Callable[[], None]) -> None:
        """A write; on failure the open segment is given up (the complete ones stay) and a full disk is named."""
        try:
            write()
        except (av.error.FFmpegError, OSError) as e:
            path = self.path(self.k)
            self.abort()
            raise StorageError(path, e if isinstance(e, OSError) else str(e)) from e


def silence(samples: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(np.zeros((1, samples), np.float32), format="fltp", layout="mono")
    frame.sample_rate = SOUND_RATE
    return frame
