"""Faults past the config, through every entry point they apply to: one line, a non-zero exit, nothing lost.

One case per fault class runs by default; the other entry points' cases are marked slow.

Inputs an output would replace, names that collide, read-only and full disks (real tmpfs mounts), a
corrupted and a locked MLflow store, a video cut off in the middle, and the messages a user reads.
"""

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import av
import mlflow
import pytest

from emotion.data.synthetic import CLASSES
from emotion.screening.recordings import recordings_from, unique_names

from conftest import SMOKE, TINY, isolated, run_cli, store_uri
from helpers.files import face_video, write_tree, write_viewer
from helpers.media import episode as numbered_episode
from helpers.media import numbered


def one_error_line(result, code: int) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == code, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr[-2000:]
    return errors[0]


def cut_off(path, frames: int):
    """A video of `frames` frames (its index up front, as cameras and phones write it) whose second half is gone:
    what a crashed recorder or an interrupted copy leaves."""
    whole = path.with_name("whole.mp4")
    with av.open(str(whole), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=25, options={"g": "10"})  # a key frame every 10
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        for i in range(frames):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(numbered(i), format="bgr24")))
        container.mux(stream.encode(None))
    data = whole.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


# --- inputs are sacred ---------------------------------------------------------------------------------------

def test_infer_refuses_an_output_that_is_its_source(tmp_path):
    clip = face_video(tmp_path / "clip.mp4")
    before = clip.read_bytes()
    line = one_error_line(run_cli("emotion.infer", f"source={clip}", f"output.video={clip}", cwd=tmp_path), 2)
    assert "output.video" in line and "would replace the input source" in line
    assert clip.read_bytes() == before


def test_moments_refuses_to_write_its_trailer_over_the_episode(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    episode = numbered_episode(out / "trailer.mp4", seconds=3)
    before = episode.read_bytes()
    viewer = write_viewer(tmp_path / "v.csv", 3, [])
    line = one_error_line(run_cli("emotion.moments", f"frames_csv=[{viewer}]", f"episode={episode}",
                                  f"output_dir={out}", cwd=tmp_path), 2)
    assert "trailer.mp4" in line and "would replace the input episode" in line
    assert episode.read_bytes() == before


@pytest.mark.slow
def test_export_refuses_to_write_into_its_data(tmp_path):
    line = one_error_line(run_cli("emotion.export", f"data_root={tmp_path}", f"output_dir={tmp_path}/litert",
                                  cwd=tmp_path), 2)
    assert "would replace the input data_root" in line


# --- one output, one file ------------------------------------------------------------------------------------

def test_viewer_names_that_collide_after_sanitising_get_their_own_files(tmp_path):
    manifest = tmp_path / "viewers.csv"
    manifest.write_text("viewer,path,offset_s\ncam,a.mp4,0\ncam,b.mp4,0\ncam_1,c.mp4,0\nc/a m,d.mp4,0\nc a m,e.mp4,0\n")
    names = [r.viewer for r in recordings_from([], str(manifest))]
    assert names == ["cam", "cam_2", "cam_1", "c_a_m", "c_a_m_2"] and len(set(names)) == len(names)
    assert unique_names(["a", "a", "a", "a_2"]) == ["a", "a_3", "a_4", "a_2"]


def test_runs_started_together_never_share_an_output_folder(tmp_path):
    """Two processes started in the same second: each its own folder (and log)."""
    code = ("from emotion.core.config import output_folder; print(output_folder('infer'))")
    env = {k: v for k, v in os.environ.items() if k != "EMOTION_LAUNCHER_PID"}
    runs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
            for _ in range(2)]
    folders = [r.communicate(timeout=120)[0].strip() for r in runs]
    assert all(f.startswith("outputs/infer/") for f in folders) and folders[0] != folders[1]


# --- storage faults ------------------------------------------------------------------------------------------

def test_train_in_a_read_only_folder_stops_before_anything(read_only_disk):
    line = one_error_line(run_cli("emotion.train", *TINY, cwd=read_only_disk), 1)
    assert line.startswith("error: cannot write outputs/train/") and line.endswith(": Read-only file system")
    assert list(read_only_disk.iterdir()) == []


@pytest.mark.slow
def test_train_with_read_only_checkpoints_leaves_no_mlflow_run(tmp_path, read_only_disk):
    result = run_cli("emotion.train", *TINY, *isolated(tmp_path), f"paths.checkpoint_dir={read_only_disk}/ckpt",
                     cwd=tmp_path)
    line = one_error_line(result, 1)
    assert "cannot write" in line and "read-only/ckpt" in line and "Read-only file system" in line
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    assert mlflow.search_runs(search_all_experiments=True, output_format="list") == []


