"""Chooses the BlazeFace model(s) and threshold of the default detector on the labelled face set (face_set.py).

    python experiments/choose_detector.py --shared ../shared [--seed 0] [--boxes /tmp/boxes.json]

Each model runs once on every frame of the set, its boxes kept from FLOOR up; each candidate, the full-range
model alone, the short-range model alone, or both with a threshold each and the short-range model's boxes kept
only from a size (a share of the frame's shorter side), their boxes merged by OpenCV's non-maximum suppression
as `BlazeFaceDetector` merges them, is then judged on those same boxes. A face is
found when a kept box is centred in the face's box with a side from 0.3x to 2x the face's (a FER+ image often
holds a face smaller than the image); any other kept box is a false face.

The rule, written before the run: among the candidates that take title text for a face on no more text frames
than today's detector (full range from 0.75) and find at least as many far and mid faces as it does, the one
that finds the most close-ups; then the fewest false faces on face frames, then the higher thresholds and
the larger size. Faces on
pictures are reported, never chosen on. Nothing reported on JAFFE, multi_face.jpg or no_face.mp4 is used here
(experiments/bench_detectors.py reports those).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from itertools import product
from pathlib import Path

import cv2
import numpy as np
from face_set import BANDS, CLASSES, face_set, leaving

from emotion.core.config import compose_config
from emotion.inference.backends import engine_for
from emotion.inference.blazeface import FULL_RANGE, SHORT_RANGE, BlazeFaceDetector
from emotion.inference.detectors import Found

FLOOR = 0.5
THRESHOLDS = (None, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
SIZES = (0.0, 0.2, 0.3, 0.4, 0.5)
TODAY = (0.75, None, 0.0)
# where the short-range model's boxes count from, in streams
LEAVING = {"the track threshold": "track", "the face threshold (chosen)": "face", "nowhere (today)": float("inf")}
NMS = 0.3


def boxes(shared: Path, seed: int) -> list[dict]:
    """Each frame of the set: what it is, its faces, its shorter side, and each model's boxes from FLOOR."""
    models = {"full": BlazeFaceDetector([FULL_RANGE], FLOOR, FLOOR, NMS, 2),
              "short": BlazeFaceDetector([SHORT_RANGE], FLOOR, FLOOR, NMS, 2)}
    return [{"kind": s.kind, "band": s.band, "source": s.source, "faces": s.faces, "side": min(s.image.shape[:2]),
             **{m: [(f.box, f.score) for f in detect(s.image)] for m, detect in models.items()}}
            for s in face_set(shared, seed)]


def found(box, face) -> bool:
    x, y, w, h = box
    fx, fy, fw, fh = face
    centred = fx <= x + w / 2 <= fx + fw and fy <= y + h / 2 <= fy + fh
    return centred and 0.3 * max(fw, fh) <= max(w, h) <= 2 * max(fw, fh)


def merged(full_boxes, short_boxes, full: float | None, short: float | None, size: float, side: int) -> list:
    """(box, score) kept of each model's boxes, the short-range model's from `size` of the shorter side."""
    boxes = [(b, s) for b, s in full_boxes if full and s >= full]
    boxes += [(b, s) for b, s in short_boxes if short and s >= short and max(b[2:]) >= size * side]
    if len(boxes) < 2:
        return boxes
    chosen = cv2.dnn.NMSBoxes([list(b) for b, _ in boxes], [s for _, s in boxes], 0.0, NMS)
    return [boxes[i] for i in np.ravel(chosen)]


def kept(row: dict, full: float | None, short: float | None, size: float) -> list:
    return [b for b, _ in merged(row["full"], row["short"], full, short, size, row["side"])]


def tally(rows: list[dict], full: float | None, short: float | None, size: float) -> Counter:
    """Counts by (kind, band, source) of faces found and of all faces; false faces; text frames with one."""
    counts = Counter()
    for row in rows:
        boxes = kept(row, full, short, size)
        hits = [any(found(b, face) for b in boxes) for face in row["faces"]]
        false = sum(not any(found(b, face) for face in row["faces"]) for b in boxes)
        if row["kind"] == "text":
            counts["text frames", "with a false face"] += bool(false)
            counts["text frames", "all"] += 1
            continue
        group = row["source"] if row["band"] == "close" else row["source"].split("/")[0]
        for key in ((row["kind"], row["band"]), (row["kind"], row["band"], group)):
            counts[key + ("found",)] += sum(hits)
            counts[key + ("all",)] += len(hits)
        counts["face frames", "false faces"] += false if row["kind"] == "face" else 0
    return counts


def ranking(results: dict) -> list[tuple]:
    """The candidates the rule allows, best first."""
    today = results[TODAY]

    def allowed(c):
        return (c["text frames", "with a false face"] <= today["text frames", "with a false face"]
                and all(c["face", band, "found"] >= today["face", band, "found"] for band in ("far", "mid")))

    def merit(item):
        (full, short, size), c = item
        return c["face", "close", "found"], -c["face frames", "false faces"], (full or 0) + (short or 0), size

    return [k for k, _ in sorted(((k, c) for k, c in results.items() if allowed(c)), key=merit, reverse=True)]


