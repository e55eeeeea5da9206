"""The real configs: every option of every group composes and validates; bad values end in one line."""

import importlib.resources

import pytest
from omegaconf import OmegaConf

from emotion.core.errors import EmotionError
from emotion.schema import validate

from conftest import make_cfg, options

# The groups each entry point composes (conf/<root>.yaml defaults lists).
ROOT_GROUPS = {
    "train": ["data", "augment", "backbone", "backbone/weights", "head", "schedule", "callbacks", "runtime", "eval",
              "tracking", "paths", "debug", "experiment", "hparams_search"],
    "evaluate": ["data", "eval", "engine", "tracking", "paths"],
    "export": ["tracking", "paths"],
    "infer": ["detector", "engine", "tracking", "paths"],
    "moments": ["detector", "engine", "executor", "sync", "shots", "scoring", "tracking", "paths"],
    "screen": ["detector", "engine", "scoring", "tracking", "paths"],
}
NEEDS_ROOT = {"folder", "ferplus"}


def test_every_group_folder_is_used_by_an_entry_point():
    folders = {p.name for p in importlib.resources.files("emotion.conf").iterdir() if p.is_dir()
               and not p.name.startswith("__")}
    assert folders == {g.split("/")[0] for groups in ROOT_GROUPS.values() for g in groups}


@pytest.mark.parametrize("root,group,option", [(r, g, o) for r, groups in ROOT_GROUPS.items() for g in groups
                                               for o in options(g)])
def test_every_option_composes_and_validates(root, group, option):
    overrides = [f"{group}={option}"]
    if option in NEEDS_ROOT or (group == "experiment" and option.startswith("ferplus")) or (
            root == "evaluate" and group != "data"):  # evaluate's default data is FER+
        overrides.append("data.root=/somewhere")
    if group == "hparams_search":  # a sweeper config: composed as the multirun composes it
        overrides.append("experiment=quickstart")
    if root == "screen":  # something to screen
        overrides.append("cameras=[0]")
    validate(make_cfg(overrides, config_name=root), root)


def test_issue_overrides_are_valid():
    cfg = make_cfg(["augment.rotation=25", "head=dilated"])
    assert cfg.augment.rotation == 25
    assert cfg.head.layers[0].dilation_rate == 6


def test_defaults_are_the_real_job():
    cfg = make_cfg()
    assert cfg.data.name == "skillbox"
    assert cfg.backbone.cut_layer == "avg_pool"
    assert cfg.backbone.weights.urls[0].endswith("rcmalli_vggface_tf_notop_resnet50.h5")
    assert cfg.tracking.uri == "sqlite:///mlflow.db"
    assert cfg.tracking.model_name == "emotion-skillbox"


def test_seed_experiment_is_the_notebook_setup():
    cfg = make_cfg(["experiment=seed"])
    assert cfg.backbone.weights.gdrive_ids == ["1oHJxVZCcVwp1dgcwDIZL4h97uInxOGWO"]
    assert cfg.schedule.batch_size == 128
    a = cfg.augment
    assert (a.rotation, a.width_shift, a.height_shift, a.shear, a.horizontal_flip) == (25, 0.1, 0.1, 2, True)
    assert list(a.brightness) == [0.5, 1.0]
    assert cfg.data.val_split == cfg.data.test_split == 0.1
    assert cfg.schedule.monitor.startswith("val_") and cfg.tracking.metric.startswith("selection_")


def test_quickstart_is_offline():
    cfg = make_cfg(["experiment=quickstart"])
    assert cfg.data.name == "synthetic"
    assert cfg.backbone.weights is None
    assert cfg.tracking.model_name == "emotion-synthetic"


def test_validation_does_not_change_the_config():
    cfg = make_cfg(["engine=keras"], config_name="infer")
    before = OmegaConf.to_yaml(cfg)
    validate(cfg, "infer")
    assert OmegaConf.to_yaml(cfg) == before and cfg.engine.backend == "keras"


def test_validation_in_python_raises_one_line():
    with pytest.raises(EmotionError, match=r"^config: augment.rotation must be <= 180, got 400$"):
        validate(make_cfg(["augment.rotation=400"]), "train")




def test_every_value_is_written_once_in_the_yaml():
    """Schema fields declare types, ranges and choices; no value of their own (`???` until the YAML gives it).

    Allowed: nested groups (their own fields are checked), the key that names an option (`_target_`, `kind`, `by`,
    `detector`),
    and the optional `debug` group, which is off unless chosen.
    """
    import dataclasses
    import importlib
    import pkgutil

    from omegaconf import MISSING

    import emotion.schema

    for info in pkgutil.iter_modules(emotion.schema.__path__):
        module = importlib.import_module(f"emotion.schema.{info.name}")
        for schema in vars(module).values():
            if not dataclasses.is_dataclass(schema) or schema.__module__ != module.__name__:
                continue
            for f in dataclasses.fields(schema):
                identity = f.name in ("_target_", "kind", "by", "detector", "debug")
                if identity or f.default_factory is not dataclasses.MISSING:
                    continue
                assert f.default is MISSING, f"{schema.__name__}.{f.name} has its own default {f.default!r}"
