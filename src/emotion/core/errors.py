"""User-facing failures: an `EmotionError` becomes one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

USER_ERROR = 2


class EmotionError(Exception):
    """Bad input that the user can fix (a file, a config value, a device)."""

    exit_code = USER_ERROR


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


INTERRUPTED = 130  # as a shell reports a process ended by Ctrl-C


class Interrupted(EmotionError):
    """The user or a scheduler asked the process to stop (SIGINT, SIGTERM); what was done is kept."""

    exit_code = INTERRUPTED
