"""Why a moment was chosen: the faces of the viewers reacting, cropped from their recordings at the moment's peak.

Each viewer's face is the square box the classifier saw (from their per-frame record) at the sample nearest to
the peak of the moment's score, cut from the recording's frame at that sample's time, with the emotion the
classifier gave it. Crops are written under `output_dir/evidence/` and named in moments.json, so a re-cut of
edited moments shows them without decoding a recording again. A viewer scored from a per-frame CSV alone (no
recording given) has no face to show, and says so.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import cv2
import numpy as np

from emotion.core.errors import EmotionError
from emotion.core.outputs import atomic
from emotion.inference import record
from emotion.inference.detectors import square_crop
from emotion.screening.recordings import inside
from emotion.screening.trailer import frames_between

log = logging.getLogger(__name__)

NO_RECORDING = "no recording: scored from its per-frame CSV only"


def _recording_of(viewer: str, recordings: list[dict]) -> dict | None:
    """The recording a viewer was seen in: `<recording>#<track>`, or `<recording>` (viewers=largest)."""
    found = [r for r in recordings if viewer == r["viewer"] or (viewer.startswith(r["viewer"] + "#")
                                                               and viewer[len(r["viewer"]) + 1:].isdigit())]
    return max(found, key=lambda r: len(r["viewer"]), default=None)


def _track_rows(rows: list[dict], viewer: str, recording: str) -> list[dict]:
    """The rows of the viewer's track; for a whole-recording viewer, its largest face's."""
    tracks: dict[str, list[dict]] = {}
    for row in rows:
        if row["track_id"]:
            tracks.setdefault(row["track_id"], []).append(row)
    if viewer != recording:
        return tracks.get(viewer.rsplit("#", 1)[1], [])
    return max(tracks.values(), key=lambda t: sum(float(r["w"]) * float(r["h"]) for r in t), default=[])


def _whole(row: dict) -> bool:
    """A face row whose box and confidence are numbers (a damaged record may say otherwise)."""
    try:
        return bool(row["label"]) and all(math.isfinite(float(row[k])) for k in ("x", "y", "w", "h", "confidence"))
    except ValueError:
        return False


def _crop(recording: Path, row: dict, height: int) -> np.ndarray | None:
    frames = frames_between(recording, [float(row["time_s"])], width=None)
    if not frames:
        return None
    box = tuple(int(round(float(row[k]))) for k in ("x", "y", "w", "h"))
    face, _ = square_crop(frames[0], box, margin=0.0)
    return cv2.resize(face, (height, height), interpolation=cv2.INTER_AREA) if face.size else None


def _faces_of(viewer: str, recordings: list[dict], records: dict[str, Path], classes: list[str], peak_s: float,
              folder: Path, height: int, tables: dict) -> dict:
    """One viewer's evidence: where and what they were at the peak, and the crop's path; or why there is none."""
    found = _recording_of(viewer, recordings)
    if found is None or found["viewer"] not in records:
        return {"viewer": viewer, "missing": NO_RECORDING}
    path, offset, table = Path(found["path"]), float(found["offset_s"]), records[found["viewer"]]
    if table not in tables:
        tables[table] = record.read(table, classes)
    rows = [r for r in _track_rows(tables[table], viewer, found["viewer"]) if _whole(r)]
    if not rows:
        return {"viewer": viewer, "missing": "no face in its record"}
    row = min(rows, key=lambda r: abs(float(r["time_s"]) + offset - peak_s))
    try:
        face = _crop(path, row, height)
    except EmotionError as e:
        return {"viewer": viewer, "missing": str(e)}
    if face is None:
        return {"viewer": viewer, "missing": f"no frame at {float(row['time_s']):.2f} s of {path}"}
    crop = inside(folder, f"{viewer}.jpg")
    _, data = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, 85])
    with atomic(crop) as partial:
        partial.write_bytes(data.tobytes())
    return {"viewer": viewer, "time_s": round(float(row["time_s"]) + offset, 3), "emotion": row["label"],
            "confidence": float(row["confidence"]), "crop": str(crop)}


def gather(moments: list[dict], recordings: list[dict], records: dict[str, Path], classes: list[str], out: Path,
           faces: int, height: int) -> None:
    """Each moment's `evidence`: up to `faces` viewers reacting, each with a crop in out/evidence/moment-<n>/
    (`height` pixels square) or the reason it has none. `recordings` are moments.json's (viewer, path, offset),
    `records` their per-frame CSVs by viewer name."""
    tables: dict = {}
    for number, moment in enumerate(moments, start=1):
        peak_s = moment["peak_s"] + 0.5 if "peak_s" in moment else (moment["start_s"] + moment["end_s"]) / 2
        folder = out / "evidence" / f"moment-{number}"
        moment["evidence"] = [_faces_of(viewer, recordings, records, classes, peak_s, folder, height, tables)
                              for viewer in moment.get("reacting", [])[:faces]]
        for missing in (e for e in moment["evidence"] if "missing" in e and e["missing"] != NO_RECORDING):
            log.warning("moment %d: no face of %s to show: %s", number, missing["viewer"], missing["missing"])
