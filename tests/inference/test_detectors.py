"""Face detectors on the real clips, and the square crop around a face."""

import cv2
import numpy as np
import pytest

from emotion.core.config import build
from emotion.inference.detectors import HaarDetector, square_crop

from conftest import SHARED, make_cfg

MEDIA = SHARED / "media"
needs_media = pytest.mark.skipif(not (MEDIA / "WolfgangLanger_Pexels.mp4").is_file(),
                                 reason="real media in ../shared/media not present")


def test_square_crop_is_clamped_to_the_frame():
    frame = np.zeros((100, 200, 3), np.uint8)
    crop, box = square_crop(frame, (180, 80, 30, 40), margin=0.5)
    assert box == (140, 40, 60, 60) and crop.shape == (60, 60, 3)
    crop, box = square_crop(frame, (0, 0, 300, 300), margin=0.1)
    assert box == (100, 0, 100, 100)  # as centred on the face as the frame allows


@needs_media
def test_haar_finds_the_face_in_the_real_clip():
    detector = build(make_cfg(["detector=haar"], config_name="infer").detector, "detector")
    assert isinstance(detector, HaarDetector)
    capture = cv2.VideoCapture(str(MEDIA / "WolfgangLanger_Pexels.mp4"))
    hits = frames = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames += 1
        hits += bool(detector(frame))
    assert frames == 472
    assert hits / frames >= 0.9
