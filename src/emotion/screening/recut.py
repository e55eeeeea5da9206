"""`stage=cut`: the trailer, the editor's timelines and the review page made again from a moments.json a person
edited (moments dropped, edges moved), without decoding a recording or running a model.

The edited moments must each end after they start, inside the episode, and overlap no other; anything else is
refused in one line naming the moment, by its number in the edited file. The per-second timeline and the
viewers' faces are the screening's own (its timeline.csv and evidence crops, named in moments.json); which
edges lie on a shot cut is said anew.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from omegaconf import DictConfig

from emotion.core.errors import EmotionError
from emotion.core.outputs import ensure_folder, json_text, refuse_inputs, write_text
from emotion.screening.episode import PUBLISHED, publish
from emotion.screening.timeline import read_timeline
from emotion.screening.trailer import media_info

# An edited episode_s this far from the episode's own length means another episode was given.
SAME_EPISODE_S = 0.5


def read_edited(path: Path) -> dict:
    """The edited moments.json, refused unless it is one: an object with a list of moments and its timeline."""
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise EmotionError(f"cannot read moments_json {path}: {e}") from None
    if not isinstance(document, dict) or not isinstance(document.get("moments"), list):
        raise EmotionError(f"moments_json {path} is not a moments.json of emotion.moments: no list of moments")
    if not isinstance(document.get("timeline_csv"), str):
        raise EmotionError(f"moments_json {path} names no timeline_csv: write it with this version's screening")
    return document


def _seconds(moment, key: str, number: int) -> float:
    value = moment.get(key) if isinstance(moment, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise EmotionError(f"moment {number}: {key} must be a number of seconds, got {json.dumps(value)}")
    return float(value)


def checked(moments: list, duration_s: float) -> list[dict]:
    """The edited moments in story order, each inside the episode and apart from the others."""
    found = []
    for number, moment in enumerate(moments, start=1):
        start, end = _seconds(moment, "start_s", number), _seconds(moment, "end_s", number)
        span = f"moment {number} ({start:g} s to {end:g} s)"
        if start < 0 or end > duration_s + 1e-3:
            raise EmotionError(f"{span} lies outside the episode (0 s to {duration_s:g} s)")
        if end <= start:
            raise EmotionError(f"{span} must end after it starts")
        found.append((start, number, span, {**moment, "start_s": round(start, 3), "end_s": round(end, 3)}))
    found.sort(key=lambda f: f[0])
    for (_, _, before, a), (_, _, after, b) in zip(found, found[1:]):
        if b["start_s"] < a["end_s"]:
            raise EmotionError(f"{after} overlaps {before}")
    return [m for *_, m in found]


def _on_cuts(moments: list[dict], shots: list[float] | None, duration_s: float) -> None:
    """Each moment's `snapped`: which of its edges lie on a shot cut (or the episode's ends) now."""
    if shots is None:
        return
    edges = [0.0, *shots, duration_s]
    for m in moments:
        m["snapped"] = [name for name in ("start", "end") if any(abs(m[f"{name}_s"] - e) < 1e-3 for e in edges)]


def recut(moments_json: str, episode: str, report: DictConfig, out: Path) -> dict:
    """Cut `episode` again at the edited moments into `out`; returns the new moments.json, also written there."""
    source, video = Path(moments_json).expanduser(), Path(episode).expanduser()
    document = read_edited(source)
    duration_s = media_info(video).duration_s
    said = document.get("episode_s")
    if isinstance(said, (int, float)) and abs(said - duration_s) > SAME_EPISODE_S:
        raise EmotionError(f"moments_json {source} is of a {said:g} s episode, {video} lasts {duration_s:.3f} s: "
                           "give the episode it was screened on")
    moments = checked(document["moments"], duration_s)
    if not moments:
        raise EmotionError(f"moments_json {source} keeps no moment: nothing to cut")
    timeline_csv = Path(document["timeline_csv"])
    crops = {f"evidence {e['crop']}": e["crop"] for m in moments for e in m.get("evidence", [])
             if isinstance(e, dict) and isinstance(e.get("crop"), str)}
    refuse_inputs({name: out / name for name in (*PUBLISHED, "moments.json")},
                  {"moments_json": source, "episode": video, "timeline_csv": timeline_csv, **crops})
    timeline, classes = read_timeline(timeline_csv)
    ensure_folder(out)
    _on_cuts(moments, document.get("shots"), duration_s)
    result = {key: value for key, value in document.items() if key not in ("reason", "trailer", "timelines")}
    result.update(moments=moments, trailer_s=round(sum(m["end_s"] - m["start_s"] for m in moments), 3),
                  cut_from=str(source.resolve()))
    publish(episode, report, out, timeline, classes, result)
    write_text(out / "moments.json", json_text(result, "moments.json"))
    return result
