"""The trailer: the moments cut from the episode with their sound, joined in story order, checked.

PyAV (FFmpeg in the wheel; no system ffmpeg) decodes the episode around each
segment and re-encodes H.264 video and AAC audio. A segment keeps exactly the
source frames whose presentation time falls in [start, end), with their own
durations, and exactly the audio samples of that interval, so picture and
sound stay together across cuts. The written file is then opened again and its
frame count, duration and audio stream compared with what was cut.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from emotion.core.errors import EmotionError
from emotion.core.outputs import StorageError, atomic, is_storage_fault

log = logging.getLogger(__name__)

# Output presentation times count in 1/90000 s, as MPEG does: fine enough for any source's frame times.
TIME_BASE = Fraction(1, 90000)


@dataclass
class Media:
    duration_s: float
    fps: float
    frames: int
    width: int
    height: int
    audio: bool


def media_info(path: Path) -> Media:
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise EmotionError(f"{path} has no video stream")
            video = container.streams.video[0]
            duration = (float(container.duration / av.time_base) if container.duration
                        else float(video.duration * video.time_base) if video.duration else 0.0)
            rate = video.average_rate or video.guessed_rate or 25
            return Media(duration, float(rate), int(video.frames or 0), video.codec_context.width,
                         video.codec_context.height, bool(container.streams.audio))
    except av.error.FFmpegError as e:
        raise EmotionError(f"cannot read episode {path}: {str(e).splitlines()[0]}") from None


def _start(stream) -> float:
    return float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0


def _decoded(container, stream, start_s: float):
    """Frames of `stream` from the last keyframe at or before `start_s` (episode seconds) on."""
    container.seek(int((start_s + _start(stream)) / stream.time_base), stream=stream, backward=True, any_frame=False)
    for frame in container.decode(stream):
        if frame.time is not None:
            yield frame.time - _start(stream), frame


def frames_between(path: Path, times: list[float], width: int | None = 160):
    """The first frame at or after each time (seconds), as BGR arrays `width` wide (thumbnails), or as they are
    (width None)."""
    out = []
    try:
        with av.open(str(path)) as container:
            video = container.streams.video[0]
            for t in times:
                for time_s, frame in _decoded(container, video, t):
                    if time_s >= t - 1e-3:
                        size = {} if width is None else {
                            "width": width, "height": max(2, round(frame.height * width / frame.width / 2) * 2)}
                        out.append(frame.reformat(format="bgr24", **size).to_ndarray())
                        break
    except av.error.FFmpegError as e:
        raise EmotionError(f"cannot read {path}: {str(e).splitlines()[0]}") from None
    return out


def _cut_video(src, video, encoder, dst, start: float, end: float, offset: float) -> int:
    written = 0
    for time_s, frame in _decoded(src, video, start):
        if time_s < start - 1e-6:
            continue
        if time_s >= end - 1e-6:
            break
        out = frame.reformat(width=encoder.width, height=encoder.height, format="yuv420p")
        out.pts, out.time_base = round((offset + time_s - start) / TIME_BASE), TIME_BASE
        dst.mux(encoder.encode(out))
        written += 1
    return written


def _cut_audio(src, audio, fifo, start: float, end: float) -> None:
    """The samples of [start, end) into `fifo`, trimmed to the sample at both ends."""
    for time_s, frame in _decoded(src, audio, start):
        rate, n = frame.sample_rate, frame.samples
        if time_s + n / rate <= start:
            continue
        if time_s >= end:
            break
        first, last = max(0, round((start - time_s) * rate)), min(n, round((end - time_s) * rate))
        if last <= first:
            continue
        samples = frame.to_ndarray()
        planar = frame.format.is_planar
        part = samples[:, first:last] if planar else samples[:, first * len(frame.layout.channels):
                                                             last * len(frame.layout.channels)]
        trimmed = av.AudioFrame.from_ndarray(np.ascontiguousarray(part), format=frame.format.name,
                                             layout=frame.layout.name)
        trimmed.sample_rate = rate
        fifo.write(trimmed)


def cut_trailer(episode: Path, segments: list[tuple[float, float]], out: Path) -> dict:
    """Write the segments of `episode` (start, end seconds; story order) to `out`; returns what was cut.

    `out` appears only once complete and checked; a failed cut leaves no file.
    """
    media = media_info(episode)
    frames_per_segment, seconds = [], 0.0
    with atomic(out) as partial:
        try:
            with av.open(str(episode)) as src, av.open(str(partial), "w") as dst:
                video = src.streams.video[0]
                encoder = dst.add_stream("libx264", rate=Fraction(media.fps).limit_denominator(1001))
                encoder.width, encoder.height = media.width - media.width % 2, media.height - media.height % 2
                encoder.pix_fmt, encoder.time_base = "yuv420p", TIME_BASE
                encoder.codec_context.time_base = TIME_BASE  # else frame times are rounded to the nominal rate
                encoder.options = {"preset": "veryfast", "crf": "20"}
                audio = src.streams.audio[0] if media.audio else None
                if audio is not None:
                    sound = dst.add_stream("aac", rate=audio.rate, layout=audio.layout.name)
                    resampler = av.AudioResampler(format=sound.format.name, layout=sound.layout.name, rate=sound.rate)
                    fifo = av.AudioFifo()
                for start, end in segments:
                    frames_per_segment.append(_cut_video(src, video, encoder, dst, start, end, seconds))
                    if audio is not None:
                        _cut_audio(src, audio, fifo, start, end)
                    seconds += end - start
                dst.mux(encoder.encode(None))
                if audio is not None:
                    samples = 0
                    size = sound.codec_context.frame_size or 1024
                    while fifo.samples:
                        chunk = fifo.read(min(size, fifo.samples))
                        chunk.pts = None
                        for resampled in resampler.resample(chunk):
                            resampled.pts, resampled.time_base = samples, Fraction(1, sound.rate)
                            samples += resampled.samples
                            dst.mux(sound.encode(resampled))
                    dst.mux(sound.encode(None))
        except av.error.FFmpegError as e:
            if is_storage_fault(e):
                raise StorageError(out, e) from None
            raise EmotionError(f"cannot cut the trailer from {episode}: {str(e).splitlines()[0]}") from None
        cut = {"frames": sum(frames_per_segment), "segment_frames": frames_per_segment,
               "duration_s": round(seconds, 3), "audio": media.audio}
        cut["checked"] = check_trailer(partial, cut)
    return cut


def check_trailer(path: Path, cut: dict) -> dict:
    """Open the written trailer and compare it with what was cut: frames, duration, audio."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video))
        duration = float(container.duration / av.time_base) if container.duration else 0.0
        audio = bool(container.streams.audio)
        audio_s = (float(container.streams.audio[0].duration * container.streams.audio[0].time_base)
                   if audio and container.streams.audio[0].duration else 0.0)
    measured = {"frames": frames, "duration_s": round(duration, 3), "audio": audio, "audio_s": round(audio_s, 3)}
    problems = []
    if frames != cut["frames"]:
        problems.append(f"{frames} frames instead of {cut['frames']}")
    if cut["frames"] and abs(duration - cut["duration_s"]) > 0.15:
        problems.append(f"{duration:.2f} s instead of {cut['duration_s']:.2f} s")
    if audio != cut["audio"]:
        problems.append("no audio stream though the episode has one" if cut["audio"] else "an unexpected audio stream")
    if problems:
        raise EmotionError(f"trailer check failed for {path}: {'; '.join(problems)}")
    return measured
