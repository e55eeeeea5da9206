"""The per-frame engine: identities across a stream's frames, smoothing along them, one batch per frame."""

import numpy as np

from emotion.inference.detectors import Found
from emotion.inference.engine import Engine
from emotion.inference.tracks import FaceTracks

NEUTRAL = dict(margin=0.1, smoothing=1, detect_every=1, lost_track_s=2.0)


class Scripted:
    """A detector that finds, frame after frame, what it is told: lists of boxes, or of (box, score)."""

    score_threshold = 0.75

    def __init__(self, frames):
        self.frames = iter(frames)

    def __call__(self, frame):
        return [Found(*f) if isinstance(f[0], tuple) else Found(f, 1.0) for f in next(self.frames)]


def test_identities_survive_a_short_loss_and_reset_between_streams():
    """ByteTrack identities: two faces keep theirs, a face hidden for less than lost_track_s comes back with
    its own, one hidden longer is a new identity, and reset() forgets everything (a new recording)."""
    frames = {t: [(0, 0, 20, 20), (60, 0, 20, 20)] for t in range(10)}
    frames.update({t: [(60, 0, 20, 20)] for t in (4, 5)})  # face A hidden for 2 frames (0.2 s)
    engine = Engine(Scripted(frames[t] for t in range(10)), lambda b: np.tile(np.eye(2)[0], (len(b), 1)), ["a", "b"], 8,
                    **{**NEUTRAL, "lost_track_s": 1.0})
    engine.reset(rate=10)
    ids = [[f.track_id for f in engine.process(np.zeros((40, 100, 3), np.uint8), t / 10).faces] for t in range(10)]
    assert ids[0] == [None, None], "a face gets its identity from its second frame"
    a, b = ids[1]
    assert a is not None and b is not None and a != b
    assert ids[4] == [b] and ids[6] == [a, b] and ids[9] == [a, b]
    engine.detector = Scripted([[(0, 0, 20, 20)]])
    assert engine.process(np.zeros((40, 100, 3), np.uint8), 3.0).faces[0].track_id is None, "2 s unseen: new face"
    engine.reset(rate=10)
    assert engine.tracks.tracker.tracks == [] and engine.boxes == [] and engine.frames == 0


def test_smoothing_follows_the_identity():
    tracks = FaceTracks(smoothing=2, lost_track_s=1.0, rate=10, score_threshold=0.75)
    box = [(0, 0, 20, 20)]
    tracks.identify(box, [1.0], 0.0)
    [track] = tracks.identify(box, [1.0], 0.1)
    first = tracks.smooth([track], np.array([[1.0, 0.0]]))
    second = tracks.smooth([track], np.array([[0.0, 1.0]]))
    np.testing.assert_allclose(first[0], [1.0, 0.0])
    np.testing.assert_allclose(second[0], [0.5, 0.5])
    np.testing.assert_allclose(tracks.smooth([None], np.array([[0.0, 1.0]]))[0], [0.0, 1.0])


def test_engine_batches_faces_and_times_stages():
    calls = []

    def classify(batch):
        calls.append(batch.shape)
        return np.tile(np.eye(3)[2], (len(batch), 1))

    engine = Engine(Scripted([[(0, 0, 20, 20), (30, 30, 20, 20)]]), classify, ["a", "b", "c"], 16, **NEUTRAL)
    result = engine.process(np.zeros((64, 64, 3), np.uint8))
    assert calls == [(2, 16, 16, 3)]
    assert [f.label for f in result.faces] == ["c", "c"]
    assert result.total_ms >= result.detect_ms + result.classify_ms


def test_a_weak_detection_only_continues_a_tracked_face():
    """Below the detector's score_threshold a box is not a face of its own (title text, a poster), but it keeps
    a tracked face through a moment the detector is unsure of (a hand over the mouth)."""
    face, text = (0, 0, 20, 20), (60, 0, 20, 20)
    frames = [[(face, 0.9)], [(face, 0.9), (text, 0.5)], [(face, 0.4), (text, 0.5)], [(face, 0.4), (text, 0.5)]]
    engine = Engine(Scripted(frames), lambda b: np.tile(np.eye(2)[0], (len(b), 1)), ["a", "b"], 8, **NEUTRAL)
    engine.reset(rate=10)
    lefts = [[f.box[0] for f in engine.process(np.zeros((40, 100, 3), np.uint8), t / 10).faces] for t in range(4)]
    assert lefts == [[0], [0], [0], [0]], "the weak face is kept on its track; the weak box on none never is a face"
    still = Engine(Scripted([[(face, 0.9), (text, 0.5)]]), lambda b: np.tile(np.eye(2)[0], (len(b), 1)),
                   ["a", "b"], 8, **NEUTRAL)
    assert [f.box[0] for f in still.process_still(np.zeros((40, 100, 3), np.uint8)).faces] == [0]