def test_moments_on_a_full_disk_is_one_line_and_leaves_no_partial_file(tmp_path, full_disk):
    viewer = write_viewer(tmp_path / "v.csv", 20, [(5, 9, "happy")])
    episode = numbered_episode(tmp_path / "episode.mp4", seconds=20)
    line = one_error_line(run_cli("emotion.moments", f"frames_csv=[{viewer}]", f"episode={episode}",
                                  f"output_dir={full_disk}/out", f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
                                  cwd=tmp_path), 1)
    assert "cannot write" in line and "No space left on device" in line
    written = [p.name for p in (full_disk / "out").rglob("*")] if (full_disk / "out").exists() else []
    assert not [name for name in written if ".partial-" in name]


@pytest.mark.slow
def test_export_to_a_read_only_folder_is_one_line(tmp_path, read_only_disk):
    line = one_error_line(run_cli("emotion.export", f"output_dir={read_only_disk}/litert", cwd=tmp_path), 1)
    assert line == f"error: cannot write {read_only_disk}/litert: Read-only file system"


@pytest.mark.slow
def test_infer_to_a_read_only_folder_is_one_line(store, tmp_path, read_only_disk):
    clip = face_video(tmp_path / "clip.mp4")
    line = one_error_line(run_cli("emotion.infer", f"tracking.uri={store_uri(store)}", SMOKE, f"source={clip}",
                                  "display=false", f"output.csv={read_only_disk}/frames.csv", cwd=tmp_path), 1)
    assert line == f"error: cannot write {read_only_disk}: Read-only file system"


@pytest.mark.slow
@pytest.mark.parametrize("output,reason", [("csv", "No space left on device"), ("video", "is the disk full?")])
def test_infer_to_a_full_disk_keeps_no_partial_file(store, tmp_path, full_disk, output, reason):
    """OpenCV's video writer reports nothing when the disk fills: the written file is read back."""
    clip = face_video(tmp_path / "clip.mp4", frames=600, size=48)
    result = run_cli("emotion.infer", f"tracking.uri={store_uri(store)}", SMOKE, f"source={clip}", "display=false",
                     f"output.{output}={full_disk}/out.{'csv' if output == 'csv' else 'mp4'}", "detector=none",
                     cwd=tmp_path)
    line = one_error_line(result, 1)
    assert f"cannot write {full_disk}/out." in line and reason in line
    assert [p.name for p in full_disk.iterdir()] == [".filler"]


# --- damaged stores and media --------------------------------------------------------------------------------

@pytest.mark.parametrize("entry", [pytest.param("train", marks=pytest.mark.slow), "infer"])
def test_a_corrupted_store_is_named(tmp_path, entry):
    damaged = tmp_path / "mlflow.db"
    damaged.write_bytes(b"this is not a database" * 500)
    args = [*TINY, *isolated(tmp_path)] if entry == "train" else [f"tracking.uri=sqlite:///{damaged}",
                                                                    f"source={face_video(tmp_path / 'c.mp4')}"]
    line = one_error_line(run_cli(f"emotion.{entry}", *args, cwd=tmp_path), 2)
    assert f"MLflow store sqlite:///{damaged} is damaged (file is not a database)" in line and "move it aside" in line
    assert damaged.read_bytes() == b"this is not a database" * 500


@pytest.mark.slow
def test_a_locked_store_is_named(store, tmp_path):
    locked = tmp_path / "mlflow.db"
    locked.write_bytes((store / "mlflow.db").read_bytes())
    holder = sqlite3.connect(locked)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        line = one_error_line(run_cli("emotion.infer", f"tracking.uri=sqlite:///{locked}",
                                      f"source={face_video(tmp_path / 'c.mp4')}", "display=false", cwd=tmp_path), 2)
    finally:
        holder.rollback()
        holder.close()
    assert f"MLflow store sqlite:///{locked} is locked by another process" in line


