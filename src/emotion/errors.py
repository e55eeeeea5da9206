"""User-facing failures: one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import functools
import logging
import sys

from omegaconf.errors import OmegaConfBaseException

log = logging.getLogger("emotion")

USER_ERROR = 2


class EmotionError(Exception):
    """Bad input that the user can fix (a file, a config value, a device)."""

    exit_code = USER_ERROR


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def exits_cleanly(task):
    """Wrap a Hydra task so that input problems end the process with one line.

    SystemExit passes through Hydra's own reporting untouched, so the exit code
    we choose is the one the shell sees.
    """

    @functools.wraps(task)
    def wrapper(cfg):
        try:
            return task(cfg)
        except EmotionError as e:
            print(f"error: {first_line(e)}", file=sys.stderr, flush=True)
            sys.exit(e.exit_code)
        except OmegaConfBaseException as e:
            print(f"error: config: {first_line(e)}", file=sys.stderr, flush=True)
            sys.exit(USER_ERROR)
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr, flush=True)
            sys.exit(130)

    return wrapper
