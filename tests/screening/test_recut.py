"""`stage=cut`: a person's edit of moments.json cut again, with no recording decoded and no model, and edits that
cannot be cut refused in one line naming the moment."""

import json
import math

import pytest

from emotion.core.errors import EmotionError
from emotion.moments import moments
from emotion.screening.recut import checked

from conftest import make_cfg, run_cli
from helpers.media import decoded, number_of
from helpers.screenings import EPISODE_FPS, recorded_screening

BURSTS = [(8, 12, "happy"), (20, 25, "surprise"), (31, 36, "fear")]


def cut_cfg(tmp_path, edited, out, *extra):
    return make_cfg(["stage=cut", f"moments_json={edited}", f"episode={tmp_path / 'episode.mp4'}",
                     f"output_dir={out}", f"tracking.uri=sqlite:///{tmp_path}/recut.db", *extra],
                    config_name="moments")


def test_an_edited_moments_json_is_cut_again_from_the_episode_alone(tmp_path):
    screened = recorded_screening(tmp_path, BURSTS, overrides=["scoring.segments.top_k=3"])
    assert len(screened["moments"]) == 3
    document = json.loads((tmp_path / "out" / "moments.json").read_text())
    first, _, third = document["moments"]
    first["end_s"] = round(first["end_s"] + 0.5, 3)  # an edge moved, the second moment dropped
    document["moments"] = [third, first]  # and out of order: story order is restored
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    for camera in tmp_path.glob("cam*.mp4"):  # no recording can be decoded
        camera.rename(camera.with_suffix(".gone"))
    out = tmp_path / "recut"
    result = moments(cut_cfg(tmp_path, edited, out, "model=no-such-model"))  # and no model can run
    assert [(m["start_s"], m["end_s"]) for m in result["moments"]] == [
        (first["start_s"], first["end_s"]), (third["start_s"], third["end_s"])]
    assert sorted(p.name for p in out.iterdir()) == ["moments.edl", "moments.json", "moments.otio", "moments.xml",
                                                     "report.html", "timeline.png", "trailer.mp4"]
    saved = json.loads((out / "moments.json").read_text())
    assert saved["moments"] == result["moments"] and saved["cut_from"] == str(edited.resolve())
    assert saved["trailer_s"] == round(sum(m["end_s"] - m["start_s"] for m in saved["moments"]), 3)
    # The trailer is the kept moments' frames of the episode, the moved edge included.
    _, frames, _ = decoded(out / "trailer.mp4")
    kept = [k for m in saved["moments"] for k in range(math.ceil(m["start_s"] * EPISODE_FPS),
                                                       math.ceil(m["end_s"] * EPISODE_FPS))]
    assert [number_of(f) for f in frames] == [k % 256 for k in kept]
    # The page still shows the screening's timeline and the viewers' faces, from the screening's files.
    page = (out / "report.html").read_text()
    assert page.count('<figure><img alt="cam') == 4 and page.count('class="moment"') == 2
    assert "mean emotion share per second" in page and page.count("<polyline") == 10


def test_edits_that_cannot_be_cut_are_refused_naming_the_moment():
    moments_ = [{"start_s": 2.0, "end_s": 5.0}, {"start_s": 8.0, "end_s": 12.0}]
    with pytest.raises(EmotionError, match=r"^moment 3 \(11 s to 14 s\) overlaps moment 2 \(8 s to 12 s\)$"):
        checked([*moments_, {"start_s": 11.0, "end_s": 14.0}], 60.0)
    with pytest.raises(EmotionError, match=r"^moment 2 \(58 s to 61.5 s\) lies outside the episode \(0 s to 60 s\)"):
        checked([moments_[0], {"start_s": 58.0, "end_s": 61.5}], 60.0)
    with pytest.raises(EmotionError, match=r"^moment 1 \(-1 s to 3 s\) lies outside the episode"):
        checked([{"start_s": -1, "end_s": 3}], 60.0)
    with pytest.raises(EmotionError, match=r"^moment 2 \(9 s to 9 s\) must end after it starts$"):
        checked([moments_[0], {"start_s": 9, "end_s": 9}], 60.0)
    with pytest.raises(EmotionError, match=r"^moment 1: start_s must be a number of seconds, got null$"):
        checked([{"start_s": None, "end_s": 3}], 60.0)
    assert [m["start_s"] for m in checked(moments_[::-1], 60.0)] == [2.0, 8.0]


@pytest.mark.slow
def test_a_refused_edit_is_one_line_and_writes_nothing(tmp_path):
    recorded_screening(tmp_path, BURSTS[:2], overrides=["scoring.segments.top_k=2"])
    document = json.loads((tmp_path / "out" / "moments.json").read_text())
    document["moments"][1]["start_s"] = document["moments"][0]["end_s"] - 1.0
    (tmp_path / "edited.json").write_text(json.dumps(document))
    result = run_cli("emotion.moments", "stage=cut", "moments_json=edited.json", "episode=episode.mp4",
                     "output_dir=recut", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("error: moment 2 (") and line.endswith(") overlaps moment 1 ("
                                                                  f"{document['moments'][0]['start_s']:g} s to "
                                                                  f"{document['moments'][0]['end_s']:g} s)")
    assert not (tmp_path / "recut").exists()
    # Nor may a re-cut replace its own input.
    with pytest.raises(EmotionError, match="moments.json .* would replace the input moments_json"):
        moments(cut_cfg(tmp_path, tmp_path / "out" / "moments.json", tmp_path / "out"))
