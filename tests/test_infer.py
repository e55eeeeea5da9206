"""`python -m emotion.infer`: outputs, the budget, stills against streams, the notebook API, bad input."""

import csv
import json

import cv2
import numpy as np
import pytest
from omegaconf import OmegaConf

from emotion.core.errors import EmotionError
from emotion.data.synthetic import CLASSES, draw_face
from emotion.infer import infer
from emotion.inference.backends import build_engine
from emotion.inference.budget import NOT_JUDGED, OVER_BUDGET

from conftest import SHARED, SMOKE, make_cfg, run_cli
from helpers.files import face_video

MEDIA = SHARED / "media"
needs_media = pytest.mark.skipif(not (MEDIA / "WolfgangLanger_Pexels.mp4").is_file(),
                                 reason="real media in ../shared/media not present")


def infer_cfg(store, *overrides):
    return make_cfg([f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE, "display=false", "output.summary=null",
                     *overrides], config_name="infer")


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
    camera = EmotionOnCamera(detector="none", overrides=[f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE])
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
    result = run_cli("emotion.infer", f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE, "camera=0", cwd=tmp_path)
    assert result.returncode == 2
    assert "error: camera 0 cannot be opened" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_cli_strict_budget_exit_code(store, tmp_path):
    video = face_video(tmp_path / "faces.mp4", frames=14)
    result = run_cli("emotion.infer", f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE, f"source={video}",
                     "detector=none", "display=false", "strict=true", "budget_s=0.000001", cwd=tmp_path)
    assert result.returncode == OVER_BUDGET
    assert "slowest stage" in result.stderr
    assert (tmp_path / "outputs" / "infer").is_dir()
    image = tmp_path / "face.png"
    cv2.imwrite(str(image), draw_face("sad", 64)[..., ::-1])
    result = run_cli("emotion.infer", f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE, f"source={image}",
                     "display=false", "strict=true", "budget_s=0.000001", cwd=tmp_path)
    assert result.returncode == NOT_JUDGED, "one image: nothing was timed, so nothing holds"
    assert "error: the budget cannot be judged" in result.stderr


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
        assert OmegaConf.select(cfg, "detector._target_").startswith("emotion.inference.detectors.")
    assert make_cfg([], config_name="infer").budget_s == 0.33
