"""Typed configs: every entry point checks its composed config here before it does anything.

`validate(cfg, "train")` merges the config into its dataclass schema (types, Enum
choices, no unknown keys), checks each option-specific group against its own
schema (a data source, a detector), then walks the schemas for the ranges their
fields declare and the few rules that tie fields together. The first problem
is raised as one `EmotionError` line naming the key. The config objects the code
uses are not changed.
"""

from __future__ import annotations

import typing
from dataclasses import fields, is_dataclass

from hydra.errors import HydraException
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from emotion.core.config import compose_config
from emotion.core.errors import EmotionError
from emotion.schema.data import DATA
from emotion.schema.inference import DETECTORS
from emotion.schema.live import SET_BY_SCREEN
from emotion.schema.roots import ROOTS
from emotion.schema.screening import EXECUTORS, SHOTS, SYNCS

# Keras metrics of the selection split that a checkpoint or early stopping can watch.
MONITORS = ("val_accuracy", "val_loss", "val_macro_f1")
# Groups whose options build different things: (the key that names the option, {its value: schema}).
OPTION_SCHEMAS = {"data": ("_target_", DATA), "detector": ("_target_", DETECTORS), "executor": ("kind", EXECUTORS),
                  "sync": ("by", SYNCS), "shots": ("detector", SHOTS)}


def _problem(e: OmegaConfBaseException, prefix: str = "") -> EmotionError:
    key = getattr(e, "full_key", "") or ""
    key = f"{prefix}.{key}" if prefix and key else prefix or key
    message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return EmotionError(f"config: {key + ': ' if key else ''}{message}")


def _merge(schema, node: DictConfig, prefix: str = ""):
    try:
        return OmegaConf.merge(OmegaConf.structured(schema), node)
    except OmegaConfBaseException as e:
        raise _problem(e, prefix) from None


def _missing(node, path: str = ""):
    """Keys left `???`, without resolving interpolations (some resolve only once data is loaded)."""
    keys = node.keys() if isinstance(node, DictConfig) else range(len(node))
    for key in keys:
        name = f"{path}.{key}" if path else str(key)
        if OmegaConf.is_missing(node, key):
            yield name
        elif not OmegaConf.is_interpolation(node, key) and isinstance(node[key], (DictConfig, ListConfig)):
            yield from _missing(node[key], name)


def _inner_dataclass(hint):
    """The dataclass behind a field type (itself, inside Optional, or as the values of a dict)."""
    if is_dataclass(hint):
        return hint
    for arg in typing.get_args(hint):
        found = _inner_dataclass(arg)
        if found:
            return found
    return None


def _value(node: DictConfig, key: str):
    """The field's value, or None when it is an interpolation that cannot be resolved here."""
    try:
        return node[key]
    except OmegaConfBaseException:
        return None


def _check_ranges(schema, node, path: str) -> None:
    hints = typing.get_type_hints(schema)
    for f in fields(schema):
        if not isinstance(node, DictConfig) or f.name not in node:
            continue
        value = _value(node, f.name)
        key = f"{path}.{f.name}" if path else f.name
        if f.metadata and isinstance(value, (int, float)) and not isinstance(value, bool):
            for op, limit, ok in (("ge", ">=", lambda v, b: v >= b), ("gt", ">", lambda v, b: v > b),
                                  ("le", "<=", lambda v, b: v <= b), ("lt", "<", lambda v, b: v < b)):
                if op in f.metadata and not ok(value, f.metadata[op]):
                    raise EmotionError(f"config: {key} must be {limit} {f.metadata[op]}, got {value}")
        inner = _inner_dataclass(hints[f.name])
        if inner is None or value is None:
            continue
        if typing.get_origin(hints[f.name]) is dict:
            for name in value:
                _check_ranges(inner, value[name], f"{key}.{name}")
        else:
            _check_ranges(inner, value, key)


