"""Faults past the config, through every entry point they apply to: one line, a non-zero exit, nothing lost.

One case per fault class runs by default; the other entry points' cases are marked slow.

Inputs an output would replace, names that collide, read-only and full disks (real tmpfs mounts), a
corrupted and a locked MLflow store, a video cut off in the middle, and the messages a user reads.
"""

import json
import os
import sqlite3
import subprocess
import sys

import av
import mlflow
import pytest

from emotion.screening.recordings import recordings_from, unique_names

from conftest import TINY, isolated, run_cli, store_uri
from helpers.files import face_video, write_viewer
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


def test_export_to_a_read_only_folder_is_one_line(tmp_path, read_only_disk):
    line = one_error_line(run_cli("emotion.export", f"output_dir={read_only_disk}/litert", cwd=tmp_path), 1)
    assert line == f"error: cannot write {read_only_disk}/litert: Read-only file system"


@pytest.mark.slow
def test_infer_to_a_read_only_folder_is_one_line(store, tmp_path, read_only_disk):
    clip = face_video(tmp_path / "clip.mp4")
    line = one_error_line(run_cli("emotion.infer", f"tracking.uri={store_uri(store)}", f"source={clip}",
                                  "display=false", f"output.csv={read_only_disk}/frames.csv", cwd=tmp_path), 1)
    assert line == f"error: cannot write {read_only_disk}: Read-only file system"


@pytest.mark.parametrize("output,reason", [pytest.param("csv", "No space left on device", marks=pytest.mark.slow),
                                           ("video", "is the disk full?")])
def test_infer_to_a_full_disk_keeps_no_partial_file(store, tmp_path, full_disk, output, reason):
    """OpenCV's video writer reports nothing when the disk fills: the written file is read back."""
    clip = face_video(tmp_path / "clip.mp4", frames=600, size=48)
    result = run_cli("emotion.infer", f"tracking.uri={store_uri(store)}", f"source={clip}", "display=false",
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
    result = run_cli("emotion.infer", f"tracking.uri={store_uri(store)}", f"source={broken}", "display=false",
                     "detector=none", f"output.summary={tmp_path}/summary.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["expected_frames"] == 200 and 10 < summary["read_frames"] < 190
    assert summary["missing_frames"] == 200 - summary["read_frames"] - summary["failed_frames"] > 0
    said = result.stdout + result.stderr
    assert "ends after" in said and "missing (a damaged or cut-off file)" in said


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
