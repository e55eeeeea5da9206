"""Group screenings: several viewers per camera, true timestamps, a trailer with sound, safe outputs, a review page."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from emotion.core.errors import EmotionError
from emotion.data.synthetic import CLASSES, draw_face
from emotion.inference.sources import open_source
from emotion.moments import moments
from emotion.screening.recordings import inside, safe_name
from emotion.screening.trailer import check_trailer, cut_trailer
from emotion.screening.viewers import viewers_of

from conftest import REPO, SHARED, SMOKE, make_cfg
from helpers.browser import FLAGS
from helpers.files import face_video, write_viewer
from helpers.media import decoded, episode, number_of, write_video

CLASSES = list(CLASSES)
MEDIA = SHARED / "media"


def test_trailer_is_cut_frame_accurately_with_its_sound(tmp_path):
    source = episode(tmp_path / "episode.mp4", seconds=10, rate=25, tone_hz=440)
    cut = cut_trailer(source, [(2.0, 3.0), (5.5, 7.0)], tmp_path / "trailer.mp4")
    # [2, 3) holds frames 50-74, [5.5, 7) frames 138-174 (frame k is shown at k / 25 s).
    assert cut["segment_frames"] == [25, 37] and cut["frames"] == 62 and cut["audio"]
    times, frames, audio_s = decoded(tmp_path / "trailer.mp4")
    assert [number_of(f) for f in frames] == list(range(50, 75)) + list(range(138, 175))
    # Each frame keeps its place in its segment: frame 138 (5.52 s) is 0.02 s into the second one.
    assert times[24] == pytest.approx(0.96, abs=1e-3) and times[25] == pytest.approx(1.02, abs=1e-3)
    assert audio_s == pytest.approx(2.5, abs=0.03) and cut["checked"]["audio"]
    assert not (tmp_path / "trailer.partial.mp4").exists()


def test_trailer_of_a_silent_episode_and_a_check_that_fails(tmp_path):
    source = episode(tmp_path / "silent.mp4", seconds=4, tone_hz=None)
    cut = cut_trailer(source, [(1.0, 2.0)], tmp_path / "trailer.mp4")
    assert cut["frames"] == 25 and not cut["audio"] and not cut["checked"]["audio"]
    with pytest.raises(EmotionError, match="25 frames instead of 26"):
        check_trailer(tmp_path / "trailer.mp4", {**cut, "frames": 26})
    with pytest.raises(EmotionError, match="no audio stream though the episode has one"):
        check_trailer(tmp_path / "trailer.mp4", {**cut, "audio": True})


def vfr_recording(path):
    """Variable frame rate: 25 fps for 2 s, then one frame every 0.5 s until 8 s. A happy face during
    [4, 6) s of presentation time, neutral before and after; by frame index / average fps, the happy
    frames would land near seconds 6.6-7.1 instead."""
    times = [i * 0.04 for i in range(50)] + [2.0 + 0.5 * i for i in range(13)]
    rng = np.random.default_rng(0)
    faces = [draw_face("happy" if 4 <= t < 6 else "neutral", 64, rng)[..., ::-1] for t in times]
    return write_video(path, faces, times), times


def test_frames_carry_presentation_times(tmp_path):
    path, times = vfr_recording(tmp_path / "vfr.mp4")
    source = open_source(source=str(path))
    read = [frame.time_s for frame in source]
    assert len(read) == len(times) and np.allclose(read, times, atol=1e-3)
    assert source.fps == pytest.approx(len(times) / 6.52, rel=0.3), "the container's average rate, not used for time"


def test_sampling_decodes_only_what_the_samples_need(tmp_path):
    """Sampled at 3 per second, a 25 fps video skips its B-frames, and every sample is still there, within a
    few frames of its step; a sparse (variable-rate) video keeps all its frames, so no second loses its sample."""
    dense = episode(tmp_path / "dense.mp4", seconds=6, tone_hz=None)
    every = [frame.time_s for frame in open_source(source=str(dense)).sampled(3)]
    decoded = [frame.time_s for frame in open_source(source=str(dense), sample_fps=3)]
    sampled = [frame.time_s for frame in open_source(source=str(dense), sample_fps=3).sampled(3)]
    assert len(decoded) < 150, "B-frames are not decoded"
    assert len(sampled) == len(every) == 18 and all(0 <= b - a < 0.2 for a, b in zip(every, sampled))
    path, times = vfr_recording(tmp_path / "vfr.mp4")
    assert [f.time_s for f in open_source(source=str(path), sample_fps=3).sampled(3)] == \
        [f.time_s for f in open_source(source=str(path)).sampled(3)]


def test_variable_frame_rate_recording_lands_on_the_right_seconds(store, tmp_path):
    path, _ = vfr_recording(tmp_path / "vfr.mp4")
    result = moments(make_cfg([f"recordings=[{path}]", "detector=none", "engine=keras", "duration_s=8",
                               f"output_dir={tmp_path}/out", f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE],
                              config_name="moments"))
    rows = list(csv.DictReader(open(tmp_path / "out" / "frames" / "vfr.csv")))
    sampled = [float(r["time_s"]) for r in rows]
    assert sampled[:7] == pytest.approx([0.0, 0.36, 0.68, 1.0, 1.36, 1.68, 2.0], abs=1e-3), "3 fps of recording time"
    assert sampled[7:] == pytest.approx([2.5 + 0.5 * i for i in range(12)], abs=1e-3)
    timeline = list(csv.DictReader(open(tmp_path / "out" / "timeline.csv")))
    happy = [float(row["happy"]) for row in timeline]
    # The smoke model's confidence varies between trainings: the happy seconds must stand out, wherever its level.
    assert min(happy[4], happy[5]) > max(0.2, 5 * max(happy[0:4] + happy[6:8])), happy
    assert result["viewers"] == ["vfr#0"]


def test_every_tracked_face_is_a_viewer_and_passers_by_are_left_out(tmp_path):
    rows = write_viewer(tmp_path / "camera.csv", 30, [(10, 15, "happy")])
    lines = open(rows).read().splitlines()
    # A second viewer (track 1) on every sample, and a passer-by (track 2) on 5 of the 90.
    extra = [line.replace(",0,10,10,50,50,", ",1,100,10,50,50,", 1) for line in lines[1:]]
    passing = [line.replace(",0,10,10,50,50,", ",2,200,10,20,20,", 1) for line in lines[1:6]]
    (tmp_path / "camera.csv").write_text("\n".join(lines + extra + passing) + "\n")
    viewers, left = viewers_of("camera", tmp_path / "camera.csv", 0.0, CLASSES, "all", 0.2)
    assert sorted(viewers) == ["camera#0", "camera#1"]
    assert left == [{"viewer": "camera#2", "reason": "passer-by: in 6% of the recording's samples "
                                                     "(min_track_share 0.2)"}]
    times, probabilities = viewers["camera#1"]
    assert len(times) == 90 and not np.isnan(probabilities).any()
    largest, _ = viewers_of("camera", tmp_path / "camera.csv", 0.0, CLASSES, "largest", 0.2)
    assert list(largest) == ["camera"]


def test_viewer_names_cannot_escape_the_output_folder(store, tmp_path):
    video = face_video(tmp_path / "clip.mp4", frames=12)
    manifest = tmp_path / "viewers.csv"
    manifest.write_text(f"viewer,path,offset_s\n../../../tmp/evil,{video},0\n..,{video},0\n")
    out = tmp_path / "deep" / "out"
    result = moments(make_cfg([f"manifest={manifest}", "detector=none", "engine=keras", f"output_dir={out}",
                               f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE, "duration_s=2",
                               "scoring.segments.min_len_s=1"],
                              config_name="moments"))
    assert sorted(p.name for p in (out / "frames").iterdir()) == ["tmp_evil.csv", "tmp_evil.json", "viewer.csv",
                                                                  "viewer.json"]
    assert sorted(tmp_path.rglob("*.csv")) == sorted([manifest, *(out / "frames").glob("*.csv"), out / "timeline.csv"])
    assert not (out / "frames" / "../../../tmp/evil.csv").resolve().exists()
    assert set(result["viewers"]) == {"tmp_evil#0", "viewer#0"}
    assert safe_name("a/b\\c:d e") == "a_b_c_d_e"
    with pytest.raises(EmotionError, match="outside"):
        inside(out, "../../x.csv")


def test_moments_json_lists_every_viewer_used_and_left_out(tmp_path):
    good = write_viewer(tmp_path / "good.csv", 60, [(30, 35, "happy")])
    (tmp_path / "empty.csv").write_text(open(good).read().splitlines()[0] + "\n")
    out = tmp_path / "out"
    moments(make_cfg([f"frames_csv=[{good},{tmp_path / 'empty.csv'},{tmp_path / 'gone.csv'}]", "duration_s=60",
                      f"output_dir={out}", f"tracking.uri=sqlite:///{tmp_path}/mlflow.db", "scoring.segments.top_k=1"],
                     config_name="moments"))
    saved = json.loads((out / "moments.json").read_text())
    assert saved["viewers"] == ["good#0"]
    assert {(v["viewer"], v["reason"].split(":")[0]) for v in saved["left_out"]} == {
        ("empty", "no face in the recording"), ("gone", "frames CSV not found")}


@pytest.mark.slow
@pytest.mark.skipif(not (MEDIA / "WolfgangLanger_Pexels.mp4").is_file(), reason="real media not present")
def test_two_viewers_on_one_camera(store, tmp_path):
    """Two real clips side by side (experiments/make_group_recording.py) are two viewers."""
    group = tmp_path / "group.mp4"
    subprocess.run([sys.executable, str(REPO / "experiments" / "make_group_recording.py"), "--left",
                    str(MEDIA / "WolfgangLanger_Pexels.mp4"), "--right", str(MEDIA / "single_face.mp4"), "--out",
                    str(group)], check=True, capture_output=True, timeout=300)
    result = moments(make_cfg([f"recordings=[{group}]", f"episode={MEDIA / 'WolfgangLanger_Pexels.mp4'}",
                               f"output_dir={tmp_path}/out", f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE,
                               "sync=given"],  # the clip's soundtrack is digital silence
                              config_name="moments"))
    assert result["viewers"] == ["group#0", "group#1"]
    assert result["trailer"]["audio"] and result["trailer"]["checked"]["audio"]
    largest = moments(make_cfg([f"frames_csv=[{tmp_path}/out/frames/group.csv]", "viewers=largest",
                                f"episode={MEDIA / 'WolfgangLanger_Pexels.mp4'}", f"output_dir={tmp_path}/out2",
                                f"tracking.uri=sqlite:///{store}/mlflow.db", SMOKE], config_name="moments"))
    assert largest["viewers"] == ["group"]


@pytest.mark.slow
def test_review_page_renders_in_headless_chromium(chromium, tmp_path):
    source = episode(tmp_path / "episode.mp4", seconds=60, rate=10, tone_hz=330)
    csvs = [write_viewer(tmp_path / f"v{i}.csv", 60, [(20, 25, "happy"), (40, 46, "surprise")], seed=i)
            for i in range(3)]
    out = tmp_path / "out"
    result = moments(make_cfg([f"frames_csv=[{','.join(map(str, csvs))}]", f"episode={source}", f"output_dir={out}",
                               f"tracking.uri=sqlite:///{tmp_path}/mlflow.db", "scoring.segments.top_k=2"],
                              config_name="moments"))
    page = out / "report.html"
    assert "http://" not in page.read_text().replace('xmlns="http://www.w3.org/2000/svg"', "")
    run = subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp_path}/profile", "--enable-logging=stderr", "--v=0",
                          "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    assert run.returncode == 0 and not console, console
    dom = run.stdout
    assert 'data-ready="yes"' in dom, "the page's script ran to its end"
    for i, m in enumerate(result["moments"], start=1):
        assert f"Moment {i}: " in dom and f'id="moment-{i}"' in dom
        assert f"{m['score']:.3f}" in dom and m["dominant_emotion"] in dom
    assert dom.count("data:image/jpeg;base64,") == 5 * len(result["moments"])
    assert '<video id="trailer"' in dom and "data:video/mp4;base64," in dom
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    [run_info] = mlflow.search_runs(experiment_names=["moments"], output_format="list")
    assert "report.html" in {a.path for a in mlflow.MlflowClient().list_artifacts(run_info.info.run_id)}
