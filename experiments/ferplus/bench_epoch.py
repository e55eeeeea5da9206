"""Seconds per FER+ training epoch of the `ferplus_cpu` recipe under each CPU setting, one process each.

    python experiments/ferplus/bench_epoch.py [--root ../shared/data/ferplus] [--steps 80] [--out epoch.json]

Every setting is a list of overrides (XLA, bfloat16, batch size, threads) on
`experiment=ferplus_cpu` at float32, the recipe before this benchmark chose
bfloat16. Its process loads FER+, builds and compiles the model as training
does, runs `--warmup` steps, then times `--steps` steps of `model.fit` on the
real input pipeline (augmentation included); seconds per epoch are the median
step time x the steps of one epoch at that batch size. The input
pipeline alone is timed too (batches per second with no training): when it is
far faster than the training step, training never waits on the data.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SETTINGS = {
    "baseline (float32, batch 64)": [],
    "XLA": ["runtime.jit_compile=true"],
    "bfloat16": ["runtime.precision=mixed_bfloat16"],
    "bfloat16 + XLA": ["runtime.precision=mixed_bfloat16", "runtime.jit_compile=true"],
    "batch 128": ["schedule.batch_size=128"],
    "batch 128 + bfloat16": ["schedule.batch_size=128", "runtime.precision=mixed_bfloat16"],
    "inter-op 1 thread": ["runtime.threads.inter_op=1"],
}


def measure(root: str, overrides: list[str], warmup: int, steps: int) -> dict:
    import keras

    from emotion.core.config import build, compose_config, with_values
    from emotion.data.augment import make_augment
    from emotion.data.pipeline import to_dataset
    from emotion.model.assemble import build_model
    from emotion.training.runtime import apply_runtime
    from emotion.training.schedule import compile_stage

    cfg = compose_config("train", ["experiment=ferplus_cpu", f"data.root={root}", "runtime.precision=float32",
                                   *overrides])
    _, effective = apply_runtime(cfg.runtime)
    data = build(cfg.data, "data")
    batch = int(cfg.schedule.batch_size)
    cfg = with_values(cfg, {"schedule": {"steps_per_epoch": -(-len(data.splits["train"]) // batch)}})
    model, _ = build_model(cfg.backbone, cfg.head, len(data.classes), cfg.paths.cache_dir)
    stage = next(iter(s for s in cfg.schedule.stages.values() if s.epochs))
    compile_stage(model, stage, cfg.schedule, cfg.runtime.jit_compile)
    train = to_dataset(data.splits["train"], cfg.backbone.input_size, batch, make_augment(cfg.augment),
                       shuffle=True, seed=0).repeat()

    start = time.perf_counter()
    for _ in train.take(steps):
        pass
    pipeline_s = (time.perf_counter() - start) / steps

    step_times = []

    class Timer(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            step_times.append(time.perf_counter() - self.start)

    model.fit(train, steps_per_epoch=warmup + steps, epochs=1, verbose=0, callbacks=[Timer()])
    step = float(np.median(step_times[warmup:]))
    steps_per_epoch = cfg.schedule.steps_per_epoch
    return {"overrides": overrides, "batch_size": batch, "threads": effective["intra_op_threads"],
            "precision": effective["precision"], "step_ms": round(step * 1000, 1),
            "pipeline_ms_per_batch": round(pipeline_s * 1000, 1), "steps_per_epoch": steps_per_epoch,
            "s_per_epoch": round(step * steps_per_epoch, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="../shared/data/ferplus")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:
        print(json.dumps(measure(args.root, SETTINGS[args.one], args.warmup, args.steps)))
        return
    rows = []
    for name in args.settings:
        out = subprocess.run([sys.executable, __file__, "--one", name, "--root", args.root, "--warmup",
                              str(args.warmup), "--steps", str(args.steps)], capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(f"error: {name} failed: {out.stderr.strip()[-800:]}")
        rows.append({"setting": name, **json.loads(out.stdout.strip().splitlines()[-1])})
        print(f"{name}: {rows[-1]['s_per_epoch']} s/epoch", file=sys.stderr, flush=True)
    baseline = rows[0]["s_per_epoch"]
    print("| setting | batch | ms per step (median) | input pipeline ms per batch | s per epoch | vs first row |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['setting']} | {r['batch_size']} | {r['step_ms']} | {r['pipeline_ms_per_batch']} | "
              f"{r['s_per_epoch']} | {baseline / r['s_per_epoch']:.2f}x |")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
