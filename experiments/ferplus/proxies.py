"""Proxy runs of the FER+ recipe, one technique each, judged on the selection slice only; prints the table.

    python experiments/ferplus/proxies.py --root ../shared/data/ferplus [--epochs 4] [--only ema erase]

Every row is `python -m emotion.train experiment=ferplus_cpu` cut to the same number of epochs (one warm-up
epoch, then the cosine decay) with one change, each its own process, tracked in the `ferplus-proxy`
experiment under `emotion-ferplus-proxy` (never promoted). The table shows the selection slice's
figures: accuracy and macro-F1 at prior shift tau 0 (the network as trained), the tau the recipe's rule
would choose (best selection macro-F1 within `eval.prior_shift_max_drop` accuracy points) and its
figures, the recall of the three rarest classes, and the wall time. FER2013Valid is evaluated by every
run (the runner always reports its test split) but is not read here: nothing is chosen on it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

TAUS = "eval.prior_shift=[0.0,0.25,0.5,0.75,1.0]"
LEARNING_RATE = "schedule.stages.scratch.optimizer.learning_rate"
TECHNIQUES = {
    "baseline": [],
    "ema": ["schedule.ema_momentum=0.995"],
    "erase": ["augment.erase=0.5"],
    "sqrt class weights": ["schedule.class_weight=sqrt"],
    "narrower (24-192)": ["backbone.net.widths=[24,48,96,192]"],
}
RARE = ("contempt", "disgust", "fear")


def run(name: str, overrides: list[str], root: str, epochs: int, log_dir: Path) -> float:
    command = [sys.executable, "-m", "emotion.train", "experiment=ferplus_cpu", f"data.root={root}",
               f"schedule.stages.scratch.epochs={epochs}", "tracking.experiment=ferplus-proxy",
               "tracking.model_name=emotion-ferplus-proxy", "tracking.promote=never", TAUS,
               f"{LEARNING_RATE}.warmup_steps=${{steps:1}}", f"{LEARNING_RATE}.decay_steps=${{steps:{epochs - 1}}}",
               *overrides]
    start = time.perf_counter()
    with open(log_dir / f"{name.replace(' ', '_')}.log", "w") as log:
        done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode:
        raise SystemExit(f"error: {name} failed (exit {done.returncode}), see {log_dir}")
    return time.perf_counter() - start


def table(names: list[str]) -> None:
    import mlflow

    mlflow.set_tracking_uri("sqlite:///mlflow.db")
    runs = mlflow.search_runs(experiment_names=["ferplus-proxy"], output_format="list",
                              order_by=["attributes.start_time DESC"])
    print("| technique | selection acc (tau 0) | macro-F1 (tau 0) | tau chosen | acc | macro-F1 | "
          + " | ".join(f"recall {c}" for c in RARE) + " | wall min |")
    print("|" + "---|" * (7 + len(RARE)))
    for name in names:
        run = next((r for r in runs if r.data.tags.get("proxy") == name), None)
        if run is None:
            continue
        m, tau = run.data.metrics, float(run.data.params.get("prior_shift.tau", 0))
        recalls = " | ".join(f"{m.get(f'selection_recall.{c}', float('nan')):.2f}" for c in RARE)
        print(f"| {name} | {m['prior_shift.selection_accuracy.tau_0']:.4f} | "
              f"{m['prior_shift.selection_macro_f1.tau_0']:.4f} | {tau:g} | {m['selection_accuracy']:.4f} | "
              f"{m['selection_macro_f1']:.4f} | {recalls} | {float(run.data.tags.get('proxy_wall_s', 0)) / 60:.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="../shared/data/ferplus")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--only", nargs="*", choices=list(TECHNIQUES))
    parser.add_argument("--table", action="store_true", help="only print the table of runs already made")
    args = parser.parse_args()
    names = args.only or list(TECHNIQUES)
    if not args.table:
        import mlflow

        log_dir = Path("proxy_logs")
        log_dir.mkdir(exist_ok=True)
        for name in names:
            wall = run(name, TECHNIQUES[name], args.root, args.epochs, log_dir)
            mlflow.set_tracking_uri("sqlite:///mlflow.db")
            latest = mlflow.search_runs(experiment_names=["ferplus-proxy"], output_format="list", max_results=1,
                                        order_by=["attributes.start_time DESC"])[0]
            mlflow.MlflowClient().set_tag(latest.info.run_id, "proxy", name)
            mlflow.MlflowClient().set_tag(latest.info.run_id, "proxy_wall_s", f"{wall:.0f}")
            print(f"{name}: {wall / 60:.1f} min", file=sys.stderr, flush=True)
    table(names)


if __name__ == "__main__":
    main()
