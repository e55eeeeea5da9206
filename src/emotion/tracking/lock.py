"""Who trains a run: an exclusive lock on its checkpoint folder that the operating system drops with the process."""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path


class RunLock:
    """An exclusive lock on a run's checkpoint folder, held while a process trains the run.

    The operating system drops it when the process dies (even by kill -9),
    so a lock that cannot be taken means a live process owns the run.
    """

    def __init__(self, folder: Path):
        self.path = Path(folder) / "owner.lock"
        self.file = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.file.close()
            self.file = None
            return False
        self.file.truncate(0)
        self.file.write(f"{socket.gethostname()} {os.getpid()}\n")
        self.file.flush()
        return True

    def release(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
