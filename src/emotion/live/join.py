"""The end of a camera's recording: its complete segments joined into one MP4 by remuxing (packets copied, nothing
re-encoded), and their per-frame records into the one record emotion.moments reads, with its sidecar."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import av

from emotion.core.errors import EmotionError
from emotion.core.outputs import atomic, write_text
from emotion.live.folder import segment_record
from emotion.screening.sample import sidecar


def join_segments(segments: list[Path], out: Path) -> dict:
    """`segments` (in order, each starting where the previous ended) as one recording at `out`; returns its frames
    and seconds. Every video packet is kept; each segment's AAC encoder begins with a priming packet that overlaps
    the previous segment's last one by a few milliseconds: such sound packets are left out, since a file's packets
    must advance."""
    if not segments:
        raise EmotionError(f"no complete segment to join into {out}")
    frames, end_s = 0, 0.0
    with atomic(out) as partial, av.open(str(segments[0])) as first, av.open(str(partial), "w") as joined:
        templates = {s.type: s for s in first.streams if s.type in ("video", "audio")}
        streams = {kind: joined.add_stream_from_template(s) for kind, s in templates.items()}
        last = dict.fromkeys(streams)
        for segment in segments:
            with av.open(str(segment)) as part:
                for packet in part.demux(*[s for s in part.streams if s.type in streams]):
                    kind = packet.stream.type
                    if packet.dts is None:
                        continue
                    at = packet.dts * packet.time_base
                    if kind == "audio" and last[kind] is not None and at <= last[kind]:
                        continue
                    last[kind] = at
                    if kind == "video":
                        frames += 1
                        end_s = max(end_s, float((packet.pts + packet.duration) * packet.time_base))
                    packet.stream = streams[kind]
                    joined.mux(packet)
    return {"frames": frames, "seconds": round(end_s, 3), "segments": len(segments)}


def join_records(segments: list[Path], out: Path, said: dict) -> bool:
    """The per-frame records of `segments` as one record at `out`, with the sidecar `said` (see
    `emotion.screening.sample`); False, and nothing written, when a segment has no complete record (the screening
    was stopped at once or killed before that segment's samples were classified)."""
    records = [segment_record(s) for s in segments]
    if not records or not all(r.is_file() for r in records):
        return False
    header = None
    with atomic(out) as partial:
        with open(partial, "w", newline="") as f:
            writer = csv.writer(f)
            for record in records:
                with open(record, newline="") as part:
                    rows = csv.reader(part)
                    head = next(rows, None)
                    if header is None:
                        header = head
                        writer.writerow(header)
                    elif head != header:
                        raise EmotionError(f"{record}: its columns differ from the first segment's record")
                    writer.writerows(rows)
        write_text(sidecar(out), json.dumps(said, indent=1) + "\n")  # before the record gets its name
    return True
