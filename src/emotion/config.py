"""Where the configs live and the helpers every entry point shares."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, ListConfig, OmegaConf

CONFIG_DIR = str(Path(__file__).resolve().parents[2] / "conf")

if not OmegaConf.has_resolver("len"):
    OmegaConf.register_new_resolver("len", lambda items: len(items))


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


def build(cfg, what: str, **kwargs):
    """`hydra.utils.instantiate`, with failures reported as one line naming `what`."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    from emotion.errors import EmotionError, first_line

    try:
        return instantiate(cfg, **kwargs)
    except InstantiationException as e:
        cause = e.__cause__
        if isinstance(cause, EmotionError):
            raise cause from None
        raise EmotionError(f"{what}: {first_line(cause or e)}") from None


def compose_config(config_name: str, overrides=()) -> DictConfig:
    """The composed config of an entry point, for use from Python (notebooks, scripts, tests)."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name, overrides=list(overrides))
