"""Where a live screening keeps what it captures, and `screening.json`: the facts a later `stage=moments` needs.

    <output_dir>/live/<viewer>/segment-00001.mp4   each camera's recording, in segments named when complete
    <output_dir>/live/<viewer>/segment-00001.csv   the per-frame record of that segment's samples, likewise
    <output_dir>/live/screening.json               the groups, when each one's recording started, the episode's mark
    <output_dir>/recordings/<viewer>.mp4           the segments joined, at the end
    <output_dir>/frames/<viewer>.csv (+ .json)     the segments' records joined: what emotion.moments reads
    <output_dir>/viewers.csv                       the manifest (viewer,path,offset_s) the moments stage is given

A recording's `started_wall` is the wall-clock time of its time 0 (its first frame); with the operator's mark
(`mark_wall`, the episode's start), its manifest offset is `started_wall - mark_wall`: the episode time at the
recording's start, as emotion.moments reads it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from emotion.core.errors import EmotionError
from emotion.core.outputs import json_text, write_text

SEGMENT = re.compile(r"segment-(\d{5})\.mp4")


@dataclass(frozen=True)
class Layout:
    out: Path

    @property
    def live(self) -> Path:
        return self.out / "live"

    @property
    def facts(self) -> Path:
        return self.live / "screening.json"

    @property
    def summary(self) -> Path:
        return self.live / "summary.json"

    @property
    def manifest(self) -> Path:
        return self.out / "viewers.csv"

    def segments(self, viewer: str) -> Path:
        return self.live / viewer

    def segment(self, viewer: str, k: int) -> Path:
        return self.segments(viewer) / f"segment-{k:05d}.mp4"

    def recording(self, viewer: str) -> Path:
        return self.out / "recordings" / f"{viewer}.mp4"

    def record(self, viewer: str) -> Path:
        return self.out / "frames" / f"{viewer}.csv"

    def complete_segments(self, viewer: str) -> list[Path]:
        """The segments of `viewer` under their final names, in order (an open one has a hidden temporary name)."""
        folder = self.segments(viewer)
        found = [p for p in folder.iterdir() if SEGMENT.fullmatch(p.name)] if folder.is_dir() else []
        return sorted(found)


def segment_record(segment: Path) -> Path:
    """The per-frame record of a segment's samples."""
    return segment.with_suffix(".csv")


def write_facts(layout: Layout, facts: dict) -> None:
    write_text(layout.facts, json_text(facts, "screening.json"))


def read_facts(layout: Layout) -> dict:
    """screening.json of a screening folder; an `EmotionError` when there is none (not a live screening's folder)."""
    try:
        facts = json.loads(layout.facts.read_text())
    except FileNotFoundError:
        raise EmotionError(f"{layout.out} is not the folder of a live screening (no {layout.facts})") from None
    except (OSError, ValueError) as e:
        raise EmotionError(f"cannot read {layout.facts}: {e}") from None
    return facts


def offset_s(group: dict, mark_wall: float | None) -> float | None:
    """Where a group's recording starts on the episode's timeline, from the operator's mark; None without one."""
    if mark_wall is None or group.get("started_wall") is None:
        return None
    return round(float(group["started_wall"]) - float(mark_wall), 3)
