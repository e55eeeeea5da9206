"""Media the tests make with PyAV: videos with chosen presentation times, numbered frames, a tone track, drawn faces."""

from fractions import Fraction

import av
import numpy as np

MS = Fraction(1, 1000)


def numbered(index: int, size=(96, 64)) -> np.ndarray:
    """A flat BGR frame whose colour encodes `index` (0-255), robust to H.264's small colour errors."""
    frame = np.zeros((size[1], size[0], 3), np.uint8)
    frame[..., 0], frame[..., 1] = (index % 16) * 16 + 8, (index // 16) * 16 + 8
    return frame


def number_of(frame: np.ndarray) -> int:
    b, g = frame[..., 0].mean(), frame[..., 1].mean()
    return int(g // 16) * 16 + int(b // 16)


AUDIO_RATE = 48000


def write_video(path, frames, times_s, tone_hz: float | None = None, rate: int | Fraction = 25,
                sound: np.ndarray | None = None, time_base: Fraction = MS):
    """An H.264 MP4 with each frame at its own presentation time (variable frame rate when the times say so),
    and, with `tone_hz`, an AAC sine track as long as the video, or, with `sound`, that soundtrack (mono
    float samples at AUDIO_RATE)."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt, video.time_base = width, height, "yuv420p", time_base
        video.codec_context.time_base = time_base  # frame times kept as given (to the ms), not rounded to `rate`
        has_audio = tone_hz is not None or sound is not None
        audio = container.add_stream("aac", rate=AUDIO_RATE, layout="mono") if has_audio else None
        for image, t in zip(frames, times_s):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
            frame.pts, frame.time_base = round(t / time_base), time_base
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio:
            if sound is None:
                end = times_s[-1] + 1 / rate
                sound = np.sin(2 * np.pi * tone_hz * np.arange(int(end * AUDIO_RATE)) / AUDIO_RATE) * 0.3
            samples = np.clip(sound, -1, 1).astype(np.float32)
            for start in range(0, len(samples), 1024):
                chunk = av.AudioFrame.from_ndarray(samples[None, start:start + 1024], format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts, chunk.time_base = AUDIO_RATE, start, Fraction(1, AUDIO_RATE)
                container.mux(audio.encode(chunk))
            container.mux(audio.encode(None))
    return path


def episode(path, seconds: float = 10, rate: int | Fraction = 25, tone_hz: float | None = 440):
    """A constant-rate episode of numbered frames, with a tone track by default; at a rate that is not a whole
    number (NTSC's 30000/1001) its frames count in 1/rate, as such files do."""
    n = int(seconds * rate)
    return write_video(path, [numbered(i % 256) for i in range(n)], [i / rate for i in range(n)], tone_hz, rate,
                       time_base=MS if Fraction(rate).denominator == 1 else 1 / Fraction(rate))


def decoded(path):
    """(frame times, BGR frames, audio seconds or None) of a video, through PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [(f.time, f.to_ndarray(format="bgr24")) for f in container.decode(stream)]
    with av.open(str(path)) as container:
        audio = None
        if container.streams.audio:
            audio = sum(f.samples for f in container.decode(container.streams.audio[0])) / 48000
    return [t for t, _ in frames], [f for _, f in frames], audio


def soundtrack(seconds: float, seed: int) -> np.ndarray:
    """An episode's sound, made up: short tones and noise bursts at random moments, as speech and effects are."""
    rng = np.random.default_rng(seed)
    n = int(seconds * AUDIO_RATE)
    sound, t = np.zeros(n), np.arange(n) / AUDIO_RATE
    for _ in range(int(seconds * 3)):
        start, length = int(rng.integers(0, max(1, n - AUDIO_RATE))), int(rng.uniform(0.05, 0.4) * AUDIO_RATE)
        part = slice(start, start + length)
        shape = np.hanning(len(sound[part]))
        tone = np.sin(2 * np.pi * rng.uniform(150, 2500) * t[: len(shape)]) * rng.uniform(0.2, 1)
        sound[part] += 0.3 * shape * (tone + rng.normal(0, 0.3, len(shape)))
    return sound


def heard(sound: np.ndarray, start_s: float, seconds: float, seed: int, gain: float = 0.3,
          echoes=((0.05, 0.5), (0.12, 0.3), (0.2, 0.15)), snr: float = 3.0) -> np.ndarray:
    """What a webcam's microphone hears of `sound` from `start_s` on: quieter, with a room's echoes and noise
    (`snr`: signal over noise standard deviation)."""
    part = sound[int(start_s * AUDIO_RATE): int((start_s + seconds) * AUDIO_RATE)] * gain
    out = part.copy()
    for delay, level in echoes:
        k = int(delay * AUDIO_RATE)
        out[k:] += level * part[:-k]
    return out + np.random.default_rng(seed).normal(0, out.std() / snr, len(out))


def face_clip(path, seconds: float, fps: int = 10, size: int = 96, tone_hz: float | None = 440, seed: int = 0):
    """A clip of drawn faces (each frame the whole face, for detector=none), with a tone track by default."""
    from emotion.data.synthetic import CLASSES, draw_face

    rng = np.random.default_rng(seed)
    n = int(seconds * fps)
    frames = [np.ascontiguousarray(draw_face(CLASSES[(i // fps) % len(CLASSES)], size, rng)[..., ::-1])
              for i in range(n)]
    return write_video(path, frames, [i / fps for i in range(n)], tone_hz, fps)
