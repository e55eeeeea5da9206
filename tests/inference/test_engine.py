"""The per-frame engine: identities across a stream's frames, smoothing along them, one batch per frame."""

import numpy as np

from emotion.inference.engine import Engine
from emotion.inference.tracks import FaceTracks

NEUTRAL = dict(margin=0.1, smoothing=1, detect_every=1, lost_track_s=2.0)


def test_identities_survive_a_short_loss_and_reset_between_streams():
    """ByteTrack identities: two faces keep theirs, a face hidden for less than lost_track_s comes back with
    its own, one hidden longer is a new identity, and reset() forgets everything (a new recording)."""
    frames = {t: [(0, 0, 20, 20), (60, 0, 20, 20)] for t in range(10)}
    frames.update({t: [(60, 0, 20, 20)] for t in (4, 5)})  # face A hidden for 2 frames (0.2 s)
    boxes = iter(frames[t] for t in range(10))
    engine = Engine(lambda frame: next(boxes), lambda b: np.tile(np.eye(2)[0], (len(b), 1)), ["a", "b"], 8,
                    **{**NEUTRAL, "lost_track_s": 1.0})
    engine.reset(rate=10)
    ids = [[f.track_id for f in engine.process(np.zeros((40, 100, 3), np.uint8), t / 10).faces] for t in range(10)]
    assert ids[0] == [None, None], "a face gets its identity from its second frame"
    a, b = ids[1]
    assert a is not None and b is not None and a != b
    assert ids[4] == [b] and ids[6] == [a, b] and ids[9] == [a, b]
    engine.detector = lambda frame: [(0, 0, 20, 20)]
    assert engine.process(np.zeros((40, 100, 3), np.uint8), 3.0).faces[0].track_id is None, "2 s unseen: new face"
    engine.reset(rate=10)
    assert engine.tracks.tracker.tracks == [] and engine.boxes == [] and engine.frames == 0


def test_smoothing_follows_the_identity():
    tracks = FaceTracks(smoothing=2, lost_track_s=1.0, rate=10)
    box = [(0, 0, 20, 20)]
    tracks.identify(box, 0.0)
    [track] = tracks.identify(box, 0.1)
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

    engine = Engine(lambda frame: [(0, 0, 20, 20), (30, 30, 20, 20)], classify, ["a", "b", "c"], 16, **NEUTRAL)
    result = engine.process(np.zeros((64, 64, 3), np.uint8))
    assert calls == [(2, 16, 16, 3)]
    assert [f.label for f in result.faces] == ["c", "c"]
    assert result.total_ms >= result.detect_ms + result.classify_ms
