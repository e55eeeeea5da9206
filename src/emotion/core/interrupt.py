"""Stopping on request: Ctrl-C (SIGINT) and a scheduler's SIGTERM end a loop after the item in progress.

Without a window, Ctrl-C is how a camera or stream run ends, and a job scheduler stops a job with SIGTERM:
neither is a failure, and what was recorded until then must be kept. Inside `stop_requests`, the first such
signal only sets a flag that the loop reads after each frame; the loop then closes its files under their
final names. A second signal is not caught: it interrupts at once, as if there were no handler, and the
atomic writes then keep nothing partial.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_requests() -> Iterator[Callable[[], bool]]:
    """Yield a function that says whether a stop was asked for since the block began.

    Signal handlers belong to the main thread: elsewhere (a Ray or joblib worker) nothing is caught and the
    function always says no.
    """
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    asked: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}

    def restore():
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def on_signal(signum, frame):
        asked.append(signum)
        restore()
        log.warning("%s: finishing the frame in progress and keeping what was done (again to stop at once)",
                    signal.Signals(signum).name)

    for sig in SIGNALS:
        signal.signal(sig, on_signal)
    try:
        yield lambda: bool(asked)
    finally:
        restore()
