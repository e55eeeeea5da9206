"""Throughput of moments' classify stage: this process, then Ray with 1 and with 2 workers, in one run.

    python experiments/bench_scale.py [--model models:/emotion-ferplus@champion] [--repeat 3] [--out scale.json]
        [clip ...]

Throughput is recording-seconds classified per second of wall time for the
whole stage as a user runs it (`executor=local|ray`): for Ray that includes
starting a local instance, the workers' start-up and their loading the model,
which is the point on 2 cores, where Ray can only add overhead. Medians of
`--repeat` runs per row.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

MEDIA = Path("../shared/media")
CLIPS = ["WolfgangLanger_Pexels.mp4", "single_face.mp4", "face_noface.mov", "no_face.mp4"]
ROWS = {"local": ["executor=local"], "ray, 1 worker": ["executor=ray", "executor.workers=1"],
        "ray, 2 workers": ["executor=ray", "executor.workers=2"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", default=[str(MEDIA / c) for c in CLIPS])
    parser.add_argument("--model", default="best")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from emotion.core.config import compose_config
    from emotion.screening.classify import classify_all
    from emotion.screening.recordings import recordings_from
    from emotion.screening.trailer import media_info

    seconds = sum(media_info(Path(c)).duration_s for c in args.clips)
    rows = []
    for name, overrides in ROWS.items():
        cfg = compose_config("moments", [f"model={args.model}", f"recordings=[{','.join(args.clips)}]", *overrides])
        times = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as out:
                left: list = []
                start = time.perf_counter()
                written = classify_all(recordings_from(list(cfg.recordings), None), Path(out), list(cfg.classes),
                                       cfg.fps, cfg.decode, cfg.model, cfg.executor, cfg.engine, cfg.detector,
                                       cfg.tracking,
                                       left)
                times.append(time.perf_counter() - start)
            assert len(written) == len(args.clips), left
        wall = sorted(times)[len(times) // 2]
        rows.append({"mode": name, "recordings": len(args.clips), "recording_s": round(seconds, 1),
                     "wall_s": round(wall, 2), "throughput": round(seconds / wall, 2), "runs": times})
    base = rows[0]["throughput"]
    print(f"{len(args.clips)} recordings, {seconds:.1f} s in all; model {args.model}; median of {args.repeat}\n")
    print("| mode | wall s (median) | recording-seconds per second | vs local |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['mode']} | {r['wall_s']} | {r['throughput']} | {r['throughput'] / base:.2f}x |")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
