"""Each recording's place on the episode's timeline: the manifest's `offset_s`, else found from its sound.

With `sync=sound` a recording without an offset is matched to the episode's soundtrack
(`emotion.screening.sync`); one with no sound, or whose sound matches below
`min_confidence`, needs `offset_s` in the manifest and is left out with that
reason. With `sync=given`, or with no episode to listen to, such a recording
starts with the episode (offset 0), and says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from emotion.screening.recordings import Recording
from emotion.screening.sync import match, soundtrack

log = logging.getLogger(__name__)


def place(recordings: list[Recording], episode: str | None, sync: DictConfig) -> tuple[list[Recording], list[dict]]:
    """(the recordings with their offsets, [{viewer, reason}] of those that could not be placed)."""
    missing = [r for r in recordings if r.offset_s is None]
    if not missing:
        return recordings, []
    if sync.by != "sound" or not episode:
        why = "sync=given" if sync.by != "sound" else "no episode to match the sound against"
        for r in missing:
            r.offset_s, r.offset_from = 0.0, f"assumed 0 ({why})"
        return recordings, []
    reference = soundtrack(Path(episode).expanduser(), sync.rate_hz)
    placed, left = [], []
    for r in recordings:
        if r.offset_s is not None:
            placed.append(r)
            continue
        if not r.path.is_file():
            left.append({"viewer": r.viewer, "reason": f"recording not found: {r.path}"})
            continue
        heard = soundtrack(r.path, sync.rate_hz)
        if reference is None or heard is None:
            whose = "the episode has" if reference is None else "it has"
            left.append({"viewer": r.viewer, "reason": f"{whose} no sound to place it by: give its offset_s "
                                                       "in the manifest"})
            continue
        found = match(heard, reference, sync.rate_hz, sync.separation_s)
        if found.confidence < sync.min_confidence:
            left.append({"viewer": r.viewer, "reason": f"its sound does not match the episode's (confidence "
                                                       f"{found.confidence:.2f} < {sync.min_confidence}): give its "
                                                       "offset_s in the manifest"})
            continue
        r.offset_s, r.offset_from, r.confidence = found.offset_s, "sound", found.confidence
        log.info("recording %s placed by its sound at %+.2f s of the episode (confidence %.2f)", r.viewer,
                 found.offset_s, found.confidence)
        placed.append(r)
    return placed, left
