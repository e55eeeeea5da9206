"""The tf.data pipeline: shapes, images that stop decoding, epochs of whole passes, no autotuning."""

import numpy as np

from emotion.data.base import Split, one_hot
from emotion.data.pipeline import epoch_steps, prediction_dataset, to_dataset

from helpers.files import write_tree


def test_pipeline_shapes_and_decode_failures(tmp_path):
    root = write_tree(tmp_path / "faces", per_class=2)
    paths = sorted(str(p) for p in root.rglob("*.jpg"))
    (root / "happy" / "0.jpg").write_bytes(b"corrupted after the scan")
    split = Split(paths, one_hot(np.arange(len(paths)) % 3, 3), paths)
    batches = list(to_dataset(split, 24, batch_size=4))
    assert sum(len(images) for images, _ in batches) == len(paths) - 1, "training leaves the broken image out"
    images, targets = batches[0]
    assert images.shape[1:] == (24, 24, 3) and targets.shape[1:] == (3,)
    assert 0 <= float(np.min(images)) and float(np.max(images)) <= 255

    rows = [(images.numpy(), readable.numpy()) for images, readable in prediction_dataset(split, 24, 4)]
    readable = np.concatenate([r for _, r in rows])
    assert len(readable) == len(paths), "predictions keep one row per image"
    assert readable.tolist() == [p != str(root / "happy" / "0.jpg") for p in paths]

    memory = Split(np.zeros((5, 48, 48, 3), np.uint8), one_hot(np.zeros(5, int), 3), list("abcde"))
    images, _ = next(iter(to_dataset(memory, 64, batch_size=8)))
    assert images.shape == (5, 64, 64, 3)


def test_an_epoch_of_steps_is_one_pass_and_nothing_is_autotuned():
    memory = Split(np.zeros((21, 8, 8, 3), np.uint8), one_hot(np.arange(21) % 3, 3), [str(i) for i in range(21)])
    assert epoch_steps(memory, 4) == 6 and epoch_steps(memory, 4, replicas=2) == 5 and epoch_steps(memory, 64) == 1
    for replicas in (1, 2):
        batches = list(to_dataset(memory, 8, batch_size=4, shuffle=True, replicas=replicas))
        assert len(batches) == epoch_steps(memory, 4, replicas)
    # Deleting an iterator that tf.data's autotuning watched stalled each FER+ epoch for ~40 s.
    assert to_dataset(memory, 8, 4).options().autotune.enabled is False
    assert prediction_dataset(memory, 8, 4).options().autotune.enabled is False
