"""The real configs compose, every option of every group, and overrides behave."""

from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException

from emotion.config import CONFIG_DIR, flatten

from conftest import make_cfg

GROUPS = ["data", "augment", "backbone", "head", "schedule", "runtime", "eval", "tracking", "experiment"]


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (Path(CONFIG_DIR) / group).glob("*.yaml"))


@pytest.mark.parametrize("group,option", [(g, o) for g in GROUPS for o in options(g)])
def test_every_option_composes(group, option):
    cfg = make_cfg([f"{group}={option}"] + (["data.root=/somewhere"] if option == "folder" else []))
    assert cfg.backbone.input_size > 0
    assert cfg.data.classes is None or len(cfg.data.classes) >= 2


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


@pytest.mark.parametrize("override", ["augment.rotatoin=25", "head=nonexistent", "nonsense=1"])
def test_bad_overrides_are_refused(override):
    with pytest.raises(ConfigCompositionException):
        make_cfg([override])


def test_flatten_gives_dotted_names():
    flat = flatten({"augment": {"rotation": 25, "brightness": [0.5, 1.0]}, "head": {"layers": [{"filters": 8}]},
                    "empty": {}})
    assert flat == {"augment.rotation": 25, "augment.brightness.0": 0.5, "augment.brightness.1": 1.0,
                    "head.layers.0.filters": 8, "empty": {}}
