"""Real storage faults: a read-only and a full filesystem (tmpfs mounts; skipped where this machine forbids mounts)."""

import subprocess

import pytest


def _mount(point, options: str) -> None:
    point.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")


def _unmount(point) -> None:
    subprocess.run(["umount", "-l", str(point)], capture_output=True)


@pytest.fixture
def read_only_disk(tmp_path):
    """A folder on a filesystem mounted read-only (even root cannot write there)."""
    point = tmp_path / "read-only"
    _mount(point, "size=1m,ro")
    yield point
    _unmount(point)


@pytest.fixture
def full_disk(tmp_path):
    """A folder on a 1 MiB filesystem with a little room left: a real ENOSPC on the first sizeable write."""
    point = tmp_path / "full"
    _mount(point, "size=1m")
    (point / ".filler").write_bytes(b"\0" * (1024 * 1024 - 64 * 1024))
    yield point
    _unmount(point)
