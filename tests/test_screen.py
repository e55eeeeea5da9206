"""`python -m emotion.screen`: sources recorded and classified live, the page updating in headless Chromium, the
end of a screening being a normal screening (the live records kept by moments), a killed screening finished from
what it saved, and bad sources, a busy port and a full disk each one line while the rest goes on."""

import csv
import json
import signal
import socket
import subprocess
import sys
import threading
import time

import av
import pytest

from emotion.live.folder import Layout

from conftest import SMOKE, store_uri
from helpers.browser import watch_live_page
from helpers.media import episode, face_clip


def start(tmp_path, *args, stdin=subprocess.DEVNULL):
    """emotion.screen in its own process, its output in files: (process, stdout file, stderr file)."""
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    run = subprocess.Popen([sys.executable, "-m", "emotion.screen", *args], cwd=tmp_path, stdin=stdin,
                           stdout=out.open("w"), stderr=err.open("w"), text=True)
    return run, out, err


def wait_for(condition, run, what: str, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while not condition():
        assert run.poll() is None, f"emotion.screen ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.2)


def page_of(run, err) -> str:
    wait_for(lambda: "the page: " in err.read_text(), run, "page")
    return err.read_text().split("the page: ")[1].split()[0]


def live(store, out, *more):
    return [f"tracking.uri={store_uri(store)}", SMOKE, "detector=none", "page.port=0", "record.segment_s=1",
            f"output_dir={out}", *more]


def frames_in(path) -> int:
    with av.open(str(path)) as video:
        return sum(1 for _ in video.decode(video=0))


def errors(err) -> list[str]:
    text = err.read_text()
    assert "Traceback" not in text, text[-3000:]
    return [line for line in text.splitlines() if line.startswith("error: ")]


def test_a_port_in_use_is_one_line_before_anything_is_recorded(tmp_path):
    clip = face_clip(tmp_path / "sofa.mp4", 1)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run, _, err = start(tmp_path, f"sources=[{clip}]", f"page.port={port}", f"output_dir={tmp_path}/out")
        assert run.wait(timeout=300) == 2
    assert errors(err) == [f"error: page: cannot listen on 127.0.0.1:{port} (Address already in use): choose another "
                           "port with page.port=<port> (0: any free one)"]
    assert not (tmp_path / "out" / "live").exists()


@pytest.mark.slow
def test_the_page_updates_during_a_screening_that_ends_as_a_screening(chromium, store, tmp_path):
    """Two groups; the page shows both cameras and fills the timeline in while they play; a click marks the episode's
    start, two stop it; the moments stage then keeps the live records and places the recordings by the mark."""
    clips = [face_clip(tmp_path / f"{name}.mp4", 40, seed=i) for i, name in enumerate(("sofa", "chair"))]
    out = tmp_path / "out"
    run, stdout, err = start(tmp_path, f"sources=[{clips[0]},{clips[1]}]", f"episode={episode(tmp_path / 'ep.mp4', 8)}",
                             *live(store, out, 'moments=["shots=none","sync=given"]'))
    url = page_of(run, err)
    updates = "parseInt(document.body.dataset.updates, 10)"
    pictures = "Array.from(document.querySelectorAll('.camera img')).filter(i => i.naturalWidth > 0).length"
    steps = [
        ("both cameras' pictures", f"{pictures} === 2 && document.querySelectorAll('#timeline polyline').length"),
        ("an update after that", f"{updates} > 3 && {updates}"),
        ("the mark", "document.getElementById('mark').click() || true"),
        ("the episode's clock", "document.getElementById('clock').textContent.startsWith('episode')"),
        ("the timeline on the episode's clock",
     "(n => !n.includes('not marked') && n)(document.getElementById('timeline-note').textContent)"),
        ("the screenshot", "document.querySelectorAll('.camera .faces li').length >= 2"),
        ("updates going on", f"{updates}"),
        ("the timeline's time axis inside its box",
         "(s => s.getBBox().y + s.getBBox().height <= s.viewBox.baseVal.height)(document.getElementById('timeline'))"),
        ("the stop", "(document.getElementById('stop').click(), document.getElementById('stop').click(), true)"),
    ]
    seen, problems = watch_live_page(chromium, url, steps, tmp_path / "browser", tmp_path / "page.png")
    assert problems == [] and seen[6] > seen[1] > 3
    assert run.wait(timeout=600) == 0, err.read_text()[-3000:]
    assert errors(err) == [] and (tmp_path / "page.png").stat().st_size > 10000
    layout = Layout(out)
    rows = list(csv.DictReader(layout.manifest.open()))
    assert [r["viewer"] for r in rows] == ["sofa", "chair"] and all(float(r["offset_s"]) < 0 for r in rows)
    summary = json.loads(layout.summary.read_text())
    for camera, recording in zip(summary["cameras"], summary["recordings"]):
        assert camera["samples_missed"] == 0 and camera["samples_due"] == camera["samples_classified"] > 3
        assert frames_in(layout.recording(camera["viewer"])) == camera["frames"] == recording["frames"]
        assert recording["live_record_kept"]
        assert f"recording {camera['viewer']}: its per-frame record is complete" in stdout.read_text()  # logged
    result = json.loads((out / "moments.json").read_text())
    assert result["viewers"] == ["sofa#0", "chair#0"] and (out / "report.html").is_file()
    assert [r["offset_s"] for r in result["recordings"]] == [float(r["offset_s"]) for r in rows]


@pytest.mark.slow
def test_a_killed_screening_loses_at_most_its_open_segment(store, tmp_path):
    clip = face_clip(tmp_path / "sofa.mp4", 60)
    out = tmp_path / "out"
    run, _, err = start(tmp_path, f"sources=[{clip}]", "stage=record", *live(store, out))
    layout = Layout(out)
    wait_for(lambda: (layout.segments("sofa") / "segment-00004.csv").is_file(), run, "fourth segment's record")
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=60)
    saved = layout.complete_segments("sofa")
    assert len(saved) >= 4 and [p.name for p in layout.segments("sofa").iterdir() if p.name.startswith(".")]
    frames = sum(frames_in(p) for p in saved)  # every complete segment is a whole file
    finished = subprocess.run([sys.executable, "-m", "emotion.screen", "stage=moments", f"output_dir={out}",
                               f"tracking.uri={store_uri(store)}", SMOKE, "detector=none", 'moments=["shots=none"]'],
                              cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert frames_in(layout.recording("sofa")) == frames
    samples = list(csv.DictReader(layout.record("sofa").open()))
    assert len(samples) == sum(len(list(csv.DictReader((p.with_suffix(".csv")).open()))) for p in saved
                               if p.with_suffix(".csv").is_file())
    assert json.loads((out / "moments.json").read_text())["viewers"] == ["sofa#0"]


def stream_that_stops(path, seconds: float) -> str:
    """A stream URL (MPEG-TS over TCP) that plays `path` at about its pace, then hangs up."""
    data = path.read_bytes()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve():
        connection, _ = server.accept()
        with connection, server:
            for start in range(0, len(data), len(data) // 20):
                connection.sendall(data[start:start + len(data) // 20])
                time.sleep(seconds / 20)

    threading.Thread(target=serve, daemon=True).start()
    return f"tcp://127.0.0.1:{server.getsockname()[1]}"


@pytest.mark.slow
def test_bad_sources_are_one_line_each_and_the_others_go_on(store, tmp_path):
    """A camera that does not open and a stream that stops: one line each; the file goes on, Ctrl-C ends the
    screening as a screening, with what the stream delivered kept."""
    url = stream_that_stops(face_clip(tmp_path / "stream.ts", 6), 6)
    clip = face_clip(tmp_path / "sofa.mp4", 60)
    out = tmp_path / "out"
    run, _, err = start(tmp_path, "cameras=[7]", f"sources=[{clip},{url}]", *live(store, out, 'moments=["shots=none"]'))
    wait_for(lambda: "stopped: the stream ended" in err.read_text(), run, "stream's end")
    run.send_signal(signal.SIGINT)
    assert run.wait(timeout=600) == 0, err.read_text()[-3000:]
    lines = errors(err)
    assert len(lines) == 2 and lines[0].startswith("error: camera 7 cannot be opened")
    assert lines[1] == f"error: stream {url} stopped: the stream ended"
    recordings = {r["viewer"]: r for r in json.loads(Layout(out).summary.read_text())["recordings"]}
    assert set(recordings) == {"sofa", "stream2"} and recordings["stream2"]["frames"] > 10
    assert set(json.loads((out / "moments.json").read_text())["viewers"]) == {"sofa#0", "stream2#0"}


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_keeps_the_complete_segments(store, tmp_path, full_disk):
    clip = face_clip(tmp_path / "sofa.mp4", 60, size=160)
    out = full_disk / "out"
    run, _, err = start(tmp_path, f"sources=[{clip}]", *live(store, out))
    assert run.wait(timeout=600) == 1
    lines = errors(err)
    assert lines and all("No space left on device" in line for line in lines)
    saved = Layout(out).complete_segments("sofa")
    assert saved and all(frames_in(p) > 0 for p in saved)
