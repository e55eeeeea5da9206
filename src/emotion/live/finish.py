"""The end of a screening, stopped or killed: each group's complete segments joined into its recording, their
per-frame records into the record emotion.moments reads (kept only when they were made the way the moments
stage would make them, and every complete segment has one), and the manifest that places each recording on the
episode by the operator's mark (left empty without one: moments then places it by its sound)."""

from __future__ import annotations

import csv
import logging

from emotion.core.outputs import atomic
from emotion.live.folder import Layout, offset_s
from emotion.live.join import join_records, join_segments
from emotion.screening.recordings import Recording
from emotion.screening.sample import signature

log = logging.getLogger(__name__)


def finish(layout: Layout, facts: dict, settings: dict) -> list[dict]:
    """Per group with a complete segment: its recording, place on the episode and whether its live record is kept
    for the moments stage; the manifest written."""
    placed = []
    for group in facts["groups"]:
        viewer = group["viewer"]
        segments = layout.complete_segments(viewer)
        if not segments:
            log.warning("%s: no complete segment, nothing recorded to screen", viewer)
            continue
        path = layout.recording(viewer)
        joined = join_segments(segments, path)
        dropped = int(facts.get("dropped", {}).get(viewer, 0))
        said = {"made_of": signature(Recording(viewer, path), settings),
                "frames": {"expected_frames": joined["frames"] + dropped, "read_frames": joined["frames"],
                           "failed_frames": 0, "missing_frames": dropped},
                "live": {"segments": joined["segments"], "source": group["source"]}}
        same = facts.get("settings") == settings
        kept = same and join_records(segments, layout.record(viewer), said)
        if not kept:
            log.warning("%s: %s: the moments stage classifies its recording", viewer,
                        "a segment's samples were not all classified" if same else
                        "the live records were made with other settings than the moments stage's")
        placed.append({"viewer": viewer, "path": str(path), "offset_s": offset_s(group, facts.get("mark_wall")),
                       "seconds": joined["seconds"], "frames": joined["frames"], "segments": joined["segments"],
                       "live_record_kept": kept})
    with atomic(layout.manifest) as partial, open(partial, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["viewer", "path", "offset_s"])
        for p in placed:
            writer.writerow([p["viewer"], layout.recording(p["viewer"]).relative_to(layout.out),
                             "" if p["offset_s"] is None else p["offset_s"]])
    return placed
