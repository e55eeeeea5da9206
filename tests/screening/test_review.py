"""The review page as the trailer team uses it, in headless Chromium: faces shown, a moment dropped, an edge
nudged, the edited moments.json downloaded and cut again, and the new trailer without the dropped moment."""

import json
import math

import pytest

from emotion.moments import moments

from conftest import make_cfg
from helpers.browser import click_and_download
from helpers.media import decoded, number_of
from helpers.screenings import EPISODE_FPS, recorded_screening

BURSTS = [(8, 12, "happy"), (20, 25, "surprise"), (31, 36, "fear")]

# What a person does on the page: check that every face loaded, untick moment 2, move moment 1's start half a
# second later with the field's own step (0.1 s), and press the download button.
CLICKS = """
(function () {
  var faces = document.querySelectorAll(".faces img");
  faces.forEach(function (face) {
    if (!face.complete || face.naturalWidth !== 96) { throw new Error("a face did not load: " + face.alt); }
  });
  document.querySelector("#moment-2 .keep").click();
  var start = document.querySelector("#moment-1 .start");
  start.stepUp(5);
  start.dispatchEvent(new Event("input", {bubbles: true}));
  document.getElementById("download").click();
  return faces.length + " faces; " + document.getElementById("kept").textContent;
})()
"""


def frames_of(moment: dict) -> list[int]:
    return list(range(math.ceil(moment["start_s"] * EPISODE_FPS), math.ceil(moment["end_s"] * EPISODE_FPS)))


@pytest.mark.slow
def test_a_moment_dropped_on_the_page_is_gone_from_the_new_trailer(chromium, tmp_path):
    screened = recorded_screening(tmp_path, BURSTS, overrides=["scoring.segments.top_k=3"])
    first, second, third = screened["moments"]
    page = tmp_path / "out" / "report.html"
    assert "http://" not in page.read_text().replace('xmlns="http://www.w3.org/2000/svg"', "")
    saved, said, problems = click_and_download(chromium, page, CLICKS, tmp_path / "browser")
    assert problems == [] and saved.name == "moments-edited.json"
    kept_s = second["start_s"] - second["end_s"] - 0.5 + sum(m["end_s"] - m["start_s"] for m in screened["moments"])
    assert said == f"6 faces; 2 of 3 moments kept, {kept_s:.1f} s"
    edited = json.loads(saved.read_text())
    assert [(m["start_s"], m["end_s"]) for m in edited["moments"]] == [
        (first["start_s"] + 0.5, first["end_s"]), (third["start_s"], third["end_s"])]
    assert {k: v for k, v in edited.items() if k != "moments"} == {
        k: v for k, v in json.loads((tmp_path / "out" / "moments.json").read_text()).items() if k != "moments"}
    out = tmp_path / "recut"
    result = moments(make_cfg(["stage=cut", f"moments_json={saved}", f"episode={tmp_path / 'episode.mp4'}",
                               f"output_dir={out}", f"tracking.uri=sqlite:///{tmp_path}/mlflow.db"],
                              config_name="moments"))
    assert len(result["moments"]) == 2
    _, frames, _ = decoded(out / "trailer.mp4")
    # Frame by frame: the nudged first moment, then the third; the second's frames are not there.
    assert [number_of(f) for f in frames] == [k % 256 for m in (edited["moments"][0], third) for k in frames_of(m)]
    assert len(frames) == result["trailer"]["frames"] < sum(len(frames_of(m)) for m in (first, second, third))
