"""The TensorFlow runtime of a process: threads, seed, numeric precision, distribution strategy.

Thread pools are fixed once TensorFlow has started (the first op, model load
or device query), so `set_threads` must run before any of that; it reports the
counts that really apply, which runs, summaries and benchmarks record.
"""

from __future__ import annotations

import logging
import os

from omegaconf import DictConfig

from emotion.errors import EmotionError

log = logging.getLogger(__name__)

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
STRATEGIES = ("default", "mirrored", "tpu")


def cores() -> int:
    """CPUs this process may run on (what TensorFlow's default thread pools use)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def set_threads(intra_op: int | None, inter_op: int | None = None) -> dict[str, int]:
    """Set TensorFlow's thread pools (0 or None: TensorFlow's default) and return the effective counts."""
    import tensorflow as tf

    threading = tf.config.threading
    for name, wanted, setter, getter in (
        ("intra_op", intra_op, threading.set_intra_op_parallelism_threads, threading.get_intra_op_parallelism_threads),
        ("inter_op", inter_op, threading.set_inter_op_parallelism_threads, threading.get_inter_op_parallelism_threads),
    ):
        if wanted and (getter() or cores()) != int(wanted):
            try:
                setter(int(wanted))
            except RuntimeError:
                log.warning("TensorFlow has already started in this process: %s threads stay at %s, not %s",
                            name, getter() or cores(), wanted)
    return effective_threads()


def effective_threads() -> dict[str, int]:
    import tensorflow as tf

    return {"intra_op": tf.config.threading.get_intra_op_parallelism_threads() or cores(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads() or cores()}


def configure(cfg: DictConfig):
    """Threads, seed, precision policy and distribution strategy for training; returns the strategy."""
    import keras
    import tensorflow as tf

    threads = set_threads(cfg.threads.intra_op, cfg.threads.inter_op)
    split_cpu(int(cfg.cpu_devices))
    keras.utils.set_random_seed(int(cfg.seed))
    if cfg.precision not in PRECISIONS:
        raise EmotionError(f"runtime.precision must be one of {', '.join(PRECISIONS)}, not {cfg.precision!r}")
    policy = cfg.precision
    if policy == "mixed_float16" and not tf.config.list_physical_devices("GPU"):
        log.warning("mixed_float16 needs a GPU; training in float32")
        policy = "float32"
    keras.mixed_precision.set_global_policy(policy)
    log.info("runtime: %s, %d intra-op / %d inter-op threads, %s strategy", cfg.precision, threads["intra_op"],
             threads["inter_op"], cfg.strategy)
    return strategy(cfg.strategy), threads


def split_cpu(devices: int) -> None:
    """The CPU as `devices` logical devices (before TensorFlow starts): several replicas without GPUs."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    if devices <= 1 or len(tf.config.get_logical_device_configuration(cpu) or []) == devices:
        return
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
    except RuntimeError:
        log.warning("TensorFlow has already started in this process: runtime.cpu_devices=%d cannot apply", devices)


def strategy(name: str):
    """default: one device; mirrored: synchronous data parallelism over this machine's GPUs, or, with none,
    its logical CPU devices (runtime.cpu_devices); tpu: a TPU."""
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.MirroredStrategy([d.name for d in gpus or tf.config.list_logical_devices("CPU")])
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise EmotionError(f"runtime.strategy must be one of {', '.join(STRATEGIES)}, not {name!r}")
