"""How every entry point starts: the command line's config is checked first, then Hydra runs the task.

Hydra reports its own composition errors (an unknown group option, a key that
is not there) in several lines and exits 1; a wrong type or range would reach
deep code. So before Hydra creates any output folder, `precheck` composes the
command line's config with Hydra's compose API (each value of a sweep in turn)
and validates it against the typed schema: any problem ends the process with
one `error: config: ...` line and exit code 2. Then `hydra.main` runs as usual
(multirun, sweepers, launchers, --cfg, --help).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

import hydra
from hydra._internal.utils import get_args_parser
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ValueType
from hydra.errors import HydraException, OverrideParseException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from emotion.core.config import CONFIG_PATH, compose_config, output_folder
from emotion.core.errors import INTERRUPTED, USER_ERROR, EmotionError, first_line
from emotion.core.outputs import STORAGE_ERROR, StorageError, is_storage_fault, writable
from emotion.schema import validate

HELP_FLAGS = ("help", "hydra_help", "info", "shell_completion")
QUOTE_HINT = ("a value with spaces, commas, brackets or parentheses is quoted inside the argument: "
              "'source=\"my clip (1).mp4\"'")


def one_line(message: str) -> str:
    """A Hydra or OmegaConf message on one line: indented lists joined, search paths and key dumps dropped."""
    parts: list[str] = []
    items: list[str] = []
    for line in message.split("\nConfig search path")[0].splitlines():
        text = line.strip()
        if not text or text.startswith(("full_key:", "object_type=", "reference_type=")):
            continue
        if line.startswith(("\t", "  ")) and parts:
            items.append(text)
            continue
        if items:
            parts[-1] += " " + ", ".join(items)
            items = []
        parts.append(text)
    if items:
        parts[-1] += " " + ", ".join(items)
    return " ".join(parts)


def variants(overrides: list[str]) -> list[list[str]]:
    """Override lists that together try every value of every sweep once (not every combination).

    Interval sweeps (an Optuna search space) are left to the sweeper: each trial is validated as it starts.
    """
    parsed = OverridesParser.create().parse_overrides(overrides)
    base, sweeps = [], []
    for override, text in zip(parsed, overrides):
        if not override.is_sweep_override():
            base.append(text)
        elif override.value_type != ValueType.INTERVAL_SWEEP:
            prefix = text.split("=", 1)[0]
            sweeps.append([f"{prefix}={value}" for value in override.sweep_string_iterator()])
    first = base + [values[0] for values in sweeps]
    out = [first]
    for i, values in enumerate(sweeps):
        for value in values[1:]:
            out.append(base + [v[0] for v in sweeps[:i]] + [value] + [v[0] for v in sweeps[i + 1:]])
    return out


def precheck(config_name: str, args: list[str]) -> None:
    """Compose and validate the command line's config; one line and exit 2 on any problem."""
    parsed = get_args_parser().parse_args(args)
    if any(getattr(parsed, flag, None) for flag in HELP_FLAGS):
        return
    name = parsed.config_name or config_name
    try:
        sweeps = [text for override, text in zip(OverridesParser.create().parse_overrides(parsed.overrides),
                                                 parsed.overrides) if override.is_sweep_override()]
        if sweeps and not parsed.multirun:
            fail(f"config: {sweeps[0]} is a sweep, which only --multirun runs; {QUOTE_HINT}")
        runs = variants(parsed.overrides)
        for overrides in runs:
            validate(compose_config(name, overrides), config_name)
        writable(output_folder(name, runs[0], parsed.multirun))
    except OverrideParseException as e:
        fail(f"config: {one_line(str(e))}; {QUOTE_HINT}")
    except (HydraException, OmegaConfBaseException) as e:
        fail(f"config: {one_line(str(e))}")
    except EmotionError as e:
        fail(str(e), e.exit_code)


def fail(message: str, code: int = USER_ERROR) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def exits_cleanly(task: Callable, config_name: str, exit_code: bool) -> Callable:
    """The Hydra task: its config validated (each job of a sweep too), input problems ended with one line.

    With `exit_code`, the task's return value is the process's exit status.
    SystemExit passes through Hydra's own reporting untouched, so the code we
    choose is the one the shell sees.
    """

    @functools.wraps(task)
    def wrapper(cfg: DictConfig):
        try:
            validate(cfg, config_name)
            result = task(cfg)
        except EmotionError as e:
            fail(first_line(e), e.exit_code)
        except OmegaConfBaseException as e:
            fail(f"config: {first_line(e)}")
        except KeyboardInterrupt:
            fail("interrupted", INTERRUPTED)
        except OSError as e:
            if not is_storage_fault(e):
                raise
            fail(first_line(StorageError(e.filename or "an output", e)), STORAGE_ERROR)
        if exit_code and result:
            sys.exit(result)
        return result

    return wrapper


def entry_point(config_name: str, task: Callable, exit_code: bool = False) -> Callable[[], None]:
    """`main()` of an entry point: `precheck`, then `task` under `hydra.main`.

    The task's return value is what a sweeper optimises or, with `exit_code`, the exit status.
    """
    hydra_task = hydra.main(version_base="1.3", config_path=CONFIG_PATH,
                            config_name=config_name)(exits_cleanly(task, config_name, exit_code))

    def main() -> None:
        precheck(config_name, sys.argv[1:])
        hydra_task()

    return main
