"""An output written over a long time (a segment, its record): `atomic` held open across calls, so the file has
its final name only once `commit` is called, and a failure or `discard` removes it as `atomic` does."""

from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

from emotion.core.outputs import atomic


class _Discarded(Exception):
    pass


class Held:
    def __init__(self, path: Path):
        self.path, self.stack = path, ExitStack()
        self.partial = self.stack.enter_context(atomic(path))

    def enter(self, context: AbstractContextManager):
        """A context (an open file) closed before the file gets its name or is removed."""
        return self.stack.enter_context(context)

    def commit(self) -> None:
        self.stack.close()

    def discard(self) -> None:
        try:
            self.stack.__exit__(_Discarded, _Discarded(), None)
        except _Discarded:
            pass
