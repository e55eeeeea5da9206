"""Where a recording lies on the episode's timeline, from its sound: a webcam's microphone hears the episode.

Both soundtracks are decoded by PyAV to mono at `rate_hz`, turned into onset
envelopes (the positive change of the log spectrum, by `scipy.signal.stft`),
which do not care how loud the room is, and cross-correlated
(`scipy.signal.correlate`). The best lag is the offset: the episode's time at
the recording's start. Its confidence is how far the best peak stands above
the best one at least `separation_s` away: near 1 for a clear match, near 0
for a recording that hears something else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from scipy import signal

# Envelope frames: hop and window in samples at `rate_hz` (10 ms and 32 ms at 8 kHz).
HOP_S, WINDOW_S = 0.01, 0.032


@dataclass
class Match:
    offset_s: float
    confidence: float


def soundtrack(path: Path, rate_hz: int) -> np.ndarray | None:
    """The first audio stream as mono float32 at `rate_hz`, or None when there is none (or it cannot be read)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate_hz)
            chunks = [out.to_ndarray().reshape(-1) for frame in container.decode(stream)
                      for out in resampler.resample(frame)]
            chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    except av.error.FFmpegError:
        return None
    return np.concatenate(chunks).astype(np.float32) if chunks else None


def envelope(samples: np.ndarray, rate_hz: int) -> np.ndarray:
    """Onset strength per 10 ms, standardised (zero mean, unit variance)."""
    hop, window = max(1, round(HOP_S * rate_hz)), max(8, round(WINDOW_S * rate_hz))
    if len(samples) < 2 * window:
        return np.zeros(0, np.float32)
    _, _, spectrum = signal.stft(samples, fs=rate_hz, nperseg=window, noverlap=window - hop, boundary=None,
                                 padded=False)
    flux = np.clip(np.diff(np.log1p(100 * np.abs(spectrum)), axis=1), 0, None).sum(axis=0)
    spread = flux.std()
    return ((flux - flux.mean()) / spread).astype(np.float32) if spread > 1e-9 else np.zeros_like(flux)


def match(recording: np.ndarray, episode: np.ndarray, rate_hz: int, separation_s: float) -> Match:
    """The episode time at the recording's start, and how sure the match is (0-1)."""
    heard, reference = envelope(recording, rate_hz), envelope(episode, rate_hz)
    if not len(heard) or not len(reference) or not heard.any() or not reference.any():
        return Match(0.0, 0.0)
    scores = signal.correlate(reference, heard, mode="full", method="fft")
    lags = signal.correlation_lags(len(reference), len(heard), mode="full")
    best = int(np.argmax(scores))
    far = np.abs(lags - lags[best]) * HOP_S > separation_s
    runner_up = float(scores[far].max()) if far.any() else 0.0
    peak = float(scores[best])
    confidence = max(0.0, (peak - max(runner_up, 0.0)) / peak) if peak > 0 else 0.0
    return Match(round(float(lags[best]) * HOP_S, 3), round(confidence, 3))
