"""Ship a trained model inside the package (`model=packaged`): its accepted LiteRT export, metadata and model card.

    python experiments/package_model.py --model models:/emotion-ferplus@champion --jaffe jaffe.json

Everything is read from the model's training run, nothing is typed by hand: the LiteRT file that
`python -m emotion.export` accepted (`--variant`, int8 by default), the classes, input size and preprocessing,
the command (Hydra's overrides), code version and git commit that made it, and its figures: selection slice,
FER2013Valid (accuracy and macro-F1 with their intervals, per-class recall) and the exported file's own. The
JAFFE figures come from `experiments/ferplus/jaffe.py --json` (reported only). Writes into
src/emotion/inference/models/: emotion_model.json, the .tflite file and MODEL_CARD.md, replacing the model
shipped before.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import yaml

MODELS = Path(__file__).resolve().parents[1] / "src" / "emotion" / "inference" / "models"
METADATA = "emotion_model.json"
KNOWN_WEAKNESSES = """\
- Trained on FER2013's faces: 48x48 gray crops found by a web search, mostly frontal, posed or acted; few
  children and older people; no faces turned far away. A viewer in profile, in the dark or behind a hand is
  read less well than these figures say.
- The rare classes are where it fails first: contempt, disgust and fear have a few hundred training faces
  each (of 24,399) and `uncertain` is the annotators' own doubt, not an expression; read their recall below
  before trusting a moment made of them.
