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


def not_measured(label: str, columns: int) -> str:
    """A recipe owed: its row says so, with the table's number of cells, rather than disappearing."""
    return f"| {label} | (not measured) |" + " |" * (columns - 2)


def header(names: list[str]) -> str:
    return "| " + " | ".join(names) + " |\n|" + "---|" * len(names)


def ferplus_row(label: str, run_id: str, classes: list[str]) -> str:
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    run = client.get_run(run_id)
    m = run.data.metrics
    # From the run's start to its test report: a later export reopens the run and moves its end time.
    minutes = (client.get_metric_history(run_id, "test_accuracy")[-1].timestamp - run.info.start_time) / 60000
    return (f"| {label} | {minutes:.0f} | {m['selection_accuracy']:.4f} | {m['test_accuracy']:.4f} "
            f"[{m['test_accuracy_ci_low']:.4f}, {m['test_accuracy_ci_high']:.4f}] | {m['test_macro_f1']:.3f} "
            f"[{m['test_macro_f1_ci_low']:.3f}, {m['test_macro_f1_ci_high']:.3f}] | "
            + " | ".join(f"{m[f'test_recall.{c}']:.2f}" for c in classes) + " |")


def jaffe_row(label: str, jaffe: dict, classes: list[str]) -> str:
    recall = {c: f["correct"] / f["photos"] for c, f in jaffe["classes"].items()}
    return (f"| {label} | {jaffe['accuracy']:.4f} | {jaffe['faces']} of {jaffe['photos']} | "
            + " | ".join(f"{recall[c]:.2f}" for c in classes) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--row", action="append", required=True, help="LABEL=RUN_ID[:JAFFE_JSON]; LABEL= if not run")
    parser.add_argument("--tracking-uri", default="sqlite:///mlflow.db")
    args = parser.parse_args()
    import mlflow

    from emotion.core.config import compose_config

    mlflow.set_tracking_uri(args.tracking_uri)
    classes = list(compose_config("train", ["data=ferplus"]).data.classes)
    runs = []
    for spec in args.row:
        label, _, rest = spec.rpartition("=")
        run_id, _, jaffe = rest.partition(":")
        try:
            runs.append((label, run_id, json.loads(Path(jaffe).read_text()) if jaffe else None))
        except (OSError, ValueError) as e:
            raise SystemExit(f"error: --row {spec!r}: JAFFE figures {jaffe} unreadable ({e})") from None
    # JAFFE has 7 of the 9 classes: its columns are the ones its photos have, in FER+'s order.
    jaffe_classes = [c for c in classes if any(j and c in j["classes"] for _, _, j in runs)]
    ferplus = ["recipe", "wall min", "selection acc (chose)", "FER2013Valid acc [95%]", "macro-F1 [95%]",
               *(f"recall {c}" for c in classes)]
    print(header(ferplus))
    for label, run_id, _ in runs:
        try:
            print(ferplus_row(label, run_id, classes) if run_id else not_measured(label, len(ferplus)))
        except mlflow.exceptions.MlflowException as e:
            raise SystemExit(f"error: run {run_id}: {e.message.splitlines()[0]} ({args.tracking_uri})") from None
        except (KeyError, IndexError):
            raise SystemExit(f"error: run {run_id} has no test report: train it to the end first") from None
    jaffe = ["recipe", "JAFFE acc (reported only)", "face found", *(f"recall {c}" for c in jaffe_classes)]
    print("\n" + header(jaffe))
    for label, _, figures in runs:
        print(jaffe_row(label, figures, jaffe_classes) if figures else not_measured(label, len(jaffe)))


if __name__ == "__main__":
    main()
