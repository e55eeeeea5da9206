"""Face detectors on the real media: faces found, false faces, milliseconds per frame, one run.

    python experiments/bench_detectors.py [--shared ../shared] [--passes 3]
        [--detectors blazeface blazeface_full_range haar yunet]

Each detector is built from its `emotion.infer` config option and run inside the engine (its thresholds and
tracking as `emotion.infer` uses them; a constant classifier, since only the detection is measured):
multi_face.jpg (five people) and the 213 JAFFE photos (faces filling the frame) as stills, the clips as
streams. These figures are reported, never chosen on (experiments/choose_detector.py chooses on its own face
set). `ms p50 / p95` time the detector alone on every frame of WolfgangLanger_Pexels.mp4 (640x360), `--passes`
times over, after 5 warm-up frames, the detectors taking turns frame by frame so that a machine shared with
other work slows them alike. YuNet needs its ONNX file, a download: without it (offline) its row says so.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import av
import cv2
import numpy as np

from emotion.core.config import build, compose_config
from emotion.core.errors import EmotionError
from emotion.core.process import cpu_name
from emotion.inference.backends import engine_for

CLIPS = ("WolfgangLanger_Pexels.mp4", "single_face.mp4", "face_noface.mov", "no_face.mp4")


def frames_of(path: Path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 25)
        return rate, [(f.time, f.to_ndarray(format="bgr24")) for f in container.decode(stream)]


def measure(detector, cfg, shared: Path, clips: dict) -> dict:
    engine = engine_for(detector, lambda batch: np.full((len(batch), 2), 0.5), ["a", "b"], 32, cfg.engine)
    media = shared / "media"
    row = {"group": len(engine.process_still(cv2.imread(str(media / "multi_face.jpg"))).faces), "jaffe": {}}
    for photo in sorted((shared / "data" / "jaffe").glob("*/*.png")):
        found = bool(engine.process_still(cv2.imread(str(photo))).faces)
        hits, total = row["jaffe"].get(photo.parent.name, (0, 0))
        row["jaffe"][photo.parent.name] = hits + found, total + 1
    for name, (rate, frames) in clips.items():
        engine.reset(rate)
        row[name] = sum(bool(engine.process(image, t).faces) for t, image in frames), len(frames)
    return row


def timings(detectors: dict, frames: list, passes: int) -> dict:
    """Milliseconds per frame of each detector alone, taking turns on each frame; the first 5 frames left out."""
    spent = {option: [] for option in detectors}
    for _, image in frames * passes:
        for option, detector in detectors.items():
            start = time.perf_counter()
            detector(image)
            spent[option].append((time.perf_counter() - start) * 1000)
    return {option: (np.percentile(ms[5:], 50), np.percentile(ms[5:], 95)) for option, ms in spent.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--passes", type=int, default=3, help="times over the clip's frames, for the timing")
    parser.add_argument("--detectors", nargs="+", default=["blazeface", "blazeface_full_range", "haar", "yunet"])
    args = parser.parse_args()
    clips = {name: frames_of(args.shared / "media" / name) for name in CLIPS}
    built, rows = {}, {}
    for option in args.detectors:
        cfg = compose_config("infer", [f"detector={option}"])
        try:
            built[option] = build(cfg.detector, "detector")
        except EmotionError as e:
            rows[option] = str(e)
            continue
        rows[option] = measure(built[option], cfg, args.shared, clips)
    ms = timings(built, clips[CLIPS[0]][1], args.passes)
    print(f"{cpu_name()}; cv2 threads {cv2.getNumThreads()}; engine threads {compose_config('infer').engine.threads}\n")
    print("| detector | multi_face.jpg faces (of 5) | JAFFE photos with a face | "
          + " | ".join(f"{c} frames with a face" for c in CLIPS) + " | ms per frame p50 / p95 |")
    print("|---|---|---|" + "---|" * len(CLIPS) + "---|")
    for option, r in rows.items():
        if isinstance(r, str):
            print(f"| {option} | not run: {r} |" + " |" * (len(CLIPS) + 1) + " |")
            continue
        jaffe = [sum(v) for v in zip(*r["jaffe"].values())] or [0, 0]
        cells = " | ".join(f"{r[c][0]} / {r[c][1]}" for c in CLIPS)
        print(f"| {option} | {r['group']} | {jaffe[0]} / {jaffe[1]} | {cells} | "
              f"{ms[option][0]:.2f} / {ms[option][1]:.2f} |")
    shown = [o for o, r in rows.items() if not isinstance(r, str)]
    classes = sorted({c for o in shown for c in rows[o]["jaffe"]})
    print("\n| JAFFE photos with a face | " + " | ".join(classes) + " |\n|---|" + "---|" * len(classes))
    for option in shown:
        print(f"| {option} | " + " | ".join("{} / {}".format(*rows[option]["jaffe"][c]) for c in classes) + " |")


if __name__ == "__main__":
    main()
