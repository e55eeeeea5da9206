"""The editor's timelines: each file read back by OpenTimelineIO has every moment as a clip of the episode, to
the frame, at a whole and at NTSC's 29.97 frame rate, and the trailer holds exactly those frames."""

import json
import math
from fractions import Fraction

import opentimelineio as otio
import pytest

from emotion.moments import moments
from emotion.screening.interchange import frame_rate, write_timelines
from emotion.screening.trailer import Media

from conftest import make_cfg
from helpers.files import write_viewer
from helpers.media import decoded, episode, number_of

SECONDS = 45
BURSTS = [(6, 11, "happy"), (20, 24, "surprise"), (33, 39, "fear")]


def first_frame(seconds: float, rate: Fraction) -> int:
    """The first frame shown at or after `seconds` (frame k is shown at k / rate), in exact arithmetic."""
    return math.ceil(Fraction(str(seconds)) * rate)


def clips(path, rate: Fraction) -> dict:
    """{track kind: [clips]} of a timeline file, read by OpenTimelineIO (an EDL has no rate of its own)."""
    timeline = otio.adapters.read_from_file(str(path), **({"rate": float(rate)} if path.suffix == ".edl" else {}))
    return {track.kind: list(track.find_clips()) for track in timeline.tracks}


@pytest.mark.parametrize("rate", [Fraction(25), Fraction(30000, 1001)], ids=["25fps", "29.97fps"])
def test_every_clip_reads_back_where_moments_json_says_to_the_frame(tmp_path, rate):
    source = episode(tmp_path / "episode.mp4", seconds=SECONDS, rate=rate, tone_hz=330)
    csvs = [write_viewer(tmp_path / f"v{i}.csv", SECONDS, BURSTS, seed=i) for i in range(3)]
    out = tmp_path / "out"
    moments(make_cfg([f"frames_csv=[{','.join(map(str, csvs))}]", f"episode={source}", f"output_dir={out}",
                      f"tracking.uri=sqlite:///{tmp_path}/mlflow.db", "scoring.segments.top_k=3", "shots=none",
                      "scoring.segments.reaction_lag_s=1.234"],  # edges between frames at either rate
                     config_name="moments"))
    saved = json.loads((out / "moments.json").read_text())
    chosen = saved["moments"]
    assert len(chosen) == 3 and saved["timelines"]["frame_rate"] == f"{rate.numerator}/{rate.denominator}"
    spans = [(first_frame(m["start_s"], rate), first_frame(m["end_s"], rate)) for m in chosen]
    assert [end - start for start, end in spans] == [m["frames"] for m in chosen], "the trailer's own frame counts"
    read = {name: clips(out / name, rate) for name in ("moments.otio", "moments.edl", "moments.xml")}
    assert {name: sorted(tracks) for name, tracks in read.items()} == {
        "moments.otio": ["Audio", "Video"], "moments.edl": ["Video"], "moments.xml": ["Audio", "Video"]}
    checked = 0
    for name, tracks in read.items():
        for kind, found in tracks.items():
            assert len(found) == len(chosen), (name, kind)
            for clip, (start, end), m in zip(found, spans, chosen):
                where = clip.source_range
                assert where.start_time.rate == pytest.approx(float(rate), abs=1e-9), (name, kind)
                assert (where.start_time.to_frames(), where.duration.to_frames()) == (start, end - start), \
                    (name, kind, clip.name, m)
                assert clip.media_reference.target_url == source.resolve().as_uri()
                checked += 1
    assert checked == 5 * len(chosen)
    # The OTIO file: the episode's rate and length, and each moment's figures on its clip.
    video = read["moments.otio"]["Video"]
    available = video[0].media_reference.available_range
    assert available.duration.to_frames() == int(SECONDS * rate) and available.duration.rate == float(rate)
    for clip, m in zip(video, chosen):
        said = clip.metadata["emotion"]
        assert (said["score"], said["dominant_emotion"], list(said["reacting"])) == (
            m["score"], m["dominant_emotion"], m["reacting"])
        assert clip.markers[0].name.startswith(f"{clip.name}: {m['dominant_emotion']}, score {m['score']:.3f}")
    assert [clip.markers[0].name for clip in read["moments.xml"]["Video"]] == [c.markers[0].name for c in video]
    assert (out / "moments.edl").read_text().count("* LOC: ") == len(chosen)
    # The trailer is those frames, in story order.
    _, frames, _ = decoded(out / "trailer.mp4")
    assert [number_of(f) for f in frames] == [k % 256 for start, end in spans for k in range(start, end)]


def test_an_episode_at_a_rate_timecode_lacks_gets_the_otio_file_and_the_reason(tmp_path):
    said = write_timelines(tmp_path / "episode.mp4", Media(60.0, 10.0, 600, 96, 64, False),
                           [{"start_s": 1.05, "end_s": 4.0, "score": 0.5}], tmp_path)
    assert said == {"files": ["moments.otio"], "frame_rate": "10/1",
                    "left_out": "no EDL or XML: their SMPTE timecode has no 10 fps, the episode's rate"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moments.otio"]
    [clip] = otio.adapters.read_from_file(str(tmp_path / "moments.otio")).find_clips()
    assert (clip.source_range.start_time.to_frames(), clip.source_range.duration.to_frames()) == (11, 29)


def test_frame_rates_are_named_as_editors_name_them():
    rates = {25.0: Fraction(25), 24.0: Fraction(24), 30000 / 1001: Fraction(30000, 1001), 29.97: Fraction(30000, 1001),
             23.976: Fraction(24000, 1001), 59.94: Fraction(60000, 1001), 12.5: Fraction(25, 2)}
    assert {fps: frame_rate(Media(60.0, fps, 0, 96, 64, False)) for fps in rates} == rates
