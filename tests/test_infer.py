"""Inference: the engine on drawn faces, detection on the real clips, outputs, budget, bad input."""

import csv
import json

import cv2
import numpy as np
import pytest
from omegaconf import OmegaConf

from emotion.config import build
from emotion.detect import HaarDetector, square_crop
from emotion.engine import Engine
from emotion.errors import EmotionError
from emotion.infer import NOT_JUDGED, OVER_BUDGET, infer
from emotion.synthetic import CLASSES, draw_face

from conftest import SHARED, make_cfg, run_cli

MEDIA = SHARED / "media"
needs_media = pytest.mark.skipif(not (MEDIA / "WolfgangLanger_Pexels.mp4").is_file(),
                                 reason="real media in ../shared/media not present")


def infer_cfg(store, *overrides):
    return make_cfg([f"tracking.uri=sqlite:///{store}/mlflow.db", "display=false", "output.summary=null",
                     *overrides], config_name="infer")


def face_video(path, frames=12, size=96, fps=10.0):
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (size, size))
    for i in range(frames):
        writer.write(draw_face(CLASSES[i % len(CLASSES)], size, rng)[..., ::-1])
    writer.release()
    return path


def test_square_crop_is_clamped_to_the_frame():
    frame = np.zeros((100, 200, 3), np.uint8)
    crop, box = square_crop(frame, (180, 80, 30, 40), margin=0.5)
    assert box == (140, 40, 60, 60) and crop.shape == (60, 60, 3)
    crop, box = square_crop(frame, (0, 0, 300, 300), margin=0.1)
    assert box == (100, 0, 100, 100)  # as centred on the face as the frame allows


def test_identities_survive_a_short_loss_and_reset_between_streams():
    """ByteTrack identities: two faces keep theirs, a face hidden for less than lost_track_s comes back with
    its own, one hidden longer is a new identity, and reset() forgets everything (a new recording)."""
    frames = {t: [(0, 0, 20, 20), (60, 0, 20, 20)] for t in range(10)}
    frames.update({t: [(60, 0, 20, 20)] for t in (4, 5)})  # face A hidden for 2 frames (0.2 s)
    boxes = iter(frames[t] for t in range(10))
    engine = Engine(lambda frame: next(boxes), lambda b: np.tile(np.eye(2)[0], (len(b), 1)), ["a", "b"], 8,
                    lost_track_s=1.0)
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
    from emotion.tracks import FaceTracks

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

    engine = Engine(lambda frame: [(0, 0, 20, 20), (30, 30, 20, 20)], classify, ["a", "b", "c"], 16)
    result = engine.process(np.zeros((64, 64, 3), np.uint8))
    assert calls == [(2, 16, 16, 3)]
    assert [f.label for f in result.faces] == ["c", "c"]
    assert result.total_ms >= result.detect_ms + result.classify_ms


