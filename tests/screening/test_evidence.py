"""The evidence: each reacting viewer's face, cut from their own recording at the moment's peak, with their
emotion; kept inside output_dir and shown in the page; and said to be missing when only CSVs were scored."""

import json
import math

import cv2

from emotion.data.synthetic import CLASSES
from emotion.moments import moments
from emotion.screening.evidence import gather

from conftest import make_cfg
from helpers.files import write_viewer
from helpers.media import episode, number_of
from helpers.screenings import RECORDING_FPS, recorded_screening, recording

BURSTS = [(10, 15, "happy"), (26, 31, "surprise")]
OFFSETS = (0.0, 2.0)


def test_each_moment_shows_the_faces_of_its_viewers_at_its_peak(tmp_path):
    result = recorded_screening(tmp_path, BURSTS, OFFSETS, overrides=["scoring.segments.top_k=2"])
    out = tmp_path / "out"
    assert len(result["moments"]) == 2
    for m in result["moments"]:
        assert sorted(e["viewer"] for e in m["evidence"]) == sorted(m["reacting"]) == ["cam0#0", "cam1#0"]
        for e in m["evidence"]:
            crop = out / "evidence" / f"moment-{result['moments'].index(m) + 1}" / f"{e['viewer']}.jpg"
            assert e["crop"] == str(crop.resolve()) and crop.resolve().is_relative_to(out.resolve())
            offset = OFFSETS[int(e["viewer"][3])]
            # The viewer's sample nearest the peak (3 samples a second of their recording), in episode time ...
            samples = [round(i / 3, 3) + offset for i in range(int((40 - offset) * 3))]
            nearest = min(samples, key=lambda t: abs(t - (m["peak_s"] + 0.5)))
            assert e["time_s"] == round(nearest, 3) and e["emotion"] == m["dominant_emotion"]
            # ... and the crop is that sample's frame of that viewer's recording (each frame shows its index).
            image = cv2.imread(e["crop"])
            assert image.shape == (96, 96, 3)
            assert number_of(image) == math.ceil((nearest - offset - 1e-3) * RECORDING_FPS) % 256
    assert sorted(p.name for p in (out / "evidence").rglob("*.jpg")) == ["cam0#0.jpg", "cam0#0.jpg", "cam1#0.jpg",
                                                                       "cam1#0.jpg"]
    page = (out / "report.html").read_text()
    assert page.count('<figure><img alt="cam') == 4 and "cam1#0: surprise (" in page
    assert json.loads((out / "moments.json").read_text())["moments"] == result["moments"]


def test_moments_scored_from_csvs_alone_say_they_have_no_faces(tmp_path):
    csvs = [write_viewer(tmp_path / f"v{i}.csv", 30, [(10, 15, "happy")], seed=i) for i in range(2)]
    source = episode(tmp_path / "episode.mp4", seconds=30, rate=10)
    result = moments(make_cfg([f"frames_csv=[{','.join(map(str, csvs))}]", f"episode={source}",
                               f"output_dir={tmp_path}/out", f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
                               "scoring.segments.top_k=1", "shots=none"], config_name="moments"))
    [m] = result["moments"]
    assert m["evidence"] == [{"viewer": v, "missing": "no recording: scored from its per-frame CSV only"}
                             for v in ("v0#0", "v1#0")]
    assert not (tmp_path / "out" / "evidence").exists()
    page = (tmp_path / "out" / "report.html").read_text()
    assert "No face shown for v0#0, v1#0: no recording: scored from its per-frame CSV only" in page


def test_a_whole_recording_viewer_shows_its_largest_face(tmp_path):
    """viewers=largest names a viewer by its recording: the face shown is its largest track's, not a passer-by's."""
    record = write_viewer(tmp_path / "cam.csv", 20, [(5, 10, "happy")])
    lines = record.read_text().splitlines()
    small = [line.replace(",0,10,10,50,50,", ",1,60,60,20,20,", 1).replace(",happy,", ",sad,") for line in lines[1:]]
    record.write_text("\n".join(lines + small) + "\n")
    camera = recording(tmp_path / "cam.mp4", 20)
    moment = {"start_s": 4.0, "end_s": 9.0, "peak_s": 6, "reacting": ["cam"]}
    gather([moment], [{"viewer": "cam", "path": str(camera), "offset_s": 0.0}], {"cam": record}, CLASSES,
           tmp_path / "out", 6, 32)
    [shown] = moment["evidence"]
    assert (shown["emotion"], shown["time_s"]) == ("happy", 6.333)
    assert cv2.imread(shown["crop"]).shape == (32, 32, 3)
