"""What this process has and costs: the CPUs it may use, its age, its peak memory (Linux /proc first)."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

LOADED = time.perf_counter()


def cores() -> int:
    """CPUs this process may run on (what TensorFlow's default thread pools use)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def cpuinfo(field: str) -> str:
    """The first value of a /proc/cpuinfo field ("model name", "flags"); empty off Linux or when absent."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.split(":", 1)[0].strip() == field:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def cpu_flags() -> set[str]:
    """The instruction-set flags of this machine's CPU (Linux /proc/cpuinfo; empty elsewhere)."""
    return set(cpuinfo("flags").split())


def cpu_name() -> str:
    """The CPU's model name and whether it has AVX-512 (XNNPACK's fastest kernels need it), for a benchmark's header."""
    avx512 = "with AVX-512" if "avx512f" in cpu_flags() else "without AVX-512"
    return f"{cpuinfo('model name') or 'unknown CPU'}, {avx512}"


def seconds_since_process_start() -> float:
    """Wall time since this process was created (Linux /proc), else since this module loaded."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - LOADED


def _status_mb(key: str) -> float | None:
    """A memory figure of this process from Linux's /proc/self/status (kB), in MB; None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """Peak resident memory of this process. Linux's VmHWM, unlike ru_maxrss, is not inherited
    from a larger parent across fork and exec."""
    peak = _status_mb("VmHWM")
    return peak if peak is not None else round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
