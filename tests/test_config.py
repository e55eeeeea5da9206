"""The real configs: every option of every group composes and validates; bad values end in one line."""

import importlib.resources

import pytest
from omegaconf import OmegaConf

from emotion.config import flatten
from emotion.errors import EmotionError
from emotion.schema import validate

from conftest import make_cfg, run_cli

# The groups each entry point composes (conf/<root>.yaml defaults lists).
ROOT_GROUPS = {
    "train": ["data", "augment", "backbone", "backbone/weights", "head", "schedule", "callbacks", "runtime", "eval",
              "tracking", "paths", "debug", "experiment", "hparams_search"],
    "evaluate": ["data", "eval", "engine", "tracking", "paths"],
    "export": ["tracking", "paths"],
    "infer": ["detector", "engine", "tracking", "paths"],
    "moments": ["detector", "engine", "executor", "tracking", "paths"],
}
NEEDS_ROOT = {"folder", "ferplus"}


def options(group: str) -> list[str]:
    folder = importlib.resources.files("emotion.conf").joinpath(*group.split("/"))
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def test_every_group_folder_is_used_by_an_entry_point():
    folders = {p.name for p in importlib.resources.files("emotion.conf").iterdir() if p.is_dir()
               and not p.name.startswith("__")}
    assert folders == {g.split("/")[0] for groups in ROOT_GROUPS.values() for g in groups}


@pytest.mark.parametrize("root,group,option", [(r, g, o) for r, groups in ROOT_GROUPS.items() for g in groups
                                               for o in options(g)])
def test_every_option_composes_and_validates(root, group, option):
    overrides = [f"{group}={option}"]
    if option in NEEDS_ROOT or (group == "experiment" and option == "ferplus_cpu") or (
            root == "evaluate" and group != "data"):  # evaluate's default data is FER+
        overrides.append("data.root=/somewhere")
    if group == "hparams_search":  # a sweeper config: composed as the multirun composes it
        overrides.append("experiment=quickstart")
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


def test_schedule_lengths_come_from_the_data():
    cfg = make_cfg(["experiment=ferplus_cpu", "data.root=/x", "schedule.stages.scratch.epochs=30"])
    with pytest.raises(Exception, match="needs schedule.steps_per_epoch"):
        _ = cfg.schedule.stages.scratch.optimizer.learning_rate.decay_steps
    cfg.schedule.steps_per_epoch = 100
    schedule = cfg.schedule.stages.scratch.optimizer.learning_rate
    assert (schedule.warmup_steps, schedule.decay_steps) == (200, 2800)


def test_validation_does_not_change_the_config():
    cfg = make_cfg(["engine=keras"], config_name="infer")
    before = OmegaConf.to_yaml(cfg)
    validate(cfg, "infer")
    assert OmegaConf.to_yaml(cfg) == before and cfg.engine.backend == "keras"


def test_validation_in_python_raises_one_line():
    with pytest.raises(EmotionError, match=r"^config: augment.rotation must be <= 180, got 400$"):
        validate(make_cfg(["augment.rotation=400"]), "train")


# (entry point, arguments, what the one error line must say): wrong types, ranges, unknown choices,
# unknown keys and groups, missing values, sweeps; each refused before any data, model or run.
BAD_INPUT = [
    ("train", ["augment.rotation=abc"], "augment.rotation: Value 'abc'"),
    ("train", ["augment.rotation=400"], "augment.rotation must be <= 180"),
    ("train", ["schedule.batch_size=0"], "schedule.batch_size must be >= 1, got 0"),
    ("train", ["schedule.stages.head.epochs=-1"], "schedule.stages.head.epochs must be >= 0"),
    ("train", ["tracking.metric=eval_nope"], "tracking.metric: Invalid value 'eval_nope'"),
    ("train", ["tracking.metric=test_accuracy"], "expected one of [selection_accuracy, selection_macro_f1]"),
    ("train", ["tracking.promote=sometimes"], "tracking.promote: Invalid value 'sometimes'"),
    ("train", ["runtime.strategy=multi"], "runtime.strategy: Invalid value 'multi'"),
    ("train", ["runtime.precision=fp8"], "runtime.precision: Invalid value 'fp8'"),
    ("train", ["data=ferplus", "data.root=/x", "data.label_mode=vote"], "data.label_mode: Invalid value 'vote'"),
    ("train", ["data=folder"], "data.root is required"),
    ("train", ["data.val_split=0.6", "data.test_split=0.5"], "must be below 1"),
    ("train", ["augment.fill_mode=mirror"], "augment.fill_mode: Invalid value 'mirror'"),
    ("train", ["backbone.preprocessing=imagenet"], "backbone.preprocessing: Invalid value 'imagenet'"),
    ("train", ["schedule.monitor=accuracy"], "schedule.monitor must be one of val_accuracy"),
    ("train", ["schedule.class_weight=inverse"], "schedule.class_weight: Invalid value 'inverse'"),
    ("train", ["eval.bootstrap=-5"], "eval.bootstrap must be >= 0"),
    ("train", ["augment.rotatoin=25"], "Could not override 'augment.rotatoin'"),
    ("train", ["head=nonexistent"], "Could not find 'head/nonexistent'"),
    ("train", ["-m", "augment.rotation=0,abc"], "augment.rotation: Value 'abc'"),
    ("evaluate", ["via=nope"], "via: Invalid value 'nope'"),
    ("evaluate", ["engine=kears"], "Could not find 'engine/kears' Available options in 'engine': auto, keras, litert"),
    ("evaluate", ["data=synthetic", "eval.batch_size=0"], "eval.batch_size must be >= 1"),
    ("export", ["variants=[fp32,int4]"], "Invalid value 'int4'"),
    ("export", ["threads=0"], "threads must be >= 1"),
    ("export", ["representative_images=0"], "representative_images must be >= 1"),
    ("infer", ["engine=kears"], "Could not find 'engine/kears'"),
    ("infer", ["engine.variant=int4"], "engine.variant: Invalid value 'int4'"),
    ("infer", ["engine.threads=0"], "engine.threads must be >= 1"),
    ("infer", ["budget_s=-1"], "budget_s must be > 0"),
    ("infer", ["display=maybe"], "display must be auto, true or false"),
    ("infer", ["camera=-1"], "camera must be >= 0"),
    ("moments", ["stage=scroe"], "stage: Invalid value 'scroe'"),
    ("moments", ["fps=0"], "fps must be > 0"),
    ("moments", ["segments.min_len_s=20"], "segments.min_len_s 20 is above segments.max_len_s"),
    ("moments", ["engine.backend=onnx"], "engine.backend: Invalid value 'onnx'"),
]


@pytest.mark.parametrize("entry,args,message", BAD_INPUT, ids=[f"{e}:{' '.join(a)}" for e, a, _ in BAD_INPUT])
def test_bad_input_is_one_line_before_anything_happens(tmp_path, entry, args, message):
    result = run_cli(f"emotion.{entry}", *args, cwd=tmp_path, timeout=120)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr[-1500:]
    assert len(lines) == 1 and lines[0].startswith("error: config: "), result.stderr[-1500:]
    assert message in lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert not list(tmp_path.iterdir()), "nothing is written: no outputs folder, no MLflow store"


def test_flatten_gives_dotted_names():
    flat = flatten({"augment": {"rotation": 25, "brightness": [0.5, 1.0]}, "head": {"layers": [{"filters": 8}]},
                    "empty": {}})
    assert flat == {"augment.rotation": 25, "augment.brightness.0": 0.5, "augment.brightness.1": 1.0,
                    "head.layers.0.filters": 8, "empty": {}}
