"""An hour-long recording through moments' classify stage: real-time factor, per-sample time along it, memory.

    python experiments/bench_long.py [--minutes 60] [--model best] [--work .cache/bench_long]

The recording is built once from the shared clips (WolfgangLanger_Pexels.mp4, single_face.mp4 and
face_noface.mov scaled to 640x360 at 24 fps and encoded as one H.264 base, then its packets repeated,
without re-encoding, with their times shifted, to `--minutes`). Each setting runs in its own process,
through the product's `classify_recording` (sampling at 3 fps, the engine, the per-frame CSV):

- today: the settings before this round: Haar (`detector=haar`), every frame decoded with frame threads
  (`decode.sampling=false`) and converted to an image (as the source did then), a detection on every
  sample (`engine.detect_every=1`);
- then each change on its own, cumulatively, up to the new defaults: only sampled frames become images,
  BlazeFace, decoding for samples (slice threads, B-frames not decoded), a detection every 2nd sample.

Reported per setting: the real-time factor (recording seconds per wall second), the median time per sample
in the first and the last tenth of the recording (time between two samples' results: decoding included),
and the peak RSS when the recording passes 10 minutes and at its end.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

CLIPS = ("WolfgangLanger_Pexels.mp4", "single_face.mp4", "face_noface.mov")
# Each change on its own, cumulatively, from the settings before this round (today) to the new defaults.
TODAY = ["detector=haar", "decode.sampling=false", "engine.detect_every=1"]
SETTINGS = {
    "today": TODAY,
    "+ sampled frames only become images": TODAY,
    "+ BlazeFace": ["decode.sampling=false", "engine.detect_every=1"],
    "+ decoding for samples (no B-frames, slice threads)": ["engine.detect_every=1"],
    "+ detection every 2nd sample (new defaults)": [],
}
EAGER = {"today"}
SIZE, RATE = (640, 360), 24


def base_clip(media: Path, out: Path) -> Path:
    """The shared clips one after another at 640x360, 24 fps, as one H.264 stream."""
    with av.open(str(out), "w") as container:
        encoder = container.add_stream("libx264", rate=RATE)
        encoder.width, encoder.height, encoder.pix_fmt = *SIZE, "yuv420p"
        encoder.options = {"preset": "veryfast", "crf": "23"}
        index = 0
        for clip in CLIPS:
            with av.open(str(media / clip)) as source:
                for frame in source.decode(source.streams.video[0]):
                    scaled = frame.reformat(width=SIZE[0], height=SIZE[1], format="yuv420p")
                    scaled.pts, scaled.time_base = index, Fraction(1, RATE)
                    container.mux(encoder.encode(scaled))
                    index += 1
        container.mux(encoder.encode(None))
    return out


def long_recording(base: Path, minutes: float, out: Path) -> Path:
    """`base`'s packets repeated with shifted times until the recording lasts `minutes`."""
    with av.open(str(base)) as source:
        stream = source.streams.video[0]
        packets = [(p.pts, p.dts, p.is_keyframe, bytes(p)) for p in source.demux(stream) if p.size]
        time_base = stream.time_base
        length = max(p[0] for p in packets) + round(1 / (RATE * time_base))
        with av.open(str(out), "w") as container:
            copy = container.add_stream_from_template(stream)
            repeats = int(np.ceil(minutes * 60 / float(length * time_base)))
            for r in range(repeats):
                for pts, dts, key, data in packets:
                    packet = av.Packet(data)
                    packet.pts, packet.dts, packet.time_base = pts + r * length, dts + r * length, time_base
                    packet.is_keyframe, packet.stream = key, copy
                    container.mux(packet)
    return out


