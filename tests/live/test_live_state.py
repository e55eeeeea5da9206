"""What the page is told: alerts when a camera stops, sees no face or goes silent, and the episode's timeline
placed by the operator's mark and scored as moments scores it."""

import time

import numpy as np

from emotion.data.synthetic import CLASSES
from emotion.inference.engine import Face, FrameResult
from emotion.live.state import CameraStatus, LiveState
from emotion.screening.scoring import score_episode

from conftest import make_cfg

CLASSES = list(CLASSES)
ALERT = make_cfg(["sources=[x.mp4]"], config_name="screen").alert
SCORING = make_cfg(["sources=[x.mp4]", "scoring.smooth_s=1"], config_name="screen").scoring


def face(emotion: str, track: int = 1) -> Face:
    p = np.full(len(CLASSES), 0.02)
    p[CLASSES.index(emotion)] = 1 - 0.02 * (len(CLASSES) - 1)
    return Face(track, (0, 0, 10, 10), p, emotion, float(p.max()))


def test_alerts_name_what_went_wrong():
    status = CameraStatus("sofa", "camera 0", sound=True, silence_db=ALERT.silence_db)
    now = status.opened_wall
    status.recorded(10, 0, now)
    status.heard(np.full(480, 0.3, np.float32), now)
    status.classified(now, FrameResult([face("happy")]))
    assert status.view(now + 1, ALERT)["alerts"] == []
    later = now + max(ALERT.no_frames_s, ALERT.no_face_s, ALERT.silence_s) + 1
    alerts = status.view(later, ALERT)["alerts"]
    assert [a.split(" for ")[0] for a in alerts] == ["no frame", "no face", "silent"]
    status.heard(np.zeros(480, np.float32), later)  # digital silence is no sound either
    assert status.level_db < ALERT.silence_db
    status.sampled(False)
    status.ended("stream rtsp://x stopped: the stream ended")
    assert status.view(later, ALERT)["alerts"] == ["stream rtsp://x stopped: the stream ended",
                                                   "1 samples missed: classification cannot keep up"]


def test_the_timeline_is_placed_by_the_mark_and_scored_as_moments_scores_it():
    cameras = [CameraStatus(name, name, False, ALERT.silence_db) for name in ("sofa", "chair")]
    state = LiveState(cameras, CLASSES, ALERT, SCORING)
    state.started_wall = time.time() - 12
    cameras[0].started_wall, cameras[1].started_wall = state.started_wall, state.started_wall + 1
    viewers = {}
    for c, camera in enumerate(cameras):
        times = np.arange(0, 10, 1 / 3)
        for t in times:
            state.classified(c, t, time.time(), FrameResult([face("surprise" if 5 <= t + c < 7 else "neutral")]))
        viewers[f"{camera.viewer}#1"] = times
    state.mark_wall = state.started_wall + 2  # the episode began 2 s into the screening
    shown, version = state.snapshot(-1)
    assert shown["clock"]["marked"] and 9.5 < shown["clock"]["seconds"] < 11
    timeline = shown["timeline"]
    latest = max(t[-1] + c - 2 for c, t in enumerate(viewers.values()))  # the chair's last sample, on the episode
    assert latest < shown["clock"]["seconds"] - 1  # the seconds not classified yet are not shown as empty ones
    expected = score_episode({v: (t + (c - 2), np.array([face("surprise" if 5 <= s + c < 7 else "neutral").probabilities
                                                          for s in t]))
                              for c, (v, t) in enumerate(viewers.items())}, CLASSES, latest, SCORING)[0]
    assert timeline["seconds"] == len(expected["score"])
    assert np.allclose(timeline["score"], np.round(expected["score"], 4))
    surprise = [row[CLASSES.index("surprise")] for row in timeline["shares"]]
    # Both viewers were surprised 5 to 7 s into the screening: 3 to 5 s into the episode.
    assert [s for s, v in enumerate(surprise) if v and v > 0.5] == [3, 4]
    assert "timeline" not in state.snapshot(version)[0]  # sent again only when it changed
