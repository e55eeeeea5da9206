"""Shots of an episode with known hard cuts are found, and moments' edges move onto them within the rules."""

import numpy as np
from omegaconf import OmegaConf

from emotion.screening.shots import shot_boundaries, snap_to_shots

from conftest import make_cfg
from helpers.media import write_video

CUTS = [2.0, 4.6, 7.2]
RATE = 25


SCENES = [((40, 40, 200), (250, 250, 250)), ((200, 120, 30), (20, 20, 20)), ((60, 200, 60), (200, 0, 200)),
          ((15, 15, 15), (250, 250, 250))]


def shot_frame(shot: int, index: int) -> np.ndarray:
    """Each shot its own colours (BGR), with a small thing moving slowly inside it."""
    background, thing = SCENES[shot]
    frame = np.full((72, 96, 3), background, np.uint8)
    left = 10 + (index % 50)
    frame[30:42, left:left + 12] = thing
    return frame


def test_hard_cuts_are_found_to_the_frame(tmp_path):
    times = [i / RATE for i in range(int(10 * RATE))]
    frames = [shot_frame(sum(t >= c for c in CUTS), i) for i, t in enumerate(times)]
    path = write_video(tmp_path / "episode.mp4", frames, times, rate=RATE)
    shots = make_cfg(["output_dir=unused"], config_name="moments").shots
    found = shot_boundaries(path, shots.threshold, shots.min_shot_s)
    assert len(found) == len(CUTS)
    assert np.abs(np.array(found) - CUTS).max() <= 1 / RATE + 1e-6


SEGMENTS = OmegaConf.create({"min_len_s": 3, "max_len_s": 8, "budget_s": 30})


def test_edges_move_to_the_nearest_cut_within_the_tolerance():
    moments = [{"start_s": 10.4, "end_s": 15.2}, {"start_s": 30.0, "end_s": 34.0}]
    snapped = snap_to_shots(moments, [10.0, 15.9, 27.0, 36.5], 60, 1.0, SEGMENTS)
    assert (snapped[0]["start_s"], snapped[0]["end_s"], snapped[0]["snapped"]) == (10.0, 15.9, ["start", "end"])
    assert (snapped[1]["start_s"], snapped[1]["end_s"], snapped[1]["snapped"]) == (30.0, 34.0, []), \
        "no cut within a second: the edges stay"


def test_a_move_that_breaks_the_rules_is_not_made():
    too_long = snap_to_shots([{"start_s": 10.0, "end_s": 17.5}], [9.2, 18.0], 60, 1.0, SEGMENTS)[0]
    assert too_long["snapped"] == ["end"] and too_long["end_s"] - too_long["start_s"] <= SEGMENTS.max_len_s
    neighbours = snap_to_shots([{"start_s": 10.0, "end_s": 14.0}, {"start_s": 14.5, "end_s": 18.0}], [14.8], 60, 1.0,
                               SEGMENTS)
    assert neighbours[0]["end_s"] <= neighbours[1]["start_s"], "a moved edge never makes two moments overlap"
    budget = snap_to_shots([{"start_s": 0.0, "end_s": 4.0}], [4.9], 60, 1.0,
                           OmegaConf.create({"min_len_s": 3, "max_len_s": 8, "budget_s": 4}))[0]
    assert budget["end_s"] == 4.0, "a longer moment would break the trailer's budget"
