"""Print the FER+ report tables from the MLflow run (numbers come from the run, not from memory).

    python experiments/ferplus/report.py [--tracking-uri sqlite:///mlflow.db] [--model emotion-ferplus]
"""

from __future__ import annotations

import argparse
import datetime as dt

import mlflow
from mlflow.tracking import MlflowClient


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", default="sqlite:///mlflow.db")
    parser.add_argument("--model", default="emotion-ferplus")
    parser.add_argument("--alias", default="champion")
    args = parser.parse_args()

    mlflow.set_tracking_uri(args.tracking_uri)
    client = MlflowClient()
    version = client.get_model_version_by_alias(args.model, args.alias)
    run = client.get_run(version.run_id)
    rep = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/eval_report.json")
    # From the run's start to its final evaluation: later exports reopen the run and move its end time.
    evaluated = client.get_metric_history(run.info.run_id, "eval_accuracy")[-1].timestamp
    wall = (evaluated - run.info.start_time) / 1000
    history = client.get_metric_history(run.info.run_id, "val_accuracy")
    params = run.data.params
    widths = [params[k] for k in sorted(params) if k.startswith("backbone.net.widths.")]

    print(f"run `{run.info.run_id}` ({run.info.run_name}), model `models:/{args.model}/{version.version}` "
          f"(alias `{args.alias}`), started {dt.datetime.fromtimestamp(run.info.start_time / 1000):%Y-%m-%d %H:%M}")
    print(f"\ntraining wall time (run start to final evaluation): {wall / 60:.1f} min; epochs: {len(history)}; "
          f"best epoch val_accuracy (Keras, no flip): {max(m.value for m in history):.4f}")
    print(f"label mode `{params.get('data.label_mode')}`, backbone `{params.get('backbone.net._target_')}` "
          f"widths {widths}, input {params.get('backbone.input_size')} px, "
          f"batch {params.get('schedule.batch_size')}, TTA flip `{params.get('eval.tta_flip')}`\n")
    print("| FER2013Valid | value |\n|---|---|")
    print(f"| majority-vote accuracy | {rep['accuracy']:.4f} |\n| macro-F1 | {rep['macro_f1']:.4f} |")
    print("\n| class | precision | recall | F1 | support |\n|---|---|---|---|---|")
    for name, m in rep["per_class"].items():
        print(f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |")
    classes = rep["classes"]
    print("\nConfusion matrix (rows: true, columns: predicted)\n")
    print("| | " + " | ".join(c[:5] for c in classes) + " |")
    print("|" + "---|" * (len(classes) + 1))
    for name, row in zip(classes, rep["confusion_matrix"]):
        print(f"| **{name}** | " + " | ".join(str(v) for v in row) + " |")
    litert = {k: v for k, v in run.data.metrics.items() if k.startswith("litert_")}
    if litert:
        print("\n| LiteRT | accuracy | macro-F1 | agreement with Keras | size MB |\n|---|---|---|---|---|")
        for variant in ("keras", "fp32", "dynamic", "int8"):
            if f"litert_{variant}_accuracy" in litert:
                print(f"| {variant} | {litert[f'litert_{variant}_accuracy']:.4f} | "
                      f"{litert[f'litert_{variant}_macro_f1']:.4f} | "
                      f"{litert.get(f'litert_{variant}_agreement', 1.0):.4f} | "
                      f"{litert.get(f'litert_{variant}_size_mb', float('nan')):.2f} |")


if __name__ == "__main__":
    main()
