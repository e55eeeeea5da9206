"""Training input pipeline: the notebook's ImageDataGenerator against ours, same images, same augmentation.

    python experiments/bench_pipeline.py [--root ../shared/data/ferplus/FER2013Train] [--out FILE]

Both produce augmented float32 batches of 128 images at 224 px from the same PNG
files with the notebook's augmentation values (conf/augment/seed.yaml); images/s
are measured over the same number of batches after one warm-up batch.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def image_files(root: Path, count: int) -> list[str]:
    files = sorted(str(p) for p in root.glob("*.png"))
    if not files:
        raise SystemExit(f"error: no PNG images in {root}")
    return files[:count]


def images_per_second(batches, count: int, batch_size: int) -> float:
    iterator = iter(batches)
    next(iterator)  # warm-up: thread pools, graph tracing
    start = time.perf_counter()
    for _ in range(count):
        next(iterator)
    return count * batch_size / (time.perf_counter() - start)


def notebook_pipeline(files, size, batch_size, augment):
    import pandas as pd
    from keras.src.legacy.preprocessing.image import ImageDataGenerator

    generator = ImageDataGenerator(
        rotation_range=augment.rotation, width_shift_range=augment.width_shift,
        height_shift_range=augment.height_shift, shear_range=augment.shear,
        horizontal_flip=augment.horizontal_flip, brightness_range=tuple(augment.brightness),
        fill_mode=augment.fill_mode,
    )
    frame = pd.DataFrame({"image_path": files, "emotion": [str(i % 9) for i in range(len(files))]})
    return generator.flow_from_dataframe(frame, x_col="image_path", y_col="emotion", target_size=(size, size),
                                         batch_size=batch_size, class_mode="categorical", shuffle=True, seed=0)


def our_pipeline(files, size, batch_size, augment):
    from emotion.data.augment import make_augment
    from emotion.data.base import Split, one_hot
    from emotion.data.pipeline import to_dataset

    split = Split(files, one_hot(np.arange(len(files)) % 9, 9), files)
    return to_dataset(split, size, batch_size, make_augment(augment), shuffle=True).repeat()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="../shared/data/ferplus/FER2013Train", type=Path)
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from emotion.core.config import compose_config

    augment = compose_config("train", ["augment=seed"]).augment
    files = image_files(args.root, args.images)
    ours = images_per_second(our_pipeline(files, args.size, args.batch_size, augment), args.batches, args.batch_size)
    notebook = images_per_second(notebook_pipeline(files, args.size, args.batch_size, augment), args.batches,
                                 args.batch_size)
    result = {"images": len(files), "size": args.size, "batch_size": args.batch_size, "batches": args.batches,
              "ours_img_s": round(ours, 1), "notebook_img_s": round(notebook, 1), "speedup": round(ours / notebook, 2)}
    print(f"| pipeline | images/s |\n|---|---|\n| notebook ImageDataGenerator | {notebook:.0f} |\n"
          f"| ours (tf.data) | {ours:.0f} |\n\nspeed-up: {ours / notebook:.1f}x "
          f"({args.batches} batches of {args.batch_size} at {args.size} px, {len(files)} FER+ PNGs)")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
