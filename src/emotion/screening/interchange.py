"""The moments as an editor's timeline: `moments.otio`, a CMX 3600 `moments.edl` (Avid and most others) and an
FCP 7 `moments.xml` (Premiere, Resolve), all written by OpenTimelineIO and its adapters.

The episode file is the media reference, with its frame rate and length. Each moment is one clip, in story
order, at the episode's frame rate: the frames the trailer keeps, from the first shown at or after the
moment's start to the last shown before its end (a constant frame rate, as an episode has, puts frame k at
k / rate from the first). Each clip carries a marker and metadata with the moment's score, dominant emotion and
the viewers reacting; the EDL keeps the marker as a locator comment, the XML as a clip marker.
"""

from __future__ import annotations

import logging
import math
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from emotion.core.outputs import atomic
from emotion.screening.trailer import Media

log = logging.getLogger(__name__)

# Each file and the adapter that writes it; the OTIO file first, before any adapter has touched the timeline.
ADAPTERS = {"moments.otio": "otio_json", "moments.edl": "cmx_3600", "moments.xml": "fcp_xml"}
# As the trailer's cut: a frame less than a microsecond before an edge counts as on it.
EDGE_S = 1e-6


def frame_rate(media: Media) -> Fraction:
    """The episode's rate as editors name it: 30000/1001 for 29.97, whether its container says that, a float or
    2997/100."""
    rate = Fraction(media.fps).limit_denominator(1001)
    ntsc = Fraction(round(rate * Fraction(1001, 1000)) * 1000, 1001)
    return ntsc if rate.denominator != 1 and abs(rate - ntsc) < Fraction(1, 1000) else rate


def frame_span(start_s: float, end_s: float, rate: Fraction) -> tuple[int, int]:
    """(first frame, number of frames) of [start_s, end_s) at `rate`."""
    first = math.ceil((start_s - EDGE_S) * rate)
    return first, math.ceil((end_s - EDGE_S) * rate) - first


def _marker_name(number: int, moment: dict) -> str:
    reacting = moment.get("reacting", [])
    return (f"moment {number}: {moment.get('dominant_emotion') or 'no dominant emotion'}, score "
            f"{moment['score']:.3f}, {len(reacting)} viewer(s) reacting" + (f": {', '.join(reacting)}"
                                                                               if reacting else ""))


def moments_timeline(episode: Path, media: Media, moments: list[dict]) -> otio.schema.Timeline:
    """A video track (and an audio track when the episode has sound) of one clip per moment."""
    rate = float(frame_rate(media))
    length = media.frames or round(media.duration_s * rate)
    reference = otio.schema.ExternalReference(
        target_url=episode.resolve().as_uri(),
        available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                                otio.opentime.RationalTime(length, rate)))
    reference.name = episode.stem  # the EDL's reel name is made from it
    timeline = otio.schema.Timeline(name=f"{episode.stem} trailer moments")
    kinds = [otio.schema.TrackKind.Video] + ([otio.schema.TrackKind.Audio] if media.audio else [])
    for kind in kinds:
        track = otio.schema.Track(name=f"{kind[0]}1", kind=kind)
        for number, moment in enumerate(moments, start=1):
            first, count = frame_span(moment["start_s"], moment["end_s"], frame_rate(media))
            span = otio.opentime.TimeRange(otio.opentime.RationalTime(first, rate),
                                           otio.opentime.RationalTime(count, rate))
            clip = otio.schema.Clip(name=f"moment {number}", media_reference=reference.clone(), source_range=span)
            clip.markers.append(otio.schema.Marker(name=_marker_name(number, moment), marked_range=span,
                                                   color=otio.schema.MarkerColor.ORANGE))
            clip.metadata["emotion"] = {"moment": number, **{key: moment[key] for key in (
                "start_s", "end_s", "score", "dominant_emotion", "viewers_reacting", "reacting") if key in moment}}
            track.append(clip)
        timeline.tracks.append(track)
    return timeline


def write_timelines(episode: Path, media: Media, moments: list[dict], out: Path) -> dict:
    """moments.otio, moments.edl and moments.xml in `out`; returns what moments.json records of them.

    The EDL and the XML count in SMPTE timecode: an episode at a rate it lacks (10 fps) gets the OTIO file only,
    and the reason."""
    timeline, rate = moments_timeline(episode, media, moments), frame_rate(media)
    names = [name for name in ADAPTERS if name == "moments.otio"
             or otio.opentime.RationalTime.is_smpte_timecode_rate(float(rate))]
    for name in names:
        with atomic(out / name) as partial:
            otio.adapters.write_to_file(timeline, str(partial), adapter_name=ADAPTERS[name])
    said = {"files": names, "frame_rate": f"{rate.numerator}/{rate.denominator}"}
    if len(names) < len(ADAPTERS):
        said["left_out"] = f"no EDL or XML: their SMPTE timecode has no {float(rate):g} fps, the episode's rate"
        log.warning("moments.edl and moments.xml not written: %s", said["left_out"])
    return said
