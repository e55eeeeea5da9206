"""Real-time factor of the moments pipeline's classification step (3 fps sampling) on real clips.

    python experiments/bench_moments.py [--model models:/emotion-ferplus@champion] [--fps 3] [clip ...]

The factor is recording duration / processing time (decode, sample, detect,
classify, track, write the per-frame CSV); the customer's target is >= 10 (an
hour of recording in at most 6 minutes on 2 cores). A last row is a two-viewer
recording: the first two clips side by side (experiments/make_group_recording.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

MEDIA = Path("../shared/media")
CLIPS = ["WolfgangLanger_Pexels.mp4", "single_face.mp4", "face_noface.mov", "no_face.mp4"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", default=[str(MEDIA / c) for c in CLIPS])
    parser.add_argument("--model", default="best")
    parser.add_argument("--fps", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3, help="passes over each clip (median kept)")
    parser.add_argument("--overrides", nargs="*", default=[])
    args = parser.parse_args()

    from emotion.core.config import compose_config
    from emotion.inference.backends import build_engine
    from emotion.screening.recordings import Recording
    from emotion.screening.sample import classify_recording
    from emotion.screening.trailer import media_info
    from emotion.screening.viewers import viewers_of

    cfg = compose_config("moments", [f"model={args.model}", *args.overrides])
    engine, meta = build_engine(cfg.engine, cfg.detector, cfg.tracking, cfg.model)
    print(f"model {meta['uri']} on {meta['runtime']}, sampling {args.fps} fps\n")
    print("| clip | viewers | duration s | processing s (median) | real-time factor |\n|---|---|---|---|---|")
    total_duration = total_time = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, str(Path(__file__).parent))
        from make_group_recording import side_by_side

        group = side_by_side(Path(args.clips[0]), Path(args.clips[1]), Path(tmp) / "two_viewers.mp4")
        for clip in [*args.clips, str(group)]:
            duration = media_info(Path(clip)).duration_s
            times = []
            for _ in range(args.repeat):
                out = Path(tmp) / f"{Path(clip).stem}.csv"
                start = time.perf_counter()
                classify_recording(Recording(Path(clip).stem, Path(clip)), engine, meta["classes"], args.fps, out, {},
                                   cfg.decode)
                times.append(time.perf_counter() - start)
            viewers, _ = viewers_of(Path(clip).stem, out, 0.0, meta["classes"], "all", cfg.min_track_share)
            elapsed = sorted(times)[len(times) // 2]
            if clip != str(group):
                total_duration += duration
                total_time += elapsed
            print(f"| {Path(clip).name} | {len(viewers)} | {duration:.1f} | {elapsed:.2f} | "
                  f"{duration / elapsed:.1f}x |")
    factor = total_duration / total_time
    print(f"| all one-viewer clips | | {total_duration:.1f} | {total_time:.2f} | {factor:.1f}x |")
    print(f"\none hour of recording: about {3600 / factor / 60:.1f} min (target: at most 6 min, factor >= 10)")


if __name__ == "__main__":
    main()
