"""The episode side of a screening: its length, its shots, and what is made from it and the moments (the
trailer, the editor's timelines, the moments' thumbnails, the review page with the viewers' faces)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from emotion.screening.evidence import gather
from emotion.screening.interchange import ADAPTERS, write_timelines
from emotion.screening.review import write_report
from emotion.screening.shots import shot_boundaries, snap_to_shots
from emotion.screening.timeline import plot_timeline
from emotion.screening.trailer import cut_trailer, frames_between, media_info

# What `publish` writes, from the moments alone; a screening writes the rest too.
PUBLISHED = ("trailer.mp4", "report.html", "timeline.png", *ADAPTERS)
OUTPUTS = (*PUBLISHED, "moments.json", "timeline.csv", "evidence")


def screening_outputs(out: Path, viewers: list[str]) -> dict[str, Path]:
    """Every file (and the evidence folder) a screening writes in `out`, by what it is: checked against the inputs
    before any is written."""
    frames = {f"frames/{v}{suffix}": out / "frames" / f"{v}{suffix}" for v in viewers for suffix in (".csv", ".json")}
    return {**{name: out / name for name in OUTPUTS}, **frames}


def episode_duration(episode: str | None, duration_s: float | None, viewers: dict) -> float:
    """The episode video's length, else `duration_s`, else the end of the latest viewer sample."""
    if episode:
        return media_info(Path(episode).expanduser()).duration_s
    if duration_s:
        return float(duration_s)
    return max((float(t.max()) + 1 for t, _ in viewers.values() if len(t)), default=0.0)


def cut_shots(episode: str | None, shots: DictConfig, moments: list[dict], duration_s: float,
              segments: DictConfig) -> tuple[list[float] | None, list[dict]]:
    """(the episode's shot boundaries, or None without an episode or with shots=none; the moments with their
    edges on them where the rules allow)."""
    if not episode or shots.detector == "none":
        return None, moments
    cuts = shot_boundaries(Path(episode).expanduser(), shots.threshold, shots.min_shot_s)
    return cuts, snap_to_shots(moments, cuts, duration_s, shots.tolerance_s, segments)


def trailer_and_report(episode: str | None, report: DictConfig, out: Path, timeline: dict, classes: list[str],
                       result: dict, records: dict[str, Path]) -> None:
    """A screening's last step: the faces of the viewers reacting at each moment's peak (crops from their
    recordings, whose per-frame CSVs `records` names by viewer, in `out/evidence`), then all that `publish`
    makes; `result` names the timeline.csv in `out`."""
    gather(result["moments"], result["recordings"], records, classes, out, report.faces, report.face_px)
    result["timeline_csv"] = str((out / "timeline.csv").resolve())
    publish(episode, report, out, timeline, classes, result)


def publish(episode: str | None, report: DictConfig, out: Path, timeline: dict, classes: list[str],
            result: dict) -> None:
    """timeline.png, trailer.mp4 and the editor's timelines (with an episode and a moment to cut) and report.html
    in `out`; the cut recorded in `result`."""
    chosen = result["moments"]
    plot_timeline(timeline["shares"], classes, timeline["score"], chosen, out / "timeline.png")
    trailer, thumbnails = None, [[] for _ in chosen]
    if episode and chosen:
        video = Path(episode).expanduser()
        cut = cut_trailer(video, [(m["start_s"], m["end_s"]) for m in chosen], out / "trailer.mp4")
        for m, frames in zip(chosen, cut["segment_frames"]):
            m["frames"] = frames
        result["trailer"] = cut
        result["timelines"] = write_timelines(video, media_info(video), chosen, out)
        trailer = out / "trailer.mp4"
        thumbnails = [frames_between(video, list(np.linspace(m["start_s"], m["end_s"], report.thumbnails,
                                                              endpoint=False)))
                      for m in chosen]
    write_report(out / "report.html", timeline, classes, result, thumbnails, trailer, report.embed_trailer_mb)
