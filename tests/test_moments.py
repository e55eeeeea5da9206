"""Trailer moments: planted reactions are found, lag and gap rules hold, loud viewers do not decide."""

import csv
import json

import cv2
import pytest

from emotion.core.errors import EmotionError
from emotion.data.synthetic import CLASSES
from emotion.moments import moments

from conftest import SHARED, make_cfg
from helpers.files import write_viewer

CLASSES = list(CLASSES)
MEDIA = SHARED / "media"


def moments_cfg(tmp_path, csvs, *overrides):
    return make_cfg([f"frames_csv=[{','.join(str(c) for c in csvs)}]", f"output_dir={tmp_path}/out",
                     f"tracking.uri=sqlite:///{tmp_path}/mlflow.db", "duration_s=120", "scoring.smooth_s=1",
                     "scoring.segments.reaction_lag_s=0", "scoring.segments.top_k=2", *overrides],
                    config_name="moments")


def test_planted_reactions_are_found_exactly(tmp_path):
    bursts = [(30, 35, "happy"), (80, 86, "surprise")]
    csvs = [write_viewer(tmp_path / f"v{i}.csv", 120, bursts, seed=i) for i in range(3)]
    result = moments(moments_cfg(tmp_path, csvs))
    assert [(m["start_s"], m["end_s"]) for m in result["moments"]] == [(30, 35), (80, 86)]
    assert [m["dominant_emotion"] for m in result["moments"]] == ["happy", "surprise"]
    assert all(m["viewers_reacting"] == 3 for m in result["moments"])
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} >= {"timeline.csv", "timeline.png", "moments.json"}
    timeline = list(csv.DictReader(open(out / "timeline.csv")))
    assert len(timeline) == 120 and timeline[31]["viewers_present"] == "3"
    assert float(timeline[31]["happy"]) > 0.5 > float(timeline[10]["happy"])


def test_reaction_lag_shifts_segments_earlier(tmp_path):
    csvs = [write_viewer(tmp_path / f"v{i}.csv", 120, [(30, 35, "fear")], seed=i) for i in range(2)]
    result = moments(moments_cfg(tmp_path, csvs, "scoring.segments.reaction_lag_s=2", "scoring.segments.top_k=1"))
    assert [(m["start_s"], m["end_s"]) for m in result["moments"]] == [(28, 33)]


def test_minimum_gap_keeps_segments_apart(tmp_path):
    bursts = [(30, 35, "fear"), (37, 41, "fear")]
    csvs = [write_viewer(tmp_path / f"v{i}.csv", 120, bursts, seed=i) for i in range(2)]
    close = moments(moments_cfg(tmp_path, csvs, "scoring.segments.min_gap_s=1"))["moments"]
    assert [(m["start_s"], m["end_s"]) for m in close] == [(30, 35), (37, 41)]
    apart = moments(moments_cfg(tmp_path, csvs, "scoring.segments.min_gap_s=5"))["moments"]
    assert apart[0]["start_s"] == 30
    assert all(b["start_s"] - a["end_s"] >= 5 for a, b in zip(apart, apart[1:]))


def test_one_loud_viewer_does_not_decide(tmp_path):
    loud = write_viewer(tmp_path / "loud.csv", 120, [(10, 14, "anger"), (60, 64, "anger"), (95, 99, "anger")],
                        amplitude=3.0, seed=1)
    quiet = [write_viewer(tmp_path / f"q{i}.csv", 120, [(45, 49, "happy")], amplitude=0.25, seed=2 + i)
             for i in range(2)]
    result = moments(moments_cfg(tmp_path, [loud, *quiet], "scoring.segments.top_k=1"))
    assert [(m["start_s"], m["end_s"]) for m in result["moments"]] == [(45, 49)]


def test_budget_limits_the_trailer(tmp_path):
    bursts = [(10, 20, "happy"), (40, 50, "happy"), (80, 90, "happy")]
    csvs = [write_viewer(tmp_path / f"v{i}.csv", 120, bursts, seed=i) for i in range(2)]
    result = moments(moments_cfg(tmp_path, csvs, "scoring.segments.top_k=3", "scoring.segments.budget_s=15"))
    assert result["trailer_s"] <= 15


def test_bad_recordings_are_left_out(tmp_path, caplog):
    good = write_viewer(tmp_path / "good.csv", 120, [(30, 35, "happy")])
    late = write_viewer(tmp_path / "late.csv", 60, [(5, 8, "happy")])
    manifest = tmp_path / "viewers.csv"
    manifest.write_text("viewer,path,offset_s\nghost,missing.mp4,0\n")
    cfg = moments_cfg(tmp_path, [good], f"manifest={manifest}", "scoring.segments.top_k=1")
    result = moments(cfg)
    assert result["viewers"] == ["good#0"] and "recording not found" in caplog.text
    assert {"viewer": "ghost", "reason": f"recording not found: {tmp_path / 'missing.mp4'}"} in result["left_out"]
    with pytest.raises(EmotionError, match="nothing to score"):
        moments(moments_cfg(tmp_path, [tmp_path / "absent.csv"]))
    # A recording placed entirely after the episode's end is left out, the rest go on.
    shifted = moments_cfg(tmp_path, [good, late], "scoring.segments.top_k=1")
    assert set(moments(shifted)["viewers"]) == {"good#0", "late#0"}


@pytest.mark.skipif(not (MEDIA / "WolfgangLanger_Pexels.mp4").is_file(), reason="real media not present")
def test_real_clips_end_to_end(store, tmp_path):
    episode = MEDIA / "WolfgangLanger_Pexels.mp4"
    cfg = make_cfg([f"recordings=[{episode},{MEDIA / 'single_face.mp4'},{MEDIA / 'no_face.mp4'}]",
                    f"episode={episode}", f"output_dir={tmp_path}/out", f"tracking.uri=sqlite:///{store}/mlflow.db",
                    "scoring.segments.min_len_s=2", "scoring.segments.max_len_s=4", "scoring.segments.min_gap_s=1"],
                   config_name="moments")
    result = moments(cfg)
    out = tmp_path / "out"
    assert {"timeline.csv", "timeline.png", "moments.json", "trailer.mp4", "report.html"} <= {p.name for p in
                                                                                                out.iterdir()}
    assert "WolfgangLanger_Pexels#0" in result["viewers"]
    assert {"viewer": "no_face", "reason": "no face in the recording"} in result["left_out"]
    saved = json.loads((out / "moments.json").read_text())
    assert saved["moments"], "the real clip should yield at least one moment"
    trailer = cv2.VideoCapture(str(out / "trailer.mp4"))
    assert int(trailer.get(cv2.CAP_PROP_FRAME_COUNT)) == sum(m["frames"] for m in saved["moments"])
    assert saved["trailer"]["frames"] == saved["trailer"]["checked"]["frames"] == sum(m["frames"]
                                                                                       for m in saved["moments"])
    assert saved["trailer"]["audio"], "the clip has a sound track, so the trailer has one"
    frames = list(csv.DictReader(open(out / "frames" / "WolfgangLanger_Pexels.csv")))
    assert len({r["frame"] for r in frames}) == pytest.approx(472 / 8, abs=2)  # 24 fps sampled at 3 fps