def name(candidate: tuple) -> str:
    full, short, size = candidate
    return " + ".join([f"full range from {full}"] * bool(full) + [f"short range from {short}"
                      + (f", faces from {size} of the side" if size else "")] * bool(short))


def share(c: Counter, *key) -> str:
    return f"{c[key + ('found',)]} / {c[key + ('all',)]}"


class Replay:
    """Boxes found before, handed to the engine frame by frame as a detector would."""

    def __init__(self, found: list, score_threshold: float):
        self.found, self.score_threshold = iter(found), score_threshold

    def __call__(self, frame):
        return [Found(tuple(box), score) for box, score in next(self.found)]


def ghosts(shared: Path, seed: int, chosen: tuple) -> Counter:
    """Streams where a viewer leaves, as `emotion.infer` runs them: frames with the viewer where the face is
    kept, and frames after they left where a face is kept, with the short-range model's boxes from the track
    threshold (as the full-range model's) or only from the face threshold."""
    cfg = compose_config("infer")
    track, sure = cfg.detector.track_threshold, cfg.detector.score_threshold
    models = [BlazeFaceDetector(m, None, 0.0, track, track, NMS, 2) for m in (FULL_RANGE, SHORT_RANGE)]
    counts = Counter()
    for frames, present, face in leaving(shared, seed):
        boxes = [[[(f.box, f.score) for f in model(image)] for model in models] for image in frames]
        for label, near_from in LEAVING.items():
            near_from = {"track": track, "face": sure}.get(near_from, near_from)
            replay = [merged(full, [b for b in short if b[1] >= near_from], track, track, chosen[2],
                             min(frames[0].shape[:2])) for full, short in boxes]
            engine = engine_for(Replay(replay, sure), lambda batch: np.zeros((len(batch), 1)), ["a"], 32, cfg.engine)
            engine.reset(24.0)
            for i, image in enumerate(frames):
                faces = engine.process(image, i / 24).faces
                if i < present:
                    counts[label, "with the viewer"] += any(found(f.box, face) for f in faces)
                    counts[label, "with the viewer", "all"] += 1
                else:
                    counts[label, "after"] += bool(faces)
                    counts[label, "after", "all"] += 1
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--boxes", type=Path, help="keeps the models' boxes here (JSON): a second run reads them")
    args = parser.parse_args()
    if args.boxes and args.boxes.is_file():
        rows = json.loads(args.boxes.read_text())
    else:
        rows = boxes(args.shared, args.seed)
        if args.boxes:
            args.boxes.write_text(json.dumps(rows))
    candidates = [(f, s, size) for f, s, size in product(THRESHOLDS, THRESHOLDS, SIZES)
                  if (f or s) and (s or not size)]
    results = {c: tally(rows, *c) for c in candidates}
    allowed = ranking(results)
    chosen = allowed[0]
    # what would have found more close-ups, and at what cost, the cheapest first
    more = [c for c in results if results[c]["face", "close", "found"] > results[chosen]["face", "close", "found"]]
    refused = sorted(more, key=lambda c: (results[c]["text frames", "with a false face"],
                                          -results[c]["face", "close", "found"]))
    shown = [TODAY] + [c for c in allowed if c != TODAY][:5] + refused[:4]
    print(f"{len(rows)} frames, seed {args.seed}; chosen: {name(chosen)}\n")
    print("| candidate | " + " | ".join(f"{b} faces ({lo}-{hi})" for b, (lo, hi) in BANDS.items())
          + " | text frames with a false face | false faces on face frames | faces on pictures found |")
    print("|---|" + "---|" * (len(BANDS) + 3))
    for c in shown:
        r = results[c]
        mark = " (today)" if c == TODAY else " (chosen)" if c == chosen else "" if c in allowed else " (refused)"
        print(f"| {name(c)}{mark} | " + " | ".join(share(r, "face", b) for b in BANDS)
              + f" | {r['text frames', 'with a false face']} / {r['text frames', 'all']}"
              + f" | {r['face frames', 'false faces']} | {share(r, 'picture', '')} |")
    print("\n| faces | today | chosen |\n|---|---|---|")
    for band in BANDS:
        for source in (["video"] + [f"ferplus/{e}" for e in CLASSES] if band == "close" else ["video", "ferplus"]):
            print(f"| {band}, {source} | {share(results[TODAY], 'face', band, source)} | "
                  f"{share(results[chosen], 'face', band, source)} |")
    counts = ghosts(args.shared, args.seed, chosen)
    print("\n| streams where a viewer leaves: short-range boxes from | frames with the viewer, face kept | "
          "frames after they left with a face kept |\n|---|---|---|")
    for label in LEAVING:
        print(f"| {label} | {counts[label, 'with the viewer']} / {counts[label, 'with the viewer', 'all']} | "
              f"{counts[label, 'after']} / {counts[label, 'after', 'all']} |")


if __name__ == "__main__":
    main()
