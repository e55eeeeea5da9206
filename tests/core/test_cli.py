"""The command-line start of every entry point: bad values end in one line before anything happens."""

import pytest

from conftest import run_cli

# (entry point, arguments, what the one error line must say): wrong types, ranges, unknown choices,
# unknown keys and groups, missing values, sweeps; each refused before any data, model or run.
BAD_INPUT = [
    ("infer", ["source=my clip (1).mp4"], "a value with spaces, commas, brackets or parentheses is quoted"),
    ("moments", ["episode=a,b.mp4"], "episode=a,b.mp4 is a sweep, which only --multirun runs; a value with"),
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
    ("moments", ["stage=cut", "episode=e.mp4"], "stage=cut needs moments_json=<the edited moments.json>"),
    ("moments", ["stage=cut", "moments_json=m.json"], "stage=cut needs episode=<the episode video>"),
    ("moments", ["moments_json=m.json"], "moments_json is cut only by stage=cut, not stage=all"),
    ("moments", ["report.faces=-1"], "report.faces must be >= 0"),
    ("moments", ["fps=0"], "fps must be > 0"),
    ("moments", ["scoring.segments.min_len_s=20"], "segments.min_len_s 20 is above scoring.segments.max_len_s"),
    ("moments", ["engine.backend=onnx"], "engine.backend: Invalid value 'onnx'"),
    ("screen", [], "nothing to screen: give cameras=[<index>,...] and/or sources=[<video or URL>,...]"),
    ("screen", ["cameras=[0]", 'moments=["engine.threads=1"]'], "engine is set on emotion.screen itself"),
    ("screen", ["cameras=[0]", 'moments=["shots=nope"]'], "config: moments: In 'moments': Could not find 'shots/nope'"),
    ("screen", ["stage=moments", "cameras=[0]"], "stage=moments takes no cameras or sources"),
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