- It sees one face crop at a time (the detector's square crop with a margin): no context, no sound, no
  motion beyond the tracker's smoothing of the last frames.
- JAFFE (Japanese women posing, another source) shows how it does on faces it never saw; it chose nothing."""


def run_facts(uri: str) -> dict:
    import mlflow
    from mlflow.tracking import MlflowClient

    from emotion.tracking.lookup import model_metadata, run_id_of

    run_id = run_id_of(uri)
    run = MlflowClient().get_run(run_id)
    with tempfile.TemporaryDirectory() as tmp:
        overrides = yaml.safe_load(Path(mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="config/hydra/overrides.yaml", dst_path=tmp)).read_text())
    return {"run": run, "run_id": run_id, "meta": model_metadata(uri), "overrides": overrides}


def litert_file(run_id: str, variant: str) -> Path:
    import mlflow

    from emotion.inference.litert import artifact_path
    from emotion.tracking.lookup import exported_variants

    if variant not in exported_variants(run_id):
        raise SystemExit(f"error: run {run_id} has no accepted LiteRT {variant}: run python -m emotion.export first")
    return Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact_path(variant)))


def figures(run, classes: list[str], variant: str) -> dict:
    m = run.data.metrics

    def interval(prefix):
        return [round(m[f"{prefix}_ci_low"], 4), round(m[f"{prefix}_ci_high"], 4)]

    return {
        "selection": {"accuracy": round(m["selection_accuracy"], 4), "macro_f1": round(m["selection_macro_f1"], 4)},
        "ferplus_valid": {"accuracy": round(m["test_accuracy"], 4), "accuracy_ci95": interval("test_accuracy"),
                          "macro_f1": round(m["test_macro_f1"], 4), "macro_f1_ci95": interval("test_macro_f1"),
                          "recall": {c: round(m[f"test_recall.{c}"], 3) for c in classes}},
        f"litert_{variant}": {"selection_accuracy": round(m[f"litert_{variant}_selection_accuracy"], 4),
                              "ferplus_valid_accuracy": round(m[f"litert_{variant}_test_accuracy"], 4),
                              "ferplus_valid_macro_f1": round(m[f"litert_{variant}_test_macro_f1"], 4)},
    }


def card(meta: dict, jaffe: dict | None) -> str:
    f, src = meta["figures"], meta["source"]
    exported = f[f"litert_{meta['variant']}"]
    tta = ", averaged with the mirrored face" if meta.get("tta_flip") else ""
    lines = [
        "# The packaged emotion model", "",
        f"`model=packaged` (and `model=best` when the MLflow store holds no model trained on real data) runs "
        f"`{meta['file']}`: a LiteRT {meta['variant']} network, {meta['input_size']} px {meta['color']} faces, "
        f"{len(meta['classes'])} classes ({', '.join(meta['classes'])}), preprocessing `{meta['preprocessing']}` "
        "inside the network (plain RGB pixels in).", "",
        "## How it was made", "",
        f"- command: `python -m emotion.train {' '.join(src['overrides'])}`",
        f"- training run `{src['run_id']}` (registered as `{src['model']}`), code version `{src['code_version']}`, "
        f"git commit `{src['git_commit']}`; exported with `python -m emotion.export` and accepted by its gate",
        f"- sha256 of the file: `{meta['sha256']}`", "",
        "## Training data and licences", "",
        "- FER+ labels (Microsoft, MIT licence) on the FER2013 faces (the FER2013 challenge images, distributed for "
        "research: check their terms before commercial use of this model);",
        *(["- the backbone started from dlib's face-recognition ResNet (Davis King, CC0), from PyPI's "
           "face-recognition-models 0.3.0"] if "dlib" in meta["backbone"] else []),
        "- JAFFE was never used to train or choose anything; it is only reported below.", "",
        "## How well it does (figures from the training run)", "",
        "| data | accuracy | macro-F1 |", "|---|---|---|",
        f"| selection slice (a tenth of FER2013Train; chose the epoch: in-sample) | {f['selection']['accuracy']} | "
        f"{f['selection']['macro_f1']} |",
        f"| FER2013Valid, 9 classes (chose nothing; the Keras model{tta}) | {f['ferplus_valid']['accuracy']} "
        f"{f['ferplus_valid']['accuracy_ci95']} | {f['ferplus_valid']['macro_f1']} "
        f"{f['ferplus_valid']['macro_f1_ci95']} |",
        f"| FER2013Valid, this {meta['variant']} file (one pass, as `emotion.infer` runs it) | "
        f"{exported['ferplus_valid_accuracy']} | "
        f"{exported['ferplus_valid_macro_f1']} |",
    ]
    if jaffe:
        lines.append(f"| JAFFE through `emotion.infer` (213 photos, faces found in {jaffe['faces']}; reported only) | "
                     f"{jaffe['accuracy']:.4f} | |")
    lines += ["", "Recall per class (FER2013Valid" + (", JAFFE" if jaffe else "") + "):", "",
              "| class | FER2013Valid | " + ("JAFFE |" if jaffe else ""), "|---|---|" + ("---|" if jaffe else "")]
    for c in meta["classes"]:
        row = f"| {c} | {f['ferplus_valid']['recall'][c]} |"
        if jaffe:
            got = jaffe["classes"].get(c)
            row += f" {got['correct'] / got['photos']:.2f} |" if got else " (none in JAFFE) |"
        lines.append(row)
    blind = [c for c in meta["classes"] if f["ferplus_valid"]["recall"][c] < 0.05]
    lines += ["", "## Known weaknesses", "", KNOWN_WEAKNESSES]
    if blind:
        lines.append(f"- This model all but never says {', '.join(blind)} (recall under 0.05 on FER2013Valid): a "
                     "moment will not be made of them.")
    lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models:/emotion-ferplus@champion")
    parser.add_argument("--variant", default="int8")
    parser.add_argument("--jaffe", type=Path, help="the JSON of experiments/ferplus/jaffe.py for this model")
    args = parser.parse_args()
    facts = run_facts(args.model)
    run, meta = facts["run"], facts["meta"]
    source = litert_file(facts["run_id"], args.variant)
    name = f"emotion_{meta['data']}_{args.variant}.tflite"
    params = run.data.params
    shipped = {
        "file": name, "variant": args.variant, "classes": list(meta["classes"]), "input_size": meta["input_size"],
        "preprocessing": meta["preprocessing"], "color": params.get("backbone.color", "rgb"),
        "backbone": params.get("backbone.net._target_", ""), "tta_flip": params.get("eval.tta_flip") == "True",
        "sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "source": {"run_id": facts["run_id"], "model": args.model, "overrides": facts["overrides"],
                   "code_version": run.data.tags.get("emotion.code_version"),
                   "git_commit": run.data.tags.get("git_commit")},
        "figures": figures(run, list(meta["classes"]), args.variant),
    }
    jaffe = json.loads(args.jaffe.read_text()) if args.jaffe else None
    if jaffe:
        shipped["figures"]["jaffe"] = {"accuracy": round(jaffe["accuracy"], 4), "faces": jaffe["faces"],
                                       "photos": jaffe["photos"]}
    for old in MODELS.glob("emotion_*.tflite"):
        old.unlink()
    shutil.copyfile(source, MODELS / name)
    (MODELS / METADATA).write_text(json.dumps(shipped, indent=1) + "\n")
    (MODELS / "MODEL_CARD.md").write_text(card(shipped, jaffe))
    print(f"packaged {args.model} ({args.variant}, {(MODELS / name).stat().st_size / 1e6:.2f} MB) into {MODELS}")


if __name__ == "__main__":
    main()
