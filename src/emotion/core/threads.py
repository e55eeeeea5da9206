"""TensorFlow's thread pools, set before TensorFlow starts, and the counts that really apply.

Thread pools are fixed once TensorFlow has started (the first op, model load
or device query), so `set_threads` must run before any of that; it reports the
counts that really apply, which runs, summaries and benchmarks record.
"""

from __future__ import annotations

import logging

from emotion.core.process import cores

log = logging.getLogger(__name__)

# TensorFlow is imported inside the functions: importing this module must not start it.


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
