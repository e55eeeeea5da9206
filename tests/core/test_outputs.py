"""Outputs written whole or not at all, never over an input; storage faults on real read-only and full disks."""

import os
import signal
import subprocess
import sys

import pytest

from emotion.core.errors import EmotionError
from emotion.core.outputs import StorageError, atomic, refuse_inputs, write_text


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if ".partial-" in p.name)


def test_a_failed_write_keeps_what_was_there_and_leaves_no_partial_file(tmp_path):
    target = write_text(tmp_path / "moments.json", "old\n")
    with pytest.raises(RuntimeError), atomic(target) as partial:
        partial.write_text("half of the new")
        raise RuntimeError("the writer failed")
    assert target.read_text() == "old\n" and leftovers(tmp_path) == []
    write_text(target, "new\n")
    assert target.read_text() == "new\n" and leftovers(tmp_path) == []


def test_a_killed_writer_leaves_the_old_file_whole(tmp_path):
    """A real SIGKILL mid-write: the final name still holds the previous, complete file."""
    target = write_text(tmp_path / "timeline.csv", "complete\n")
    code = ("import sys, time\nfrom emotion.core.outputs import atomic\n"
            f"with atomic({str(target)!r}) as p, open(p, 'w') as f:\n"
            "    f.write('partial'); f.flush(); print('writing', flush=True); time.sleep(60)\n")
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert target.read_text() == "complete\n"
    assert all(p.stat().st_size <= len("partial") for p in tmp_path.iterdir() if ".partial-" in p.name)


def test_read_only_disk_is_one_line_naming_the_file(read_only_disk):
    with pytest.raises(StorageError, match=r"^cannot write .*read-only/out(/summary.json)?: Read-only file system"):
        write_text(read_only_disk / "out" / "summary.json", "{}")


def test_full_disk_is_one_line_and_leaves_nothing(full_disk):
    with pytest.raises(StorageError, match=r"^cannot write .*big.csv: No space left on device"):
        write_text(full_disk / "big.csv", "x" * 2_000_000)
    assert leftovers(full_disk) == [] and not (full_disk / "big.csv").exists()


def test_a_folder_in_the_way_is_named(tmp_path):
    (tmp_path / "report.html").mkdir()
    with pytest.raises(StorageError, match="report.html: a folder is in the way"):
        write_text(tmp_path / "report.html", "<html>")
    (tmp_path / "file").write_text("")
    with pytest.raises(StorageError, match="cannot write .*file"):
        write_text(tmp_path / "file" / "inside.txt", "")


def test_an_output_never_replaces_an_input(tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"video")
    os.symlink(clip, tmp_path / "link.mp4")
    with pytest.raises(EmotionError, match="output.video .*clip.mp4 would replace the input source"):
        refuse_inputs({"output.video": clip}, {"source": tmp_path / "link.mp4"})
    with pytest.raises(EmotionError, match="would replace the input data_root"):
        refuse_inputs({"fp32.tflite": tmp_path / "fp32.tflite"}, {"data_root": tmp_path})
    with pytest.raises(EmotionError, match="output.summary and output.csv are one file"):
        refuse_inputs({"output.csv": tmp_path / "a.csv", "output.summary": tmp_path / "sub/../a.csv"}, {})
    refuse_inputs({"output.csv": tmp_path / "out" / "a.csv"}, {"source": clip, "stream": "rtsp://host/x"})
    assert clip.read_bytes() == b"video"



def test_temporary_files_of_killed_writers_are_cleared_by_the_next(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".summary.json.partial-{dead.stdout.strip()}.json"
    stale.write_text("half")
    live = tmp_path / f".summary.json.partial-{os.getppid()}.json"  # a writer still running keeps its file
    live.write_text("busy")
    write_text(tmp_path / "summary.json", "{}")
    assert not stale.exists() and live.exists() and (tmp_path / "summary.json").read_text() == "{}"
