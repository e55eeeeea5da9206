"""Where the configs live, how they are composed from Python, and the helpers that read them.

The repository's conf/ folder is installed as the package `emotion.conf` (see
pyproject.toml): editable installs read the checkout's files, wheels their own copy.
"""

from __future__ import annotations

import os

from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf

from emotion.core.errors import EmotionError, first_line

CONFIG_MODULE = "emotion.conf"
CONFIG_PATH = f"pkg://{CONFIG_MODULE}"


def steps(epochs, minus=0, *, _root_) -> int:
    """`${steps:N}`: the optimizer steps of N epochs (less `minus`; at least one), from `schedule.steps_per_epoch`.

    Learning-rate schedules count steps; configs count epochs. The runner
    composes a copy of the config with `steps_per_epoch` from the training
    split and the batch size before anything resolves these.
    """
    per_epoch = OmegaConf.select(_root_, "schedule.steps_per_epoch")
    if not per_epoch:
        raise ValueError("${steps:...} needs schedule.steps_per_epoch, which the runner sets from the data")
    return max(1, int(round((float(epochs) - float(minus)) * per_epoch)))


if not OmegaConf.has_resolver("len"):
    OmegaConf.register_new_resolver("len", lambda items: len(items))
if not OmegaConf.has_resolver("steps"):
    OmegaConf.register_new_resolver("steps", steps)
if not OmegaConf.has_resolver("pid"):
    # In output folder names: two runs started in the same second never share a folder or a log. The
    # launching process's pid, kept in the environment: a sweep's jobs in other processes (Ray workers)
    # resolve the same folder.
    OmegaConf.register_new_resolver("pid", lambda: os.environ.setdefault("EMOTION_LAUNCHER_PID", str(os.getpid())))


def flatten(cfg, prefix: str = "") -> dict[str, object]:
    """Dotted keys for every leaf (`augment.rotation`, `head.layers.0.filters`)."""
    if isinstance(cfg, (DictConfig, dict)):
        items = cfg.items() if isinstance(cfg, dict) else ((k, cfg[k]) for k in cfg)
    elif isinstance(cfg, (ListConfig, list, tuple)):
        items = ((str(i), v) for i, v in enumerate(cfg))
    else:
        return {prefix: cfg}
    flat: dict[str, object] = {}
    for key, value in items:
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, (DictConfig, ListConfig, dict, list, tuple)) and len(value):
            flat.update(flatten(value, name))
        else:
            flat[name] = value
    return flat


def with_values(cfg: DictConfig, values: dict) -> DictConfig:
    """A new config: `cfg` with `values` (a nested dict) merged in; `cfg` itself is left as it is."""
    return OmegaConf.merge(cfg, values)


def build(cfg, what: str, **kwargs):
    """`hydra.utils.instantiate`, with failures reported as one line naming `what`."""
    try:
        return instantiate(cfg, **kwargs)
    except InstantiationException as e:
        cause = e.__cause__
        if isinstance(cause, EmotionError):
            raise cause from None
        raise EmotionError(f"{what}: {first_line(cause or e)}") from None


def compose_config(config_name: str, overrides=()) -> DictConfig:
    """The composed config of an entry point, for use from Python (notebooks, scripts, tests), and inside an entry
    point's job (emotion.screen composes the config of its moments stage), where Hydra is already set up."""
    if GlobalHydra.instance().is_initialized():
        return compose(config_name, overrides=list(overrides))
    with initialize_config_module(CONFIG_MODULE, version_base="1.3"):
        return compose(config_name, overrides=list(overrides))


def output_folder(config_name: str, overrides=(), multirun: bool = False) -> str:
    """The folder Hydra will create for this command line's job (its sweep folder under --multirun)."""
    with initialize_config_module(CONFIG_MODULE, version_base="1.3"):
        hydra = compose(config_name, overrides=list(overrides), return_hydra_config=True).hydra
    return str(hydra.sweep.dir if multirun else hydra.run.dir)
