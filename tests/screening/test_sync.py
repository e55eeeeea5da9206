"""Recordings placed on the episode's timeline by their sound: a microphone that hears the episode late, quieter,
with a room's echoes and noise, is found within 0.1 s; one that hears something else is not matched."""

import numpy as np
import pytest

from emotion.screening.sync import match, soundtrack

from conftest import make_cfg
from helpers.media import AUDIO_RATE, heard, numbered, write_video
from helpers.media import soundtrack as made_up

SYNC = make_cfg(["output_dir=unused"], config_name="moments").sync


def video(path, seconds: float, sound: np.ndarray | None, rate: int = 10):
    n = int(seconds * rate)
    return write_video(path, [numbered(i % 256, (64, 48)) for i in range(n)], [i / rate for i in range(n)],
                       rate=rate, sound=sound)


@pytest.mark.parametrize("start_s", [3.0, 41.37])
def test_a_late_quiet_echoing_noisy_microphone_is_found(start_s):
    episode = made_up(90, seed=1)
    recording = heard(episode, start_s, 30, seed=2)
    found = match(recording, episode, AUDIO_RATE, SYNC.separation_s)
    assert found.offset_s == pytest.approx(start_s, abs=0.1)
    assert found.confidence >= SYNC.min_confidence


def test_a_recording_that_hears_something_else_is_not_matched():
    found = match(heard(made_up(40, seed=7), 2, 30, seed=3), made_up(90, seed=1), AUDIO_RATE, SYNC.separation_s)
    assert found.confidence < SYNC.min_confidence


def test_a_recording_started_before_the_episode_has_a_negative_offset():
    room = np.concatenate([np.random.default_rng(4).normal(0, 0.01, 5 * AUDIO_RATE), made_up(60, seed=1)])
    found = match(heard(room, 0, 30, seed=5), made_up(60, seed=1), AUDIO_RATE, SYNC.separation_s)
    assert found.offset_s == pytest.approx(-5.0, abs=0.1) and found.confidence >= SYNC.min_confidence


def test_soundtracks_come_out_of_real_files_through_their_codec(tmp_path):
    """AAC in an MP4, decoded and resampled by PyAV at the sync's rate: the match survives the codec."""
    sound = made_up(60, seed=1)
    episode = video(tmp_path / "episode.mp4", 60, sound)
    late = video(tmp_path / "late.mp4", 25, heard(sound, 12.5, 25, seed=6))
    silent = video(tmp_path / "silent.mp4", 5, None)
    track, heard_track = soundtrack(episode, SYNC.rate_hz), soundtrack(late, SYNC.rate_hz)
    assert abs(len(track) / SYNC.rate_hz - 60) < 0.1
    found = match(heard_track, track, SYNC.rate_hz, SYNC.separation_s)
    assert found.offset_s == pytest.approx(12.5, abs=0.1) and found.confidence >= SYNC.min_confidence
    assert soundtrack(silent, SYNC.rate_hz) is None
    digital_silence = match(np.zeros(5 * SYNC.rate_hz, np.float32), track, SYNC.rate_hz, SYNC.separation_s)
    assert digital_silence.confidence == 0.0
