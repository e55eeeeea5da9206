"""Does Keras 3 train with tf.distribute.MultiWorkerMirroredStrategy on this TensorFlow? Two local workers.

    python experiments/check_multiworker.py

Starts two worker processes on this machine's loopback (TF_CONFIG with ports
23456 and 23457), each fitting a small Keras model for two epochs under
MultiWorkerMirroredStrategy, and prints what each worker got: OK with its
losses, or the error (keras-team/keras#20585 reports PerReplica values that
Keras 3's fit cannot convert).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

WORKERS = ["127.0.0.1:23456", "127.0.0.1:23457"]


def worker(index: int) -> None:
    os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": WORKERS}, "task": {"type": "worker", "index": index}})
    import keras
    import numpy as np
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(256, 4)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((x, (x[:, 0] > 0).astype("int64"))).batch(32).repeat()
    try:
        history = model.fit(data, epochs=2, steps_per_epoch=8, verbose=0)
        print(json.dumps({"worker": index, "ok": True, "loss": history.history["loss"]}))
    except Exception as e:  # noqa: BLE001 - the point is to report whatever Keras raises
        message = " ".join(str(e).split())[:160]
        print(json.dumps({"worker": index, "ok": False, "error": f"{type(e).__name__}: {message}"}))


def main():
    if len(sys.argv) > 1:
        worker(int(sys.argv[1]))
        return
    import keras
    import tensorflow as tf

    processes = [subprocess.Popen([sys.executable, __file__, str(i)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True) for i in range(len(WORKERS))]
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {len(WORKERS)} workers on loopback")
    for process in processes:
        out, _ = process.communicate(timeout=300)
        print(out.strip().splitlines()[-1] if out.strip() else json.dumps({"ok": False, "error": "no output"}))


if __name__ == "__main__":
    main()