def _rules(cfg: DictConfig, root: str) -> None:
    data = cfg.get("data")
    if data is not None and "test_split" in data and _value(data, "val_split") is not None:
        if data.val_split + data.test_split >= 1:
            raise EmotionError(f"config: data.val_split + data.test_split must be below 1, got "
                               f"{data.val_split} + {data.test_split}")
    if root == "train":
        if cfg.schedule.monitor not in MONITORS:
            raise EmotionError(f"config: schedule.monitor must be one of {', '.join(MONITORS)} (a selection-split "
                               f"metric), got {cfg.schedule.monitor!r}")
        if not any(int(stage.epochs) for stage in cfg.schedule.stages.values()):
            raise EmotionError("config: schedule.stages: every stage has 0 epochs, nothing would train")
        if cfg.schedule.cache_views and cfg.runtime.strategy != "default":
            raise EmotionError("config: schedule.cache_views needs runtime.strategy=default (one device)")
        if cfg.schedule.cache_views and any(stage.backbone_trainable_from == "all" and int(stage.epochs)
                                            for stage in cfg.schedule.stages.values()):
            raise EmotionError("config: schedule.cache_views: a stage trains the whole backbone "
                               "(backbone_trainable_from=all), nothing stays frozen to compute once")
        backbone = cfg.backbone
        if backbone.channels == 1 and backbone.color != "gray":
            raise EmotionError("config: backbone.channels=1 is a gray input: set backbone.color=gray")
        if backbone.preprocessing in ("vggface2", "dlib") and backbone.channels != 3:
            raise EmotionError(f"config: backbone.preprocessing={backbone.preprocessing} needs backbone.channels=3")
    if root == "infer" and cfg.display not in ("auto", True, False):
        raise EmotionError(f"config: display must be auto, true or false, got {cfg.display!r}")
    if root == "moments" and (cfg.stage == "cut") != bool(cfg.moments_json):
        raise EmotionError("config: stage=cut needs moments_json=<the edited moments.json>" if cfg.stage == "cut"
                           else f"config: moments_json is cut only by stage=cut, not stage={cfg.stage}")
    if root == "moments" and cfg.stage == "cut" and not cfg.episode:
        raise EmotionError("config: stage=cut needs episode=<the episode video> to cut the moments from")
    if root == "screen":
        _screen_rules(cfg)
    segments = cfg.scoring.segments if root in ("moments", "screen") else None
    if segments is not None and segments.min_len_s > segments.max_len_s:
        raise EmotionError(f"config: scoring.segments.min_len_s {segments.min_len_s} is above "
                           f"scoring.segments.max_len_s {segments.max_len_s}")


def _screen_rules(cfg: DictConfig) -> None:
    sources = len(cfg.cameras) + len(cfg.sources)
    if cfg.stage == "moments" and sources:
        raise EmotionError("config: stage=moments takes no cameras or sources: it finishes the screening in output_dir")
    if cfg.stage != "moments" and not sources:
        raise EmotionError("config: nothing to screen: give cameras=[<index>,...] and/or sources=[<video or URL>,...]")
    if any(c < 0 for c in cfg.cameras):
        raise EmotionError(f"config: cameras are indices from 0, got {list(cfg.cameras)}")
    if len(cfg.microphones) > len(cfg.cameras):
        raise EmotionError(f"config: microphones: {len(cfg.microphones)} given for {len(cfg.cameras)} camera(s)")
    if cfg.names and len(cfg.names) != sources:
        raise EmotionError(f"config: names: {len(cfg.names)} given for {sources} camera(s) and source(s)")
    for override in cfg.moments:
        key = str(override).lstrip("+~").split("=")[0].split(".")[0]
        if key in SET_BY_SCREEN:
            raise EmotionError(f"config: moments: {override}: {key} is set on emotion.screen itself (its moments "
                               "stage uses the screening's)")
    try:
        validate(compose_config("moments", list(cfg.moments)), "moments")
    except (EmotionError, HydraException, OmegaConfBaseException) as e:
        reason = str(e).strip().splitlines()[0].removeprefix("config: ")
        raise EmotionError(f"config: moments: {reason}") from None


def validate(cfg: DictConfig, root: str) -> None:
    """Raise an `EmotionError` naming the first bad value of an entry point's config; return None when all is well."""
    schema = ROOTS[root]
    _merge(schema, cfg)
    # The root's own groups first: an option that interpolates one of them (detector.threads is
    # ${engine.threads}) should be blamed under the name the user set.
    _check_ranges(schema, cfg, "")
    names = {f.name for f in fields(schema)}
    for group, (key, options) in OPTION_SCHEMAS.items():
        if group not in names or cfg.get(group) is None:
            continue
        target = cfg[group].get(key)
        if target not in options:
            raise EmotionError(f"config: {group}.{key} {target!r} is not one of {', '.join(options)}")
        _merge(options[target], cfg[group], group)
        _check_ranges(options[target], cfg[group], group)
    missing = next(_missing(cfg), None)
    if missing:
        raise EmotionError(f"config: {missing} is required (set {missing}=...)")
    _rules(cfg, root)
