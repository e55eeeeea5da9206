"""The episode's timeline as files: `timeline.csv` (per second: each emotion's cross-viewer mean, the score,
the viewers present), read back by a re-cut, and `timeline.png`."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend that needs no display
import numpy as np  # noqa: E402

from emotion.core.errors import EmotionError  # noqa: E402
from emotion.core.outputs import atomic  # noqa: E402


def write_timeline(path: Path, timeline: dict, classes: list[str]) -> None:
    with atomic(path) as partial, open(partial, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["second", *classes, "score", "viewers_present"])
        for s, (shares, score, present) in enumerate(zip(timeline["shares"], timeline["score"],
                                                         timeline["present"])):
            writer.writerow([s, *[f"{v:.4f}" if not np.isnan(v) else "" for v in shares], f"{score:.4f}",
                             int(present)])


def read_timeline(path: Path) -> tuple[dict, list[str]]:
    """(the timeline, its classes) from a `timeline.csv` that `write_timeline` wrote."""
    try:
        with open(path, newline="") as f:
            head, *rows = list(csv.reader(f))
        classes = head[1:-2]
        shares = np.array([[float(v) if v else np.nan for v in row[1:-2]] for row in rows], dtype=float)
        timeline = {"shares": shares.reshape(len(rows), len(classes)), "score": np.array([float(r[-2]) for r in rows]),
                    "present": np.array([int(r[-1]) for r in rows])}
    except (OSError, ValueError, IndexError) as e:
        raise EmotionError(f"cannot read the screening's timeline {path}: {e}") from None
    if head[:1] != ["second"] or head[-2:] != ["score", "viewers_present"] or not rows:
        raise EmotionError(f"cannot read the screening's timeline {path}: not a timeline.csv of emotion.moments")
    return timeline, classes


def plot_timeline(shares: np.ndarray, classes: list[str], score: np.ndarray, moments: list[dict], path: Path) -> None:
    seconds = np.arange(len(score))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6), sharex=True, height_ratios=[2, 1])
    top.stackplot(seconds, np.nan_to_num(shares).T, labels=classes, alpha=0.85)
    top.set_ylabel("mean emotion share")
    top.legend(loc="upper left", ncol=len(classes), fontsize=7)
    bottom.plot(seconds, score, color="black")
    bottom.set_ylabel("spectacle score")
    bottom.set_xlabel("episode time (s)")
    for m in moments:
        bottom.axvspan(m["start_s"], m["end_s"], color="orange", alpha=0.3)
        for edge in (m["start_s"], m["end_s"]):
            top.axvline(edge, color="black", linestyle="--", linewidth=0.8)
    fig.tight_layout()
    with atomic(path) as partial:
        fig.savefig(partial, dpi=100)
    plt.close(fig)
