"""The default detector, BlazeFace from the package: the short-range model's anchors decoded where the faces are,
every face of a group, the face on every frame of a real clip, no face where there is none; its model files are the
ones the package says it ships."""

import hashlib

import av
import cv2
import numpy as np
import pytest

from emotion.core.config import build
from emotion.core.errors import EmotionError
from emotion.data.synthetic import draw_face
from emotion.inference.backends import engine_for
from emotion.inference.blazeface import FULL_RANGE, SHORT_RANGE, BlazeFaceDetector, shipped_model

from conftest import SHARED, make_cfg

MEDIA = SHARED / "media"
needs_media = pytest.mark.skipif(not (MEDIA / "multi_face.jpg").is_file(), reason="real media in ../shared/media")
INFER = make_cfg([], config_name="infer")
CORNERS = ((0, 0), (1, 0), (0, 1), (1, 1), (0.5, 0.5))


def engine(cfg):
    return engine_for(build(cfg.detector, "detector"), lambda batch: np.full((len(batch), 2), 0.5), ["a", "b"], 32,
                      cfg.engine)


def frames_with_a_face(clip: str) -> tuple[int, int]:
    """(frames, frames where the default engine keeps a face) of a clip run as a stream."""
    stream_engine = engine(INFER)
    with av.open(str(MEDIA / clip)) as container:
        stream = container.streams.video[0]
        stream_engine.reset(float(stream.average_rate))
        hits = [bool(stream_engine.process(f.to_ndarray(format="bgr24"), f.time).faces)
                for f in container.decode(stream)]
    return len(hits), sum(hits)


def kept(cfg, frame: np.ndarray) -> list:
    """The faces a still keeps with the detector of `cfg`."""
    return engine(cfg).process_still(frame).faces


def placed(image: np.ndarray, box, side: int, corner, canvas: int = 480):
    """`image` scaled so that its face (`box`) is `side` pixels, on a gray square with the face in `corner` (shares
    of the room left): (the frame, where the face is)."""
    x, y, w, h = box
    scale = side / max(w, h)
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    left, top = (int(c * (canvas - side)) for c in corner)
    frame = np.full((canvas, canvas, 3), 128, np.uint8)
    ox, oy = left - round(x * scale), top - round(y * scale)
    x0, y0 = max(0, ox), max(0, oy)
    x1, y1 = min(canvas, ox + small.shape[1]), min(canvas, oy + small.shape[0])
    frame[y0:y1, x0:x1] = small[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    return frame, (left, top, side, side)


def short_range_lands_on(frame: np.ndarray, face, sizes: tuple[float, float]) -> bool:
    """Whether the short-range model's best box is centred on `face` (within 15% of its side), its side a share
    of the face's within `sizes`."""
    found = BlazeFaceDetector(SHORT_RANGE, None, 0.0, 0.3, 0.3, 0.3, 1)(frame)
    if not found:
        return False
    x, y, w, h = max(found, key=lambda f: f.score).box
    fx, fy, side, _ = face
    off = np.hypot(x + w / 2 - (fx + side / 2), y + h / 2 - (fy + side / 2))
    return off <= 0.15 * side and sizes[0] <= max(w, h) / side <= sizes[1]


def test_the_models_ship_in_the_package_as_documented():
    readme = (shipped_model().parent / "README.md").read_text()
    for name in (FULL_RANGE, SHORT_RANGE):
        assert hashlib.sha256(shipped_model(name).read_bytes()).hexdigest() in readme
    assert "Apache License" in (shipped_model().parent / "LICENSE").read_text()
    assert INFER.detector._target_.endswith("BlazeFaceDetector")
    assert INFER.detector.model == FULL_RANGE


def test_a_missing_or_broken_model_file_is_one_line(tmp_path):
    with pytest.raises(EmotionError, match="BlazeFace model not found"):
        BlazeFaceDetector(str(tmp_path / "nope.tflite"), None, 0.3, 0.75, 0.35, 0.3, 1)
    with pytest.raises(EmotionError, match="BlazeFace model not found"):
        BlazeFaceDetector(FULL_RANGE, "no_such_model.tflite", 0.3, 0.75, 0.35, 0.3, 1)
    (tmp_path / "broken.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(EmotionError, match="cannot load BlazeFace model"):
        BlazeFaceDetector(FULL_RANGE, str(tmp_path / "broken.tflite"), 0.3, 0.75, 0.35, 0.3, 1)


@needs_media
def test_short_range_boxes_land_on_a_real_face_anywhere_and_at_any_size():
    """A real face in every corner and the middle, small (the 16x16 grid's anchors) and large (the 8x8 grid's)."""
    photo = cv2.imread(str(MEDIA / "single_face.jpg"))
    (face,) = BlazeFaceDetector(FULL_RANGE, None, 0.0, 0.75, 0.75, 0.3, 1)(photo)
    for side in (110, 250):
        for corner in CORNERS:
            assert short_range_lands_on(*placed(photo, face.box, side, corner), sizes=(0.75, 1.3)), (side, corner)


def test_short_range_boxes_land_on_a_drawn_face_anywhere_and_at_any_size():
    for side in (250, 330):
        drawn = cv2.cvtColor(draw_face("happy", side, np.random.default_rng(0)), cv2.COLOR_RGB2BGR)
        for corner in CORNERS:
            frame, where = placed(drawn, (0, 0, side, side), side, corner)
            assert short_range_lands_on(frame, where, sizes=(0.45, 0.9)), (side, corner)


@needs_media
def test_all_five_faces_of_the_group_photo():
    assert len(kept(INFER, cv2.imread(str(MEDIA / "multi_face.jpg")))) == 5


@needs_media
def test_the_face_on_every_frame_and_none_where_there_is_none():
    assert frames_with_a_face("WolfgangLanger_Pexels.mp4") == (472, 472)
    frames, hits = frames_with_a_face("no_face.mp4")
    assert frames > 0 and hits == 0
