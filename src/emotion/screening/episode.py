"""The episode side of a screening: its length, and what is cut from it (the trailer, the moments' thumbnails)
for the review page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from emotion.screening.review import write_report
from emotion.screening.timeline import plot_timeline
from emotion.screening.trailer import cut_trailer, frames_between, media_info


def episode_duration(episode: str | None, duration_s: float | None, viewers: dict) -> float:
    """The episode video's length, else `duration_s`, else the end of the latest viewer sample."""
    if episode:
        return media_info(Path(episode).expanduser()).duration_s
    if duration_s:
        return float(duration_s)
    return max((float(t.max()) + 1 for t, _ in viewers.values() if len(t)), default=0.0)


def trailer_and_report(episode: str | None, report: DictConfig, out: Path, timeline: dict, classes: list[str],
                       chosen: list[dict], result: dict) -> None:
    """timeline.png, trailer.mp4 (with the episode) and report.html in `out`; the cut recorded in `result`."""
    plot_timeline(timeline["shares"], classes, timeline["score"], chosen, out / "timeline.png")
    trailer, thumbnails = None, [[] for _ in chosen]
    if episode:
        video = Path(episode).expanduser()
        cut = cut_trailer(video, [(m["start_s"], m["end_s"]) for m in chosen], out / "trailer.mp4")
        for m, frames in zip(chosen, cut["segment_frames"]):
            m["frames"] = frames
        result["trailer"] = cut
        trailer = out / "trailer.mp4"
        thumbnails = [frames_between(video, list(np.linspace(m["start_s"], m["end_s"], report.thumbnails,
                                                              endpoint=False)))
                      for m in chosen]
    write_report(out / "report.html", timeline, classes, chosen, thumbnails, trailer, report.embed_trailer_mb)