def test_infer_says_how_much_of_a_cut_off_video_was_missing(store, tmp_path):
    broken = cut_off(tmp_path / "broken.mp4", 200)
    result = run_cli("emotion.infer", f"tracking.uri={store_uri(store)}", SMOKE, f"source={broken}", "display=false",
                     "detector=none", f"output.summary={tmp_path}/summary.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["expected_frames"] == 200 and 10 < summary["read_frames"] < 190
    assert summary["missing_frames"] == 200 - summary["read_frames"] - summary["failed_frames"] > 0
    said = result.stdout + result.stderr
    assert "ends after" in said and "missing (a damaged or cut-off file)" in said


def test_a_nan_offset_in_the_manifest_is_refused_naming_the_row(tmp_path):
    """A spreadsheet's empty cell exported as NaN is not an offset: one line naming the file and row."""
    manifest = tmp_path / "viewers.csv"
    manifest.write_text("viewer,path,offset_s\nann,ann.mp4,1.5\nbob,bob.mp4,nan\n")
    line = one_error_line(run_cli("emotion.moments", f"manifest={manifest}", f"output_dir={tmp_path}/out",
                                  cwd=tmp_path), 2)
    assert f"{manifest}:3:" in line and "offset_s 'nan' is not a number of seconds" in line
    assert not (tmp_path / "out" / "moments.json").exists()


def test_a_record_cut_mid_row_is_scored_without_its_last_row(tmp_path):
    viewer = write_viewer(tmp_path / "viewer1.csv", 20, [(8, 12, "happy")])
    text = viewer.read_text()
    viewer.write_text(text[: text.rstrip("\n").rfind(",", 0, len(text) - 40)])  # the last row stops mid-way
    rows = len(text.splitlines()) - 1
    result = run_cli("emotion.moments", f"frames_csv=[{viewer}]", "duration_s=20", f"output_dir={tmp_path}/out",
                     "shots=none", cwd=tmp_path)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert f"{viewer}, line {rows + 1}: incomplete row left out" in result.stdout + result.stderr
    assert json.loads((tmp_path / "out" / "moments.json").read_text())["viewers"] == ["viewer1#0"]


@pytest.mark.slow
def test_evaluate_counts_every_unreadable_image(store, tmp_path):
    """Files the data source could not read when it listed the folders count as unreadable too."""
    root = write_tree(tmp_path / "faces", per_class=6, classes=list(CLASSES))
    (root / "happy" / "empty.png").write_bytes(b"")
    (root / "sad" / "notes.png").write_text("not an image")
    (root / "neutral" / "loop.png").symlink_to(root / "neutral" / "loop.png")
    result = run_cli("emotion.evaluate", f"tracking.uri={store_uri(store)}", SMOKE, "data=folder", f"data.root={root}",
                     "data.val_split=0.2", "data.test_split=0.3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["unreadable"] == 3 and line["n"] > 0
    client = mlflow.MlflowClient(store_uri(store))
    [run] = client.search_runs([client.get_experiment_by_name("evaluation").experiment_id],
                               order_by=["attributes.start_time DESC"], max_results=1)
    report = json.loads(open(client.download_artifacts(run.info.run_id, "test_report.json", str(tmp_path))).read())
    assert sorted(os.path.basename(p) for p in report["unreadable"]) == ["empty.png", "loop.png", "notes.png"]


# --- interrupts keep what was done ----------------------------------------------------------------------------

def interrupt_when(process: subprocess.Popen, ready, signum: int, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while not ready() and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be interrupted"
    process.send_signal(signum)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_infer_keeps_its_csv_video_and_summary(store, tmp_path, signum):
    """Ctrl-C (or a scheduler's SIGTERM) ends a run: the frames done are in the CSV and the video, under their
    names, the summary says interrupted, exit 130."""
    clip = face_video(tmp_path / "long.mp4", frames=3000)
    out = {name: tmp_path / name for name in ("f.csv", "a.mp4", "summary.json")}
    command = [sys.executable, "-m", "emotion.infer", f"tracking.uri={store_uri(store)}", SMOKE, f"source={clip}",
               "display=false", "detector=none", "engine=keras", f"output.csv={out['f.csv']}",
               f"output.video={out['a.mp4']}", f"output.summary={out['summary.json']}"]
    run = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    interrupt_when(run, lambda: any(p.stat().st_size > 20000 for p in tmp_path.glob(".f.csv.partial-*")), signum)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "interrupted after" in stderr
    rows = list(csv.DictReader(open(out["f.csv"])))
    summary = json.loads(out["summary.json"].read_text())
    assert summary["interrupted"] is True and 0 < summary["frames"] == len(rows) < 3000
    with av.open(str(out["a.mp4"])) as video:
        assert sum(1 for _ in video.decode(video=0)) == len(rows)
    assert not list(tmp_path.glob(".*.partial-*"))


# --- messages a user reads -----------------------------------------------------------------------------------

def test_no_cuda_error_on_a_cpu_machine_and_no_random_weights_warning_by_design(tmp_path):
    code = ("import emotion, logging, keras\nlogging.basicConfig(level=logging.INFO)\n"
            "from emotion.core.config import compose_config\nfrom emotion.model.assemble import build_model\n"
            "cfg = compose_config('train', ['experiment=ferplus_cpu'])\n"
            "build_model(cfg.backbone, cfg.head, 9, 'unused')\n"
            "cfg = compose_config('train', ['backbone.weights=null', 'backbone.input_size=32'])\n"
            "build_model(cfg.backbone, cfg.head, 9, 'unused')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "cuInit" not in result.stderr and "CUDA error" not in result.stderr
    assert result.stderr.count("RANDOM initial weights") == 1, "only the pretrained design (resnet50) warns"
    assert "starts from random weights, as designed" in result.stderr
