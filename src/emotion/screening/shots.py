"""The episode's shots, and moments whose cuts fall on shot boundaries.

Shots are found by PySceneDetect's content detector (changes of hue,
saturation and luminance between frames, `threshold`; no shot shorter than
`min_shot_s`). A moment's start and end then move to the nearest boundary
within `tolerance_s`, unless that breaks the segment rules (its minimum and
maximum length, the trailer's budget) or makes it meet its neighbour: a trailer
editor starts from cuts that need no moving.
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig
from scenedetect import ContentDetector, detect

from emotion.core.errors import EmotionError, first_line

log = logging.getLogger(__name__)


def shot_boundaries(episode: Path, threshold: float, min_shot_s: float) -> list[float]:
    """Start times (seconds) of every shot after the first: the episode's hard cuts."""
    try:
        scenes = detect(str(episode), ContentDetector(threshold=threshold, min_scene_len=f"{min_shot_s}s"),
                        backend="pyav")
    except Exception as e:  # noqa: BLE001 - PySceneDetect reports unreadable video with its backends' errors
        raise EmotionError(f"cannot find the shots of {episode}: {first_line(e)}") from None
    return [round(start.seconds, 3) for start, _ in scenes[1:]]


def _nearest(t: float, edges: list[float], tolerance_s: float) -> float | None:
    close = [e for e in edges if abs(e - t) <= tolerance_s]
    return min(close, key=lambda e: abs(e - t)) if close else None


def snap_to_shots(moments: list[dict], cuts: list[float], duration_s: float, tolerance_s: float,
                  segments: DictConfig) -> list[dict]:
    """Story-ordered moments with each edge moved to the nearest shot boundary within `tolerance_s` when the
    segment rules still hold; each moment records which edges moved (`snapped`)."""
    edges = sorted({0.0, *cuts, round(float(duration_s), 3)})
    total = sum(m["end_s"] - m["start_s"] for m in moments)
    out = []
    for i, m in enumerate(moments):
        start, end = _nearest(m["start_s"], edges, tolerance_s), _nearest(m["end_s"], edges, tolerance_s)
        before = out[-1]["end_s"] if out else 0.0
        after = moments[i + 1]["start_s"] if i + 1 < len(moments) else float(duration_s)
        candidates = [(start, end), (start, None), (None, end)]
        chosen = {"start_s": m["start_s"], "end_s": m["end_s"], "snapped": []}
        for new_start, new_end in candidates:
            if new_start is None and new_end is None:
                continue
            s = m["start_s"] if new_start is None else new_start
            e = m["end_s"] if new_end is None else new_end
            grown = total - (m["end_s"] - m["start_s"]) + (e - s)
            if (segments.min_len_s <= e - s <= segments.max_len_s and s >= before and e <= after
                    and grown <= segments.budget_s + 1e-6):
                moved = [edge for edge, new in (("start", new_start), ("end", new_end)) if new is not None]
                chosen = {"start_s": s, "end_s": e, "snapped": moved}
                total = grown
                break
        out.append({**m, **chosen})
    return out