def test_video_in_csv_video_and_summary_out(store, tmp_path):
    video = face_video(tmp_path / "faces.mp4")
    cfg = infer_cfg(store, "detector=none", "engine=keras", f"source={video}", f"output.csv={tmp_path}/frames.csv",
                    f"output.video={tmp_path}/annotated.mp4", f"output.summary={tmp_path}/summary.json",
                    "min_timed_frames=5")
    assert infer(cfg) == 0
    rows = list(csv.DictReader(open(tmp_path / "frames.csv")))
    assert len(rows) == 12 and {r["label"] for r in rows} <= set(CLASSES)
    assert abs(sum(float(rows[0][f"p_{c}"]) for c in CLASSES) - 1) < 1e-3
    assert float(rows[3]["time_s"]) == pytest.approx(0.3, abs=1e-3)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["frames"] == 12 and summary["faces"] == 12
    assert summary["model"] == "models:/emotion-synthetic@champion"
    assert set(summary["latency_ms"]["total"]) == {"p50", "p95", "max"} and summary["within_budget"]
    playback = cv2.VideoCapture(str(tmp_path / "annotated.mp4"))
    assert int(playback.get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    assert (int(playback.get(cv2.CAP_PROP_FRAME_WIDTH)), int(playback.get(cv2.CAP_PROP_FRAME_HEIGHT))) == (96, 96)


def test_strict_budget_trips(store, tmp_path, capsys):
    video = face_video(tmp_path / "faces.mp4", frames=14)
    cfg = infer_cfg(store, "detector=none", f"source={video}", "budget_s=0.000001", "strict=true")
    assert infer(cfg) == OVER_BUDGET
    assert "exceeds the budget of 0.0 ms; slowest stage:" in capsys.readouterr().err
    assert infer(infer_cfg(store, "detector=none", f"source={video}", "budget_s=0.000001")) == 0


def test_budget_with_too_few_timed_frames_is_not_judged(store, tmp_path, capsys):
    image = tmp_path / "face.png"
    cv2.imwrite(str(image), draw_face("happy", 64)[..., ::-1])
    cfg = infer_cfg(store, "detector=none", f"source={image}", "budget_s=0.000001", "strict=true",
                    f"output.summary={tmp_path}/s.json")
    assert infer(cfg) == NOT_JUDGED
    assert "the budget cannot be judged: 0 timed frame(s) after 1 warm-up frame(s)" in capsys.readouterr().err
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["within_budget"] is None and summary["timed_frames"] == 0
    video = face_video(tmp_path / "faces.mp4", frames=12)  # 9 timed frames: still one short
    assert infer(infer_cfg(store, "detector=none", f"source={video}", "strict=true")) == NOT_JUDGED
    assert infer(infer_cfg(store, "detector=none", f"source={video}", "strict=true", "min_timed_frames=9")) == 0


def test_stills_are_classified_each_on_its_own(store, tmp_path):
    """A folder of unrelated faces: no tracking, no smoothing across images (the default smoothing is 5)."""
    from emotion.engine import build_engine

    folder = tmp_path / "faces"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for i in range(9):
        cv2.imwrite(str(folder / f"{i}.png"), draw_face(CLASSES[i], 64, rng)[..., ::-1])
    cfg = infer_cfg(store, "detector=none", "engine=keras", f"source={folder}", f"output.csv={tmp_path}/f.csv")
    assert cfg.engine.smoothing == 5
    assert infer(cfg) == 0
    rows = list(csv.DictReader(open(tmp_path / "f.csv")))
    engine, _ = build_engine(cfg.engine, cfg.detector, cfg.tracking, cfg.model)
    for i, row in enumerate(rows):
        alone = engine.process_still(cv2.imread(str(folder / f"{i}.png"))).faces[0].probabilities
        np.testing.assert_allclose([float(row[f"p_{c}"]) for c in CLASSES], alone, atol=1e-4)


def test_image_folder_skips_unreadable_images(store, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for i, c in enumerate(["happy", "sad"]):
        cv2.imwrite(str(folder / f"{i}.png"), draw_face(c, 64)[..., ::-1])
    (folder / "2.png").write_bytes(b"not a png")
    cfg = infer_cfg(store, "detector=none", f"source={folder}", f"output.summary={tmp_path}/s.json")
    assert infer(cfg) == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["frames"] == 2 and summary["failed_frames"] == 1


def test_notebook_api(store, tmp_path, monkeypatch):
    from emotion import EmotionOnCamera, emotion_on_camera

    assert emotion_on_camera is EmotionOnCamera
    camera = EmotionOnCamera(detector="none", overrides=[f"tracking.uri=sqlite:///{store}/mlflow.db"])
    frame = draw_face("happy", 80)[..., ::-1].copy()
    annotated = camera.add_bounding_box(frame)
    assert annotated.shape == frame.shape and (annotated != frame).any()
    summary = camera.return_video(str(face_video(tmp_path / "v.mp4", frames=5)), display=False)
    assert summary["frames"] == 5


@pytest.mark.parametrize("overrides,message", [
    (["camera=0"], "camera 0 cannot be opened"),
    (["source=/nowhere/clip.mp4"], "source not found"),
    (["source={tmp}/fake.mp4"], "cannot read video"),
    (["source={tmp}/empty"], "no images in folder"),
    (["model=/nowhere/model"], "neither `best`, an MLflow URI"),
    (["detector=yunet", "source={tmp}/fake.mp4", "paths.cache_dir={tmp}/cache"], "could not download"),
])
def test_bad_input(store, tmp_path, overrides, message):
    (tmp_path / "fake.mp4").write_text("not a video")
    (tmp_path / "empty").mkdir()
    cfg = infer_cfg(store, *[o.format(tmp=tmp_path) for o in overrides])
    with pytest.raises(EmotionError, match=message):
        infer(cfg)


def test_no_model_at_all(tmp_path):
    cfg = infer_cfg(tmp_path, "source=x.mp4")
    with pytest.raises(EmotionError, match=r"no trained model .* run `python -m emotion.train` first"):
        infer(cfg)


def test_model_without_metadata_is_refused(store, tmp_path):
    from mlflow.models import Model

    Model(artifact_path="model").save(str(tmp_path / "MLmodel"))
    with pytest.raises(EmotionError, match="has no classes or input_size"):
        infer(infer_cfg(store, f"model={tmp_path}", "source=x.mp4"))


def test_cli_camera_error_is_one_line(store, tmp_path):
    result = run_cli("emotion.infer", f"tracking.uri=sqlite:///{store}/mlflow.db", "camera=0", cwd=tmp_path)
    assert result.returncode == 2
    assert "error: camera 0 cannot be opened" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_strict_budget_exit_code(store, tmp_path):
    video = face_video(tmp_path / "faces.mp4", frames=14)
    result = run_cli("emotion.infer", f"tracking.uri=sqlite:///{store}/mlflow.db", f"source={video}",
                     "detector=none", "display=false", "strict=true", "budget_s=0.000001", cwd=tmp_path)
    assert result.returncode == OVER_BUDGET
    assert "slowest stage" in result.stderr
    assert (tmp_path / "outputs" / "infer").is_dir()
    image = tmp_path / "face.png"
    cv2.imwrite(str(image), draw_face("sad", 64)[..., ::-1])
    result = run_cli("emotion.infer", f"tracking.uri=sqlite:///{store}/mlflow.db", f"source={image}",
                     "display=false", "strict=true", "budget_s=0.000001", cwd=tmp_path)
    assert result.returncode == NOT_JUDGED, "one image: nothing was timed, so nothing holds"
    assert "error: the budget cannot be judged" in result.stderr


@needs_media
def test_haar_finds_the_face_in_the_real_clip():
    detector = build(make_cfg([], config_name="infer").detector, "detector")
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


@needs_media
def test_no_face_clip_gives_one_empty_row_per_frame(store, tmp_path):
    cfg = infer_cfg(store, f"source={MEDIA / 'no_face.mp4'}", f"output.csv={tmp_path}/f.csv",
                    f"output.summary={tmp_path}/s.json")
    assert infer(cfg) == 0
    rows = list(csv.DictReader(open(tmp_path / "f.csv")))
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["faces"] == 0
    assert len(rows) == summary["frames"] > 0
    assert [r["frame"] for r in rows] == [str(i) for i in range(len(rows))]
    assert all(r["label"] == "" for r in rows)


def test_config_tree_for_inference():
    for detector in ("haar", "yunet", "none"):
        cfg = make_cfg([f"detector={detector}"], config_name="infer")
        assert OmegaConf.select(cfg, "detector._target_").startswith("emotion.detect.")
    assert make_cfg([], config_name="infer").budget_s == 0.33