def measure(setting: str, recording: Path, model: str) -> dict:
    """One setting in this process: the recording through `classify_recording`, timed sample by sample."""
    import emotion.screening.sample as sample
    from emotion.core.config import compose_config
    from emotion.core.process import peak_rss_mb
    from emotion.inference.backends import build_engine
    from emotion.inference.sources import Source, open_source
    from emotion.screening.recordings import Recording

    cfg = compose_config("moments", [f"model={model}", "output_dir=unused", *SETTINGS[setting]])
    engine, meta = build_engine(cfg.engine, cfg.detector, cfg.tracking, cfg.model)
    if setting in EAGER:
        class Eager:
            """The source as it was before this round: every decoded frame converted to an image."""

            def __init__(self, source):
                self.source = source

            def __getattr__(self, name):
                return getattr(self.source, name)

            def __iter__(self):
                for frame in self.source:
                    frame.image  # noqa: B018 - the conversion is the point
                    yield frame

            def sampled(self, fps):
                return Source.sampled(self, fps)

        sample.open_source = lambda **kwargs: Eager(open_source(**kwargs))
    marks: list[tuple[float, float]] = []
    peaks: dict[str, float] = {}

    class Timed:
        def reset(self, rate):
            engine.reset(rate)

        def process(self, image, time_s):
            result = engine.process(image, time_s)
            marks.append((time_s, time.perf_counter()))
            if time_s >= 600 and "10 min" not in peaks:
                peaks["10 min"] = peak_rss_mb()
            return result

    out = recording.parent / f"{setting.replace(' ', '_')}.csv"
    start = time.perf_counter()
    problem = sample.classify_recording(Recording("bench", recording), Timed(), meta["classes"], cfg.fps, out, {},
                                        cfg.decode)
    wall = time.perf_counter() - start
    if problem:
        raise SystemExit(f"error: {problem}")
    times = np.array([t for t, _ in marks])
    per_sample = np.diff([start] + [m for _, m in marks])
    tenth = len(per_sample) // 10
    return {"setting": setting, "runtime": meta["runtime"], "detector": cfg.detector._target_.rsplit(".", 1)[-1],
            "recording_s": round(float(times[-1]), 1), "samples": len(marks), "wall_s": round(wall, 1),
            "realtime": round(float(times[-1]) / wall, 2),
            "first_tenth_ms": round(float(np.median(per_sample[:tenth])) * 1000, 2),
            "last_tenth_ms": round(float(np.median(per_sample[-tenth:])) * 1000, 2),
            "rss_10min_mb": peaks.get("10 min"), "rss_end_mb": peak_rss_mb()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--model", default="best")
    parser.add_argument("--media", type=Path, default=Path("../shared/media"))
    parser.add_argument("--work", type=Path, default=Path(".cache/bench_long"))
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    recording = args.work / f"recording_{args.minutes:g}min.mp4"
    if args.one:
        print(json.dumps(measure(args.one, recording, args.model)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    if not recording.is_file():
        long_recording(base_clip(args.media, args.work / "base.mp4"), args.minutes, recording)
    rows = []
    for setting in args.settings:
        done = subprocess.run([sys.executable, __file__, "--one", setting, "--minutes", str(args.minutes),
                               "--model", args.model, "--work", str(args.work)], capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"error: {setting} failed: {done.stderr.strip()[-800:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{setting}: {rows[-1]['realtime']}x real time", file=sys.stderr, flush=True)
    base = rows[0]["realtime"]
    print(f"{rows[0]['recording_s'] / 60:.1f} min recording, 3 samples/s, model on {rows[0]['runtime']}\n")
    print("| setting | detector | real-time factor | vs today | per sample, first tenth ms (median) | last tenth ms "
          "| last / first | peak RSS at 10 min MB | at the end MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['setting']} | {r['detector']} | {r['realtime']}x | {r['realtime'] / base:.2f}x | "
              f"{r['first_tenth_ms']} | {r['last_tenth_ms']} | {r['last_tenth_ms'] / r['first_tenth_ms']:.2f} | "
              f"{r['rss_10min_mb']} | {r['rss_end_mb']} |")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
