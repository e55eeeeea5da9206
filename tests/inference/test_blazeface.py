"""The default detector, BlazeFace full range from the package: every face of a group, the face on every frame
of a real clip, no face where there is none; its model file is the one the package says it ships."""

import hashlib

import av
import cv2
import numpy as np
import pytest

from emotion.core.config import build
from emotion.core.errors import EmotionError
from emotion.inference.backends import engine_for
from emotion.inference.blazeface import BlazeFaceDetector, shipped_model

from conftest import SHARED, make_cfg

MEDIA = SHARED / "media"
needs_media = pytest.mark.skipif(not (MEDIA / "multi_face.jpg").is_file(), reason="real media in ../shared/media")
INFER = make_cfg([], config_name="infer")


def frames_with_a_face(clip: str) -> tuple[int, int]:
    """(frames, frames where the default engine keeps a face) of a clip run as a stream."""
    engine = engine_for(build(INFER.detector, "detector"), lambda batch: np.full((len(batch), 2), 0.5), ["a", "b"],
                        32, INFER.engine)
    with av.open(str(MEDIA / clip)) as container:
        stream = container.streams.video[0]
        engine.reset(float(stream.average_rate))
        hits = [bool(engine.process(f.to_ndarray(format="bgr24"), f.time).faces) for f in container.decode(stream)]
    return len(hits), sum(hits)


def test_the_model_ships_in_the_package_as_documented():
    readme = (shipped_model().parent / "README.md").read_text()
    assert hashlib.sha256(shipped_model().read_bytes()).hexdigest() in readme
    assert "Apache License" in (shipped_model().parent / "LICENSE").read_text()
    assert INFER.detector._target_.endswith("BlazeFaceDetector") and INFER.detector.model is None


def test_a_missing_or_broken_model_file_is_one_line(tmp_path):
    with pytest.raises(EmotionError, match="BlazeFace model not found"):
        BlazeFaceDetector(str(tmp_path / "nope.tflite"), 0.75, 0.35, 0.3, 1)
    (tmp_path / "broken.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(EmotionError, match="cannot load BlazeFace model"):
        BlazeFaceDetector(str(tmp_path / "broken.tflite"), 0.75, 0.35, 0.3, 1)


@needs_media
def test_all_five_faces_of_the_group_photo():
    found = build(INFER.detector, "detector")(cv2.imread(str(MEDIA / "multi_face.jpg")))
    assert len([f for f in found if f.score >= INFER.detector.score_threshold]) == 5


@needs_media
def test_the_face_on_every_frame_and_none_where_there_is_none():
    assert frames_with_a_face("WolfgangLanger_Pexels.mp4") == (472, 472)
    frames, hits = frames_with_a_face("no_face.mp4")
    assert frames > 0 and hits == 0
