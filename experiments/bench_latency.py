"""Per-frame latency on a real clip: the notebook's method against ours (Keras and LiteRT fp32/dynamic/int8).

    python experiments/bench_latency.py [--video ../shared/media/WolfgangLanger_Pexels.mp4] [--out FILE]

The customer's model (the VGGFace2 ResNet50 to avg_pool with the notebook's
dilated head, 224 px; random weights: speed does not depend on them) is built
once and exported to LiteRT. Every method then runs in its own process (so
thread settings and peak RSS are its own) on the same decoded frames, with 1
and 2 threads:

1. notebook: Haar (scale 1.3, 5 neighbours) on the full frame, each face resized
   to 224 and sent alone through `model.predict`;
2. ours-keras: our engine (the default detector, BlazeFace full range on LiteRT, one batch, a
   compiled Keras call);
3. ours-litert-fp32 / -dynamic / -int8: our engine on LiteRT, without TensorFlow;
4. ours-litert-int8-every3: the same, detecting every 3rd frame (`detect_every=3`, boxes carried);
5. ours-litert-int8-haar: int8 with the previous default detector, OpenCV's Haar cascade on a gray copy
   320 px wide (`detector=haar`), for the detection cost of both in one run;
6. ferplus-compact-int8 / ferplus-dlib-int8: the same engine with the FER+ recipes' networks instead
   (`experiment=ferplus_cpu`, the compact VGG at 48 px; `experiment=ferplus_dlib`, dlib's face ResNet
   at 112 px), LiteRT int8: the classify time per face of the models the product runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

# The networks timed: (emotion.train overrides, input size). Random weights: speed does not depend on them.
NETWORKS = {
    "resnet50": (["backbone.weights=null", "head=dilated"], 224),
    "ferplus-compact": (["experiment=ferplus_cpu", "runtime.precision=float32"], 48),
    "ferplus-dlib": (["experiment=ferplus_dlib", "backbone.weights=null"], 112),
}
# Our methods: (network, runtime, emotion.infer overrides).
OURS = {
    "ours-keras": ("resnet50", "keras", []),
    "ours-litert-fp32": ("resnet50", "fp32", []),
    "ours-litert-dynamic": ("resnet50", "dynamic", []),
    "ours-litert-int8": ("resnet50", "int8", []),
    "ours-litert-int8-every3": ("resnet50", "int8", ["engine.detect_every=3"]),
    "ours-litert-int8-haar": ("resnet50", "int8", ["detector=haar"]),
    "ferplus-compact-int8": ("ferplus-compact", "int8", []),
    "ferplus-dlib-int8": ("ferplus-dlib", "int8", []),
}
METHODS = ("notebook", *OURS)


def read_frames(video: str, limit: int) -> list[np.ndarray]:
    import cv2

    capture = cv2.VideoCapture(video)
    frames = []
    while len(frames) < limit:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    if not frames:
        raise SystemExit(f"error: cannot read {video}")
    return frames


def build_models(work: Path, video: str, networks: set[str]) -> None:
    """Each network as .keras and its three LiteRT variants (int8 calibrated on the clip's faces), in work/<name>."""
    from emotion.core.config import build, compose_config
    from emotion.core.images import model_batch
    from emotion.deploy.convert import convert
    from emotion.inference.detectors import square_crop
    from emotion.model.assemble import build_model

    crops = None
    for name in sorted(networks):
        folder, (overrides, size) = work / name, NETWORKS[name]
        if all((folder / f"{v}.tflite").is_file() for v in ("fp32", "dynamic", "int8")):
            continue
        if crops is None:
            detector = build(compose_config("infer", ["detector=haar"]).detector, "detector")
            crops = [square_crop(frame, found.box, 0.1)[0] for frame in read_frames(video, 400)[::4]
                     for found in detector(frame)]
        folder.mkdir(parents=True, exist_ok=True)
        cfg = compose_config("train", overrides)
        model, _ = build_model(cfg.backbone, cfg.head, 9, cfg.paths.cache_dir)
        model.save(folder / "model.keras")
        for variant in ("fp32", "dynamic", "int8"):
            (folder / f"{variant}.tflite").write_bytes(convert(model, variant, model_batch(crops, size)))


def notebook_method(work: Path, threads: int):
    import cv2
    import keras

    import emotion.model.preprocess  # noqa: F401 - the saved model holds a Preprocess layer
    from emotion.core.threads import set_threads

    set_threads(threads, threads)
    model = keras.saving.load_model(work / "resnet50" / "model.keras")
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

    def process(frame):
        start = time.perf_counter()
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        faces = cascade.detectMultiScale(gray, 1.3, 5)
        detected = time.perf_counter()
        for x, y, w, h in faces:
            face = cv2.resize(frame[y:y + h, x:x + w], (224, 224))
            model.predict(face[None].astype("float32"), verbose=0)
        done = time.perf_counter()
        return (detected - start) * 1000, (done - detected) * 1000, (done - start) * 1000

    return process


def our_method(work: Path, threads: int, network: str, runtime: str, overrides: list[str]):
    from emotion.core.config import build, compose_config
    from emotion.inference.backends import engine_for

    if runtime == "keras":
        import keras

        import emotion.model.preprocess  # noqa: F401
        from emotion.core.threads import set_threads
        from emotion.inference.classifiers import keras_classifier

        set_threads(threads, threads)
        classify = keras_classifier(keras.saving.load_model(work / network / "model.keras"))
    else:
        from emotion.inference.litert import LiteRTClassifier

        classify = LiteRTClassifier(work / network / f"{runtime}.tflite", threads)
    cfg = compose_config("infer", ["engine.smoothing=1", f"engine.threads={threads}", *overrides])
    engine = engine_for(build(cfg.detector, "detector"), classify, [str(i) for i in range(9)], NETWORKS[network][1],
                        cfg.engine)

    def process(frame):
        result = engine.process(frame)
        return result.detect_ms, result.classify_ms, result.total_ms

    return process


def effective_threads(method: str, threads: int) -> int:
    """The count that really applies: TensorFlow's own after start-up, LiteRT's as given to the interpreter."""
    if "litert" in method:
        return threads
    from emotion.core.threads import effective_threads as tensorflow_threads

    return tensorflow_threads()["intra_op"]


def measure(method: str, threads: int, work: Path, video: str, frames: int, warmup: int) -> dict:
    import cv2

    from emotion.core.process import peak_rss_mb

    cv2.setNumThreads(threads)
    images = read_frames(video, frames + warmup)
    if method == "notebook":
        process = notebook_method(work, threads)
    else:
        process = our_method(work, threads, *OURS[method])
    for image in images[:warmup]:
        process(image)
    wall, cpu = time.perf_counter(), time.process_time()
    timings = np.array([process(image) for image in images[warmup:]])
    # CPU seconds per wall second while timing: about 1 when a method really runs on one core.
    cores_busy = (time.process_time() - cpu) / (time.perf_counter() - wall)
    p50 = np.percentile(timings, 50, axis=0)
    p95 = np.percentile(timings, 95, axis=0)
    return {
        "method": method, "threads": threads, "effective_threads": effective_threads(method, threads),
        "cores_busy": round(cores_busy, 2), "frames": len(timings),
        "detect_p50_ms": round(p50[0], 2), "detect_p95_ms": round(p95[0], 2),
        "classify_p50_ms": round(p50[1], 2), "classify_p95_ms": round(p95[1], 2),
        "p50_ms": round(p50[2], 2), "p95_ms": round(p95[2], 2),
        "fps": round(1000 / timings[:, 2].mean(), 1),
        "rss_mb": peak_rss_mb(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default="../shared/media/WolfgangLanger_Pexels.mp4")
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--work", type=Path, default=Path(".cache/bench_latency"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]), args.work, args.video, args.frames, args.warmup)))
        return
    build_models(args.work, args.video, {"resnet50"} | {OURS[m][0] for m in args.methods if m in OURS})
    rows = []
    for threads in args.threads:
        for method in args.methods:
            out = subprocess.run([sys.executable, __file__, "--one", method, str(threads), "--video", args.video,
                                  "--frames", str(args.frames), "--warmup", str(args.warmup), "--work", str(args.work)],
                                 capture_output=True, text=True, check=False)
            if out.returncode:
                raise SystemExit(f"error: {method} with {threads} threads failed: {out.stderr.strip()[-500:]}")
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for row in rows:  # against the notebook's method, when it ran (--methods may leave it out)
        baseline = next((r for r in rows if r["method"] == "notebook" and r["threads"] == row["threads"]), None)
        for q in ("p50", "p95"):
            row[f"speedup_{q}"] = f"{baseline[f'{q}_ms'] / row[f'{q}_ms']:.1f}x" if baseline else "-"
    print("| method | threads (effective) | cores busy | detect p50 / p95 ms | classify p50 / p95 ms "
          "| total p50 / p95 ms | fps | peak RSS MB | speed-up p50 / p95 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['method']} | {r['threads']} ({r['effective_threads']}) | {r['cores_busy']} | "
              f"{r['detect_p50_ms']} / {r['detect_p95_ms']} | {r['classify_p50_ms']} / {r['classify_p95_ms']} | "
              f"{r['p50_ms']} / {r['p95_ms']} | {r['fps']} | {r['rss_mb']} | "
              f"{r['speedup_p50']} / {r['speedup_p95']} |")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
