"""Face detectors on the real media: faces found, false faces, milliseconds per frame, one run.

    python experiments/bench_detectors.py [--media ../shared/media] [--detectors blazeface haar yunet]

Each detector is built from its `emotion.infer` config option and run inside the engine (its thresholds and
tracking as `emotion.infer` uses them; a constant classifier, since only the detection is measured):
multi_face.jpg (five people) as a still, the clips as streams. `ms p50 / p95` time the detector alone on
every frame of WolfgangLanger_Pexels.mp4 (640x360), after 5 warm-up frames. YuNet needs its ONNX file, a
download: without it (offline) its row says so.
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
from emotion.inference.backends import engine_for

CLIPS = ("WolfgangLanger_Pexels.mp4", "single_face.mp4", "face_noface.mov", "no_face.mp4")


def frames_of(path: Path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 25)
        return rate, [(f.time, f.to_ndarray(format="bgr24")) for f in container.decode(stream)]


def measure(option: str, media: Path, clips: dict) -> dict:
    cfg = compose_config("infer", [f"detector={option}"])
    detector = build(cfg.detector, "detector")
    engine = engine_for(detector, lambda batch: np.full((len(batch), 2), 0.5), ["a", "b"], 32, cfg.engine)
    row = {"detector": option,
           "group": len(engine.process_still(cv2.imread(str(media / "multi_face.jpg"))).faces)}
    for name, (rate, frames) in clips.items():
        engine.reset(rate)
        row[name] = sum(bool(engine.process(image, t).faces) for t, image in frames), len(frames)
    timings = []
    for _, image in clips[CLIPS[0]][1]:
        start = time.perf_counter()
        detector(image)
        timings.append((time.perf_counter() - start) * 1000)
    row["p50"], row["p95"] = np.percentile(timings[5:], 50), np.percentile(timings[5:], 95)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=Path("../shared/media"))
    parser.add_argument("--detectors", nargs="+", default=["blazeface", "haar", "yunet"])
    args = parser.parse_args()
    clips = {name: frames_of(args.media / name) for name in CLIPS}
    print(f"cv2 threads {cv2.getNumThreads()}; engine threads {compose_config('infer').engine.threads}\n")
    print("| detector | multi_face.jpg faces (of 5) | " + " | ".join(f"{c} frames with a face" for c in CLIPS)
          + " | ms per frame p50 / p95 |")
    print("|---|---|" + "---|" * len(CLIPS) + "---|")
    for option in args.detectors:
        try:
            r = measure(option, args.media, clips)
        except EmotionError as e:
            print(f"| {option} | not run: {e} |" + " |" * len(CLIPS) + " |")
            continue
        cells = " | ".join(f"{r[c][0]} / {r[c][1]}" for c in CLIPS)
        print(f"| {option} | {r['group']} | {cells} | {r['p50']:.2f} / {r['p95']:.2f} |")


if __name__ == "__main__":
    main()
