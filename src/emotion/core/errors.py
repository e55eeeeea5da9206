"""User-facing failures: an `EmotionError` becomes one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

USER_ERROR = 2


class EmotionError(Exception):
    """Bad input that the user can fix (a file, a config value, a device)."""

    exit_code = USER_ERROR


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
