"""Print the FER+ report tables from MLflow (numbers come from the runs, not from memory).

    python experiments/ferplus/report.py [--tracking-uri sqlite:///mlflow.db] [--model emotion-ferplus]

The training run gives the selection split's figures (a tenth of FER2013Train: it
chose the epoch and the champion) and the test split's (FER2013Valid, evaluated
once, chose nothing), with bootstrap 95% intervals, the 8-class protocol of the
FER+ paper, per-class figures and the LiteRT variants; the `evaluation`
experiment gives the same model's test figures through each `via` path.
"""

from __future__ import annotations

import argparse
import datetime as dt

import mlflow
from mlflow.tracking import MlflowClient


def interval(metrics: dict, key: str) -> str:
    low, high = metrics.get(f"{key}_ci_low"), metrics.get(f"{key}_ci_high")
    return f"{metrics[key]:.4f} [{low:.4f}, {high:.4f}]" if low is not None else f"{metrics[key]:.4f}"


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
    m, params = run.data.metrics, run.data.params
    rep = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/test_report.json")
    # From the run's start to its last report: later exports reopen the run and move its end time.
    reported = client.get_metric_history(run.info.run_id, "test_accuracy")[-1].timestamp
    history = client.get_metric_history(run.info.run_id, "val_accuracy")
    widths = [params[k] for k in sorted(params) if k.startswith("backbone.net.widths.")]

    print(f"run `{run.info.run_id}` ({run.info.run_name}), model `models:/{args.model}/{version.version}` "
          f"(alias `{args.alias}`), started {dt.datetime.fromtimestamp(run.info.start_time / 1000):%Y-%m-%d %H:%M}")
    print(f"\ntraining wall time (run start to the test report): {(reported - run.info.start_time) / 60000:.1f} min; "
          f"epochs: {len(history)}; threads {run.data.tags.get('runtime.effective_intra_op_threads')}; "
          f"precision {params.get('runtime.precision')}")
    print(f"label mode `{params.get('data.label_mode')}`, backbone `{params.get('backbone.net._target_')}` "
          f"widths {widths}, input {params.get('backbone.input_size')} px, batch {params.get('schedule.batch_size')}, "
          f"TTA flip `{params.get('eval.tta_flip')}`, training images {m.get('data.train_images', 0):.0f}\n")
    print("| split | images | accuracy [95% interval] | macro-F1 [95% interval] |\n|---|---|---|---|")
    print(f"| selection (a tenth of FER2013Train; chose the epoch) | {m['selection_images']:.0f} | "
          f"{interval(m, 'selection_accuracy')} | {interval(m, 'selection_macro_f1')} |")
    print(f"| test: FER2013Valid, 9 classes, majority vote (chose nothing) | {m['test_images']:.0f} | "
          f"{interval(m, 'test_accuracy')} | {interval(m, 'test_macro_f1')} |")
    if "test_without_uncertain_accuracy" in m:
        print(f"| test: FER2013Valid, FER+ paper's 8 classes | {rep['without_uncertain']['n']} | "
              f"{interval(m, 'test_without_uncertain_accuracy')} | {m['test_without_uncertain_macro_f1']:.4f} |")
    print("\nFER2013Valid per class\n\n| class | precision | recall | F1 | support |\n|---|---|---|---|---|")
    for name, c in rep["per_class"].items():
        print(f"| {name} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']} |")
    classes = rep["classes"]
    print("\nConfusion matrix on FER2013Valid (rows: true, columns: predicted)\n")
    print("| | " + " | ".join(c[:5] for c in classes) + " |")
    print("|" + "---|" * (len(classes) + 1))
    for name, row in zip(classes, rep["confusion_matrix"]):
        print(f"| **{name}** | " + " | ".join(str(v) for v in row) + " |")

    evaluations = mlflow.search_runs(experiment_names=["evaluation"], output_format="list",
                                     filter_string=f"params.model = 'models:/{args.model}@{args.alias}'")
    if evaluations:
        print("\n`python -m emotion.evaluate` on the same model and split\n")
        print("| via | runtime | split | images | accuracy [95% interval] | macro-F1 |\n|---|---|---|---|---|---|")
        for e in sorted(evaluations, key=lambda r: r.info.start_time):
            split = e.data.params["split"]
            print(f"| {e.data.params.get('via')} | {e.data.params.get('runtime')} | {split} | "
                  f"{e.data.metrics[f'{split}_images']:.0f} | {interval(e.data.metrics, f'{split}_accuracy')} | "
                  f"{e.data.metrics[f'{split}_macro_f1']:.4f} |")
    if any(k.startswith("litert_") for k in m):
        print("\n| LiteRT | selection accuracy | test accuracy | test macro-F1 | test agreement with Keras | MB |")
        print("|---|---|---|---|---|---|")
        for variant in ("keras", "fp32", "dynamic", "int8"):
            if f"litert_{variant}_test_accuracy" in m:
                print(f"| {variant} | {m[f'litert_{variant}_selection_accuracy']:.4f} | "
                      f"{m[f'litert_{variant}_test_accuracy']:.4f} | {m[f'litert_{variant}_test_macro_f1']:.4f} | "
                      f"{m.get(f'litert_{variant}_test_agreement', 1.0):.4f} | "
                      f"{m.get(f'litert_{variant}_size_mb', float('nan')):.2f} |")


if __name__ == "__main__":
    main()
