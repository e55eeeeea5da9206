"""Config helpers: dotted names, a copy with values set, and schedule lengths in epochs resolved from the data."""

import pytest

from emotion.core.config import flatten, with_values

from conftest import make_cfg


def test_schedule_lengths_come_from_the_data():
    cfg = make_cfg(["experiment=ferplus_cpu", "data.root=/x", "schedule.stages.scratch.epochs=30"])
    with pytest.raises(Exception, match="needs schedule.steps_per_epoch"):
        _ = cfg.schedule.stages.scratch.optimizer.learning_rate.decay_steps
    cfg = with_values(cfg, {"schedule": {"steps_per_epoch": 100}})
    schedule = cfg.schedule.stages.scratch.optimizer.learning_rate
    assert (schedule.warmup_steps, schedule.decay_steps) == (200, 2800)


def test_flatten_gives_dotted_names():
    flat = flatten({"augment": {"rotation": 25, "brightness": [0.5, 1.0]}, "head": {"layers": [{"filters": 8}]},
                    "empty": {}})
    assert flat == {"augment.rotation": 25, "augment.brightness.0": 0.5, "augment.brightness.1": 1.0,
                    "head.layers.0.filters": 8, "empty": {}}


def test_with_values_leaves_the_config_as_it_was():
    cfg = make_cfg(["experiment=quickstart"])
    changed = with_values(cfg, {"schedule": {"steps_per_epoch": 7}})
    assert changed.schedule.steps_per_epoch == 7 and cfg.schedule.steps_per_epoch is None
