"""The TensorFlow runtime of a training run: threads, seed, numeric precision, distribution strategy."""

from __future__ import annotations

import logging

import keras
import tensorflow as tf
from omegaconf import DictConfig

from emotion.core.process import cpu_flags
from emotion.core.threads import set_threads

# CPU instructions that compute bfloat16 natively; without them TensorFlow emulates it, many times slower.
BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}

log = logging.getLogger(__name__)


def apply_runtime(cfg: DictConfig):
    """Threads, seed, precision policy and distribution strategy for training.

    Returns (the strategy, what really applies: `intra_op_threads`, `inter_op_threads`, `precision`).
    """
    threads = set_threads(cfg.threads.intra_op, cfg.threads.inter_op)
    split_cpu(int(cfg.cpu_devices))
    keras.utils.set_random_seed(int(cfg.seed))
    policy = cfg.precision
    gpus = tf.config.list_physical_devices("GPU")
    if policy == "mixed_float16" and not gpus:
        log.warning("mixed_float16 needs a GPU; training in float32")
        policy = "float32"
    if policy == "mixed_bfloat16" and not gpus and not BF16_CPU_FLAGS & cpu_flags():
        log.warning("mixed_bfloat16: this CPU has no bfloat16 instructions (%s), where TensorFlow emulates them "
                    "many times slower; training in float32", " or ".join(sorted(BF16_CPU_FLAGS)))
        policy = "float32"
    keras.mixed_precision.set_global_policy(policy)
    log.info("runtime: %s, %d intra-op / %d inter-op threads, %s strategy", policy, threads["intra_op"],
             threads["inter_op"], cfg.strategy)
    effective = {f"{k}_threads": v for k, v in threads.items()}
    return strategy(cfg.strategy), {**effective, "precision": policy}


def split_cpu(devices: int) -> None:
    """The CPU as `devices` logical devices (before TensorFlow starts): several replicas without GPUs."""
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
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.MirroredStrategy([d.name for d in gpus or tf.config.list_logical_devices("CPU")])
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()  # the one choice left: tpu
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)
