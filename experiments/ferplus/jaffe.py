"""A model on JAFFE through the product path, reported only: `emotion.infer` with its default detector.

    python experiments/ferplus/jaffe.py --model models:/emotion-ferplus@champion [--root ../shared/data/jaffe]

JAFFE (../shared/data/jaffe, read its README: 213 posed photos of 10 women, 7 of our classes) is faces from
another source than FER+. It chooses nothing: no epoch, threshold, recipe or champion is picked on it; this
script only measures. One `python -m emotion.infer` run per class folder (display off, a per-frame CSV): a
photo is recognised when the largest face found in it carries the folder's label, missed when it does not,
and counted as missed (and as "no face") when the detector finds none. Prints a table; `--json` keeps it.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def largest_faces(rows: list[dict]) -> dict[int, str]:
    """Per photo (frame), the label of its largest face; photos without a face are absent."""
    best: dict[int, tuple[int, str]] = {}
    for row in rows:
        if not row["label"]:
            continue
        frame, area = int(row["frame"]), int(row["w"]) * int(row["h"])
        if area > best.get(frame, (-1, ""))[0]:
            best[frame] = (area, row["label"])
    return {frame: label for frame, (_, label) in best.items()}


def classify_folder(folder: Path, model: str, extra: list[str], work: Path) -> tuple[int, int, int]:
    """(photos, photos with a face, photos recognised as the folder's class)."""
    out = work / f"{folder.name}.csv"
    command = [sys.executable, "-m", "emotion.infer", f"source={folder}", f"model={model}", "display=false",
               f"output.csv={out}", f"output.summary={work / (folder.name + '.json')}", *extra]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"error: emotion.infer on {folder} failed: {done.stderr.strip().splitlines()[-1]}")
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    photos = len({int(row["frame"]) for row in rows})
    labels = largest_faces(rows)
    return photos, len(labels), sum(label == folder.name for label in labels.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models:/emotion-ferplus@champion")
    parser.add_argument("--root", default="../shared/data/jaffe")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("overrides", nargs="*", help="more emotion.infer overrides, e.g. engine=keras")
    args = parser.parse_args()
    root = Path(args.root)
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if not folders:
        raise SystemExit(f"error: no class folders in {root}")
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for folder in folders:
            figures[folder.name] = dict(zip(("photos", "faces", "correct"),
                                            classify_folder(folder, args.model, args.overrides, Path(tmp))))
    photos = sum(f["photos"] for f in figures.values())
    correct = sum(f["correct"] for f in figures.values())
    faces = sum(f["faces"] for f in figures.values())
    print(f"{args.model} on JAFFE via emotion.infer {' '.join(args.overrides)}: {photos} photos, a face found in "
          f"{faces}, accuracy {correct / photos:.4f}")
    print("| class | photos | face found | recall |\n|---|---|---|---|")
    for name, f in figures.items():
        print(f"| {name} | {f['photos']} | {f['faces']} | {f['correct'] / f['photos']:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"model": args.model, "photos": photos, "faces": faces,
                                               "accuracy": correct / photos, "classes": figures}, indent=1))


if __name__ == "__main__":
    main()
