"""The readers of a live screening's sources, each on its own thread into its `Feed`: a camera (OpenCV) and its
microphone (any FFmpeg input device: `alsa:hw:1`), a video file played at its frame rate as a camera would
deliver it (or as fast as it decodes), a stream URL as it comes. Every source's clock starts at its first frame;
files and streams keep their presentation times, cameras and microphones are timed by the wall clock."""

from __future__ import annotations

import math
import threading
import time

import av
from omegaconf import DictConfig

from emotion.core.errors import EmotionError, first_line
from emotion.inference.sources import Camera
from emotion.live.feed import Feed, Sound, Video
from emotion.live.segments import SOUND_RATE

STREAM_TIMEOUT_S = 10  # a stream silent this long has stopped


class Reader:
    """Reads a source into `feed` on a thread, where up to `buffer_s` seconds of frames wait for the recorder;
    `started` is the wall-clock time of its first frame."""

    sound = False

    def __init__(self, description: str, rate: float, buffer_s: float, block: bool = False):
        self.description, self.rate = description, rate
        self.feed = Feed(max(2, math.ceil(buffer_s * rate)), block)
        self.started: float | None = None
        self.zero: float | None = None  # perf_counter() at the first frame
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for target in self._targets():
            thread = threading.Thread(target=self._guarded, args=(target,), name=self.description, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        self.feed.stopping.set()

    def _first_frame(self) -> None:
        if self.zero is None:
            self.zero, self.started = time.perf_counter(), time.time()

    def _guarded(self, target) -> None:
        try:
            target()
        except (av.error.FFmpegError, OSError, EmotionError) as e:
            self.feed.end(f"{self.description} stopped: {first_line(e)}")

    def _targets(self):
        raise NotImplementedError


class CameraReader(Reader):
    """An OpenCV camera, with its microphone when one is given (`format:device`, an FFmpeg input device)."""

    def __init__(self, index: int, microphone: str | None, buffer_s: float):
        self.camera = Camera(index)  # an EmotionError now when it does not open
        super().__init__(f"camera {index}", self.camera.fps, buffer_s)
        self.microphone = microphone
        self.sound = bool(microphone)
        self.mic = _open_microphone(microphone) if microphone else None

    def _targets(self):
        return [self._frames] + ([self._listen] if self.mic is not None else [])

    def _frames(self) -> None:
        for index, frame in enumerate(self.camera):
            if self.feed.stopping.is_set():
                break
            self._first_frame()
            self.feed.video(Video(index, time.perf_counter() - self.zero, image=frame.image))
        self.feed.end(None if self.feed.stopping.is_set() else
                      f"{self.description} stopped delivering frames (unplugged, or in use elsewhere)")

    def _listen(self) -> None:
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=SOUND_RATE)
        with self.mic:
            for frame in self.mic.decode(audio=0):
                if self.feed.stopping.is_set():
                    return
                for out in resampler.resample(frame):
                    if self.zero is not None:  # sound before the first frame has no place on the recording
                        self.feed.sound(Sound(time.perf_counter() - self.zero - out.samples / SOUND_RATE, out))


def _open_microphone(spec: str):
    kind, _, device = spec.partition(":")
    try:
        mic = av.open(device, format=kind)
    except (av.error.FFmpegError, OSError, ValueError) as e:
        raise EmotionError(f"microphone {spec} cannot be opened ({first_line(e)})") from None
    if not mic.streams.audio:
        mic.close()
        raise EmotionError(f"microphone {spec} gives no sound")
    return mic


class ContainerReader(Reader):
    """A video file (played at its frame rate when `pace`, as a camera delivers frames; else as fast as it decodes,
    waiting for the recorder) or a stream URL (as it comes), with its sound."""

    def __init__(self, location: str, description: str, live: bool, pace: bool, buffer_s: float):
        self.pace = pace and not live
        try:
            self.container = av.open(location, timeout=STREAM_TIMEOUT_S if live else None)
        except (av.error.FFmpegError, OSError) as e:
            raise EmotionError(f"cannot read {description} ({first_line(e)})") from None
        if not self.container.streams.video:
            self.container.close()
            raise EmotionError(f"cannot read {description}: it has no video stream")
        video = self.container.streams.video[0]
        super().__init__(description, float(video.average_rate or video.guessed_rate or 25), buffer_s,
                         block=not (live or pace))
        self.sound, self.live = bool(self.container.streams.audio), live

    def _targets(self):
        return [self._read]

    def _read(self) -> None:
        streams = [self.container.streams.video[0], *self.container.streams.audio[:1]]
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=SOUND_RATE)
        origin, index = None, 0
        with self.container:
            for packet in self.container.demux(*streams):
                if self.feed.stopping.is_set():
                    break
                for frame in packet.decode():
                    if isinstance(frame, av.VideoFrame):
                        origin = frame.time if origin is None else origin
                        at = frame.time - origin if frame.time is not None else index / self.rate
                        self._deliver(index, frame, at)
                        index += 1
                    elif origin is not None and frame.time is not None and frame.time >= origin:
                        for out in resampler.resample(frame):
                            self.feed.sound(Sound(frame.time - origin, out))
        ended = self.live and not self.feed.stopping.is_set()
        self.feed.end(f"{self.description} stopped: the stream ended" if ended else None)

    def _deliver(self, index: int, frame: av.VideoFrame, time_s: float) -> None:
        self._first_frame()
        if self.pace:
            wait = self.zero + time_s - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
        self.feed.video(Video(index, time_s, decoded=frame))


def open_reader(camera: int | None, location: str | None, microphone: str | None, record: DictConfig) -> Reader:
    """A reader of a camera by index, or of a video file or stream URL, as the `record` group says; an
    `EmotionError` when it cannot be opened."""
    if camera is not None:
        return CameraReader(camera, microphone, record.buffer_s)
    if "://" in location:
        return ContainerReader(location, f"stream {location}", True, False, record.buffer_s)
    return ContainerReader(location, f"video {location}", False, record.pace, record.buffer_s)
