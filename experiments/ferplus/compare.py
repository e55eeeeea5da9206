"""One table of FER+ recipes trained under the same budget and selection protocol: FER2013Valid and JAFFE.

    python experiments/ferplus/compare.py --row "compact VGG, scratch=RUN_ID:jaffe_compact.json" \\
        --row "dlib, fine-tuned=RUN_ID:jaffe_dlib.json" ...

Each row is a training run (its figures read from MLflow: the selection slice chose the epoch, FER2013Valid
chose nothing) and the JSON that `experiments/ferplus/jaffe.py --json` wrote for that run's model (JAFFE
through emotion.infer, reported only). Also the run's wall time, from its start to its test report.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

CLASSES = ("anger", "contempt", "disgust", "fear", "happy", "neutral", "sad", "surprise", "uncertain")
JAFFE_CLASSES = ("anger", "disgust", "fear", "happy", "neutral", "sad", "surprise")


def row(label: str, run_id: str, jaffe: dict | None) -> tuple[str, str]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    run = client.get_run(run_id)
    m = run.data.metrics
    # From the run's start to its test report: a later export reopens the run and moves its end time.
    minutes = (client.get_metric_history(run_id, "test_accuracy")[-1].timestamp - run.info.start_time) / 60000
    ferplus = (f"| {label} | {minutes:.0f} | {m['selection_accuracy']:.4f} | {m['test_accuracy']:.4f} "
               f"[{m['test_accuracy_ci_low']:.4f}, {m['test_accuracy_ci_high']:.4f}] | {m['test_macro_f1']:.3f} "
               f"[{m['test_macro_f1_ci_low']:.3f}, {m['test_macro_f1_ci_high']:.3f}] | "
               + " | ".join(f"{m[f'test_recall.{c}']:.2f}" for c in CLASSES) + " |")
    if jaffe is None:
        return ferplus, f"| {label} | (not measured) |" + " |" * len(JAFFE_CLASSES)
    recall = {c: f["correct"] / f["photos"] for c, f in jaffe["classes"].items()}
    return ferplus, (f"| {label} | {jaffe['accuracy']:.4f} | {jaffe['faces']} of {jaffe['photos']} | "
                     + " | ".join(f"{recall[c]:.2f}" for c in JAFFE_CLASSES) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--row", action="append", required=True, help="LABEL=RUN_ID[:JAFFE_JSON]; LABEL= if not run")
    parser.add_argument("--tracking-uri", default="sqlite:///mlflow.db")
    args = parser.parse_args()
    import mlflow

    mlflow.set_tracking_uri(args.tracking_uri)
    rows = []
    for spec in args.row:
        label, _, rest = spec.rpartition("=")
        run_id, _, jaffe = rest.partition(":")
        if not run_id:  # a recipe owed: its row says so rather than disappearing
            rows.append((f"| {label} | (not measured) |" + " |" * (3 + len(CLASSES)),
                         f"| {label} | (not measured) |" + " |" * (1 + len(JAFFE_CLASSES))))
            continue
        rows.append(row(label, run_id, json.loads(Path(jaffe).read_text()) if jaffe else None))
    print("| recipe | wall min | selection acc (chose) | FER2013Valid acc [95%] | macro-F1 [95%] | "
          + " | ".join(f"recall {c}" for c in CLASSES) + " |")
    print("|" + "---|" * (5 + len(CLASSES)))
    print("\n".join(r[0] for r in rows))
    print("\n| recipe | JAFFE acc (reported only) | face found | " + " | ".join(f"recall {c}" for c in JAFFE_CLASSES)
          + " |")
    print("|" + "---|" * (3 + len(JAFFE_CLASSES)))
    print("\n".join(r[1] for r in rows))


if __name__ == "__main__":
    main()
