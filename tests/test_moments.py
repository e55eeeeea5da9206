"""Trailer moments: planted reactions are found, lag and gap rules hold, loud viewers do not decide."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from emotion.core.errors import EmotionError
from emotion.data.synthetic import CLASSES, draw_face
from emotion.moments import moments

from conftest import SHARED, SMOKE, make_cfg
from helpers.files import write_viewer
from helpers.media import episode as numbered_episode
from helpers.media import heard, numbered, write_video
from helpers.media import soundtrack as made_up

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
                    SMOKE,
                    "sync=given",  # the clip's soundtrack is digital silence: nothing to place recordings by
                    "scoring.segments.min_len_s=2", "scoring.segments.max_len_s=4", "scoring.segments.min_gap_s=1"],
                   config_name="moments")
    result = moments(cfg)
    out = tmp_path / "out"
    assert {"timeline.csv", "timeline.png", "moments.json", "trailer.mp4", "report.html", "moments.otio",
            "moments.edl", "moments.xml"} <= {p.name for p in out.iterdir()}
    assert "WolfgangLanger_Pexels#0" in result["viewers"]
    assert {"viewer": "no_face", "reason": "no face in the recording"} in result["left_out"]
    saved = json.loads((out / "moments.json").read_text())
    assert saved["moments"], "the real clip should yield at least one moment"
    trailer = cv2.VideoCapture(str(out / "trailer.mp4"))
    assert int(trailer.get(cv2.CAP_PROP_FRAME_COUNT)) == sum(m["frames"] for m in saved["moments"])
    assert saved["trailer"]["frames"] == saved["trailer"]["checked"]["frames"] == sum(m["frames"]
                                                                                       for m in saved["moments"])
    assert saved["trailer"]["audio"], "the clip has a sound track, so the trailer has one"
    faces = [e for m in saved["moments"] for e in m["evidence"] if "crop" in e]
    assert faces and all(Path(e["crop"]).is_relative_to(out.resolve()) and Path(e["crop"]).is_file() for e in faces)
    assert (out / "report.html").read_text().count("<figure><img") == len(faces)
    frames = list(csv.DictReader(open(out / "frames" / "WolfgangLanger_Pexels.csv")))
    assert len({r["frame"] for r in frames}) == pytest.approx(472 / 8, abs=2)  # 24 fps sampled at 3 fps


def face_recording(path, seconds: float, sound=None, rate: int = 10, seed: int = 0):
    """A viewer's recording: a drawn face changing expression, with what its microphone heard."""
    rng = np.random.default_rng(seed)
    faces = [draw_face(CLASSES[(i // rate) % len(CLASSES)], 96, rng)[..., ::-1] for i in range(int(seconds * rate))]
    return write_video(path, faces, [i / rate for i in range(len(faces))], rate=rate, sound=sound)


def test_recordings_are_placed_by_their_sound(store, tmp_path):
    """Two cameras started by hand, 4.2 s and 9.6 s into the episode, found by their sound; one that hears
    another room is left out; moments.json says where each recording lies and how that was found."""
    sound = made_up(40, seed=1)
    episode = write_video(tmp_path / "episode.mp4", [numbered(i % 256) for i in range(400)],
                          [i / 10 for i in range(400)], rate=10, sound=sound)
    late = face_recording(tmp_path / "late.mp4", 20, heard(sound, 4.2, 20, seed=2))
    later = face_recording(tmp_path / "later.mp4", 20, heard(sound, 9.6, 20, seed=3), seed=1)
    elsewhere = face_recording(tmp_path / "elsewhere.mp4", 20, heard(made_up(30, seed=9), 0, 20, seed=4))
    result = moments(make_cfg([f"recordings=[{late},{later},{elsewhere}]", f"episode={episode}", "detector=none",
                               "engine=keras", f"output_dir={tmp_path}/out", f"tracking.uri=sqlite:///{store}/mlflow.db",
                               SMOKE],
                              config_name="moments"))
    placed = {r["viewer"]: r for r in json.loads((tmp_path / "out" / "moments.json").read_text())["recordings"]}
    assert placed["late"]["offset_s"] == pytest.approx(4.2, abs=0.1) and placed["late"]["offset_from"] == "sound"
    assert placed["later"]["offset_s"] == pytest.approx(9.6, abs=0.1) and placed["later"]["confidence"] >= 0.3
    assert "elsewhere" not in placed
    [gone] = [v for v in result["left_out"] if v["viewer"] == "elsewhere"]
    assert "does not match the episode's" in gone["reason"] and "offset_s" in gone["reason"]
    assert set(result["viewers"]) == {"late#0", "later#0"}


def test_nothing_standing_out_is_a_result(tmp_path):
    """A calm viewer: no moment, the reason, no trailer, and a review page that says so; not an error."""
    calm = write_viewer(tmp_path / "calm.csv", 10, [])
    video = numbered_episode(tmp_path / "episode.mp4", seconds=10)
    result = moments(make_cfg([f"frames_csv=[{calm}]", f"episode={video}", f"output_dir={tmp_path}/out",
                               f"tracking.uri=sqlite:///{tmp_path}/mlflow.db", "scoring.segments.min_score=0.5"],
                              config_name="moments"))
    saved = json.loads((tmp_path / "out" / "moments.json").read_text())
    assert saved["moments"] == [] and result["trailer_s"] == 0 and "nothing stood out" in saved["reason"]
    assert not (tmp_path / "out" / "trailer.mp4").exists() and "trailer" not in saved
    page = (tmp_path / "out" / "report.html").read_text()
    assert 'id="nothing"' in page and "No trailer: no moment stood out" in page


def test_moments_start_and_end_on_shot_boundaries(tmp_path):
    """Planted reactions whose moments end near the episode's hard cuts: the edges move onto the cuts."""
    rate, cuts = 10, [12.0, 31.0, 46.0]
    colours = [(40, 40, 200), (200, 120, 30), (60, 200, 60), (15, 15, 15)]
    times = [i / rate for i in range(60 * rate)]
    frames = [np.full((48, 64, 3), colours[sum(t >= c for c in cuts)], np.uint8) for t in times]
    video = write_video(tmp_path / "episode.mp4", frames, times, rate=rate, tone_hz=440)
    viewer = write_viewer(tmp_path / "v.csv", 60, [(12.5, 17.6, "happy"), (40.7, 45.5, "surprise")])
    result = moments(moments_cfg(tmp_path, [viewer], f"episode={video}", "sync=given", "scoring.segments.top_k=2"))
    assert result["shots"] == pytest.approx(cuts, abs=0.11)
    starts_or_ends = {round(t, 1) for m in result["moments"] for t in (m["start_s"], m["end_s"])}
    assert {12.0, 46.0} <= starts_or_ends, result["moments"]
    assert all(m["snapped"] for m in result["moments"])


@pytest.mark.slow
def test_an_interrupted_screening_keeps_what_it_did(store, tmp_path):
    """Ctrl-C in the middle of the second recording: exit 130, the first record complete, the second one's
    samples so far under its name with a sidecar that says interrupted; the same command keeps the first
    and redoes the second."""
    videos = [face_recording(tmp_path / f"cam{i}.mp4", 120, rate=5, seed=i) for i in range(2)]
    command = [sys.executable, "-m", "emotion.moments", f"recordings=[{','.join(map(str, videos))}]",
               "detector=none", "engine=keras", "duration_s=120", f"output_dir={tmp_path}/out",
               f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE]
    frames = tmp_path / "out" / "frames"
    run = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while not ((frames / "cam0.csv").exists() and any(p.stat().st_size > 4000 for p in frames.glob(".cam1.csv.*"))
               ) and time.time() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    stderr = run.communicate(timeout=120)[1]
    assert run.returncode == 130 and "Traceback" not in stderr, stderr[-2000:]
    assert "interrupted: cam1's record" in stderr
    said = json.loads((frames / "cam1.json").read_text())
    assert said["interrupted"] is True and "made_of" not in said and 0 < said["at_s"] < 119
    assert 1 < len((frames / "cam1.csv").read_text().splitlines()) < 120 * 3
    first = (frames / "cam0.csv").stat()
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    said = again.stdout + again.stderr  # Hydra's log goes to stdout, the error line to stderr
    assert "recording cam0: its per-frame record is complete" in said
    assert "recording cam1: its per-frame record is complete" not in said
    assert (frames / "cam0.csv").stat().st_mtime_ns == first.st_mtime_ns
    assert "made_of" in json.loads((frames / "cam1.json").read_text())


@pytest.mark.slow
def test_a_killed_screening_keeps_its_finished_recordings(store, tmp_path):
    """kill -9 in the middle of the second recording: the same command again keeps the first recording's
    per-frame record as it was and redoes only the one in progress."""
    videos = [face_recording(tmp_path / f"cam{i}.mp4", 240, rate=5, seed=i) for i in range(3)]
    command = [sys.executable, "-m", "emotion.moments", f"recordings=[{','.join(map(str, videos))}]",
               "detector=none", "engine=keras", "duration_s=240", f"output_dir={tmp_path}/out",
               f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE]
    frames = tmp_path / "out" / "frames"
    killed = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while not ((frames / "cam0.csv").exists() and list(frames.glob(".cam1.csv.partial-*"))) and time.time() < deadline:
        time.sleep(0.05)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert (frames / "cam0.csv").exists() and not (frames / "cam1.csv").exists(), "killed mid-screening"
    first = (frames / "cam0.csv").stat()
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    said = again.stdout + again.stderr
    assert "recording cam0: its per-frame record is complete" in said
    assert "recording cam1: its per-frame record is complete" not in said
    kept = (frames / "cam0.csv").stat()
    assert (kept.st_ino, kept.st_mtime_ns) == (first.st_ino, first.st_mtime_ns), "the finished record was kept"
    assert not list(frames.glob(".*.partial-*")), "the killed writer's temporary file was cleared"
    assert {p.name for p in frames.glob("*.csv")} == {
        "cam0.csv", "cam1.csv", "cam2.csv"}
    assert json.loads((tmp_path / "out" / "moments.json").read_text())["viewers"] == ["cam0#0", "cam1#0", "cam2#0"]
