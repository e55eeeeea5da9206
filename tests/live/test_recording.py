"""A camera's recording on disk: segments named only when complete, joined without a frame or a sound lost, their
records joined in step with them; a source's ring drops what a slow recorder cannot take, as a camera does."""

import numpy as np
import pytest
from omegaconf import OmegaConf

from emotion.core.errors import EmotionError
from emotion.live.feed import Feed, Video
from emotion.live.folder import Layout, segment_record
from emotion.live.join import join_records, join_segments
from emotion.live.segments import SOUND_RATE, SegmentRecorder, silence
from emotion.live.session import Group, record_live

from helpers.media import decoded, number_of, numbered

RECORD = OmegaConf.create({"segment_s": 1.0, "codec": "libx264", "preset": "superfast", "crf": 18, "pace": True,
                           "buffer_s": 2})


def tone(samples: int, start: int):
    frame = silence(samples)
    frame.planes[0].update((0.3 * np.sin(2 * np.pi * 440 * (start + np.arange(samples)) / SOUND_RATE))
                           .astype(np.float32).tobytes())
    return frame


def test_segments_are_named_when_complete_and_join_without_a_frame_lost(tmp_path):
    layout, closed = Layout(tmp_path), []
    folder = layout.segments("sofa")
    recorder = SegmentRecorder(folder, 10, RECORD, sound=True, closed=lambda k, path, n: closed.append((k, n)))
    for i in range(25):  # 2.5 s at 10 fps with its sound
        assert recorder.video(numbered(i), i / 10) == i // 10 + 1
        recorder.audio(tone(SOUND_RATE // 10, i * SOUND_RATE // 10), i / 10)
    # Segments 1 and 2 are complete and named; the third is still open under a hidden temporary name.
    assert [p.name for p in layout.complete_segments("sofa")] == ["segment-00001.mp4", "segment-00002.mp4"]
    assert [p.name.startswith(".segment-00003.mp4.partial-") for p in folder.iterdir()].count(True) == 1
    assert closed == [(1, 10), (2, 10)]
    # What a crash leaves is whole: the complete segments join into the first two seconds.
    crashed = join_segments(layout.complete_segments("sofa"), tmp_path / "crashed.mp4")
    assert crashed == {"frames": 20, "seconds": 2.0, "segments": 2}
    recorder.close()
    assert closed[-1] == (3, 5) and not [p for p in folder.iterdir() if p.name.startswith(".")]
    joined = join_segments(layout.complete_segments("sofa"), tmp_path / "joined.mp4")
    times, frames, sound_s = decoded(tmp_path / "joined.mp4")
    assert joined["frames"] == 25 and [number_of(f) for f in frames] == list(range(25))
    assert times == [round(i / 10, 3) for i in range(25)]
    assert abs(sound_s - 2.5) < 0.1


def test_the_records_are_joined_only_when_every_segment_has_one(tmp_path):
    segments = []
    for k in (1, 2):
        segment = tmp_path / f"segment-0000{k}.mp4"
        segment.write_bytes(b"")
        segment_record(segment).write_text(f"frame,time_s\n{k},{k}.000\n")
        segments.append(segment)
    out = tmp_path / "frames" / "sofa.csv"
    assert join_records(segments, out, {"made_of": {"x": 1}})
    assert out.read_text().splitlines() == ["frame,time_s", "1,1.000", "2,2.000"]
    assert (tmp_path / "frames" / "sofa.json").is_file()
    segment_record(segments[1]).unlink()
    assert not join_records(segments, tmp_path / "other.csv", {}) and not (tmp_path / "other.csv").exists()


def test_a_full_ring_drops_frames_as_a_camera_does_and_a_file_waits_instead():
    ring = Feed(2, block=False)
    for i in range(5):
        ring.video(Video(i, i / 10))
    assert (ring.delivered, ring.dropped) == (5, 3)
    assert [ring.get(0).index for _ in range(2)] == [0, 1] and ring.get(0) is None
    waiting = Feed(2, block=True)
    waiting.video(Video(0, 0.0))
    waiting.video(Video(1, 0.1))
    waiting.stopping.set()  # a full ring that waits lets go once the screening ends
    waiting.video(Video(2, 0.2))
    assert waiting.dropped == 0 and [waiting.get(0).index for _ in range(3)] == [0, 1, 2]


def test_nothing_to_screen_is_one_line_naming_each_source_and_leaves_nothing(tmp_path):
    (tmp_path / "notes.mp4").write_text("not a video")
    groups = [Group(name, location=str(tmp_path / f"{name}.mp4")) for name in ("missing", "notes")]
    with pytest.raises(EmotionError) as caught:  # nothing past the sources is reached: no page, engine or config
        record_live(groups, Layout(tmp_path / "out"), None, None, None, 3, RECORD, None, None, None, None, {})
    said = str(caught.value)
    assert "\n" not in said and said.startswith("nothing to screen: cannot read video ")
    assert "missing.mp4" in said and "; cannot read video " in said and "notes.mp4" in said
    assert not (tmp_path / "out").exists()
